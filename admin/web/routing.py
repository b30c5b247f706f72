"""What every admin route module needs from the admin web, without importing the app that registers it.

Route modules importing admin/web/app.py (which names them) made every page part of one import cycle (issue 21).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def add_security_headers(response: Response) -> Response:
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    return response


class AdminRoute(APIRoute):
    """Every admin response carries the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return add_security_headers(await original(request))

        return handler


def redirect(path: str, msg: str = "") -> RedirectResponse:
    """303 to an admin path, optionally with a message key from MESSAGES."""
    target = path + (("&" if "?" in path else "?") + f"msg={msg}" if msg else "")
    return add_security_headers(RedirectResponse(target, status_code=303))  # type: ignore[return-value]
