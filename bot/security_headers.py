"""Response headers every page and API answer of the one ASGI app carries (issue 22, item 11).

Owns: nosniff everywhere, no-store on everything but the chat's static assets (answers repeat a young person's
words), and Strict-Transport-Security when the public URL is https. Must not: change bodies or status codes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

HSTS = "max-age=31536000; includeSubDomains"
# Fixed files with no personal content: the browser may keep them.
CACHEABLE_PREFIXES = ("/static/",)


def install(app: FastAPI, *, https: bool) -> None:
    """Add the headers to every response of `app` (headers a route already set are kept)."""

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.url.path.startswith(CACHEABLE_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
