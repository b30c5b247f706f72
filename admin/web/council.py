"""The admin web serves the council of whoever is signed in (issue 26 item 4).

One ASGI layer, before any route: an /admin request carrying a staff session cookie runs, start to end, for
the council that staff account belongs to (bot/tenant.serving: the database's filter and row-level security,
and the council's own districts and labels). No route chooses a council itself. A request with no session
(the sign-in page) runs for the deployment's own council until the sign-in names the account's.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.web.auth import SESSION_COOKIE, hash_id
from bot import tenant


class CouncilOfSession:
    def __init__(self, app: ASGIApp, *, engine: Any, prefix: str = "/admin") -> None:
        self.app = app
        self.engine = engine
        self.prefix = prefix

    def _council(self, raw: str) -> str | None:
        council = tenant.council_of_staff_session(self.engine, hash_id(raw))
        if council is not None:
            tenant.content_of(self.engine, council)  # read (and keep) its file here, off the event loop
        return council

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        council = await to_thread.run_sync(self._council, raw) if raw and len(raw) <= 200 else None
        if council is None:
            await self.app(scope, receive, send)
            return
        with tenant.serving(self.engine, council):
            await self.app(scope, receive, send)
