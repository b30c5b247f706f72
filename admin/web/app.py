"""The staff admin web, mounted under /admin on the shared ASGI app: `mount(app, rt)`.

Owns wiring only: the AdminWeb holder (engine, clock, templates, auth), the route modules, error pages and
security headers. Pages live in admin/web/routes/, policies in policy.py, sessions in auth.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin.actions.policy import DISTRICTS, ROLES
from admin.actions.staff import password_hasher
from admin.reports.staff_counts import lone
from admin.web.auth import AdminAuth, AdminHostGuard, allowed_hosts, own_urls
from admin.web.council import CouncilOfSession
from admin.web.policy import Ctx, LoginRequired, Policy, check_routes, policy_of
from admin.web.routes import (
    alerts,
    approvals,
    audit_log,
    cards,
    dashboard,
    events,
    invites,
    login,
    reports,
    requests,
    responses,
    staff,
    themes,
    to_read,
    topics,
    waves,
)
from admin.web.routing import HERE, SECURITY_HEADERS, AdminRoute, add_security_headers, redirect  # noqa: F401
from storage.db import session as db_session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.admin")
PREFIX = "/admin"

# Route modules, in nav order. Each exposes `router` (an APIRouter of AdminRoute) and may expose
# NAV = "Label" (its list page is PREFIX + path of its first GET route).
ROUTE_MODULES: tuple[ModuleType, ...] = (
    login,
    dashboard,
    topics,
    cards,
    events,
    alerts,
    to_read,
    requests,
    responses,
    approvals,
    invites,
    waves,
    reports,
    themes,
    audit_log,
    staff,
)


# Messages shown after an action, by key (never echo free text from the query string).
MESSAGES = {
    "signed_out": "You have signed out.",
    "expired": "Your session ended. Please sign in again.",
    "published": "The topic is published.",
    "closed": "Closed.",
    "saved": "Saved.",
    "acknowledged": "Alert acknowledged. Please record the outcome when you have acted on it.",
    "alert_closed": "Alert closed with its outcome recorded.",
    "reply_queued": "Your message is on its way to the young person in their own chat (recorded in the audit log).",
    "marked_read": "Marked as read.",
    "alert_raised": "Safeguarding alert raised: the duty rota has been emailed.",
    "approved": "Approved.",
    "rejected": "Rejected.",
    "quote_withdrawn": "Not approved: the risk check flagged this quote's wording, so it was withdrawn from "
    "reports and a safeguarding alert was raised.",
    "created": "Created.",
    "opened": "Opened.",
    "entered": "Response entered. Thank you.",
    "password_changed": "Your password is changed. Other sessions were signed out.",
    "moved": "Card moved.",
    "routed": "Card routed.",
    "request_acknowledged": "Request acknowledged.",
    "request_replied": "Your message is on its way to them in their own chat (recorded in the audit log).",
    "request_closed": "Request closed with its outcome recorded.",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    policy: Policy


class AdminWeb:
    """Everything an admin handler needs, held on app.state.ourvoice_admin."""

    def __init__(self, rt: Services) -> None:
        self.rt = rt
        self.engine = rt.engine
        self.settings = rt.settings
        self.library = rt.library
        self.keyring = rt.keyring
        self.hasher = rt.password_hasher or password_hasher()
        self.own_urls = own_urls(rt.settings.host, rt.settings.port)
        self.auth = AdminAuth(
            rt.engine, secret=rt.settings.id_hash_key, public_url=rt.settings.public_url, own_urls=self.own_urls
        )
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(ROLES=ROLES, DISTRICTS=DISTRICTS, district_name=lambda d: DISTRICTS.get(d, d))
        self.env.filters["age"] = human_age
        self.env.filters["district_name"] = lambda d: DISTRICTS.get(d, d or "unknown")
        # A lone count of people (a card's supporters): through the disclosure layer, hidden under 5.
        self.env.filters["people"] = lambda n: lone(int(n or 0))
        self.env.filters["when"] = lambda dt: dt.strftime("%d %b %Y %H:%M") if dt else ""
        self.nav: list[NavItem] = []
        self.modules: list[str] = []
        self.cache: dict[str, Any] = {}  # small per-app caches (dashboard aggregates)

    def now(self) -> datetime:
        """The clock: rt.clock when a test injects one, else the wall clock (UTC)."""
        clock = self.rt.clock
        return clock() if clock else datetime.now(UTC)

    def db(self):
        return db_session(self.engine)

    def home_for(self, role: str) -> str:
        """The first page in the nav this role may open (the dashboard for most)."""
        return next((n.path for n in self.nav if role in n.policy.roles), f"{PREFIX}/account")

    def nav_for(self, ctx: Ctx) -> list[NavItem]:
        if ctx.actor is None:
            return []
        return [n for n in self.nav if ctx.actor.role in n.policy.roles]

    def render(
        self, request: Request, ctx: Ctx, template: str, *, status: int = 200, **values: Any
    ) -> HTMLResponse:
        """Render a page inside the base layout."""
        msg = MESSAGES.get(request.query_params.get("msg", ""), "")
        page = self.env.get_template(template).render(
            request=request,
            ctx=ctx,
            user=ctx.actor,
            csrf=ctx.csrf,
            nav=self.nav_for(ctx),
            msg=msg,
            path=request.url.path,
            **values,
        )
        return add_security_headers(HTMLResponse(page, status_code=status))  # type: ignore[return-value]


def human_age(delta_or_dt: Any, now: datetime | None = None) -> str:
    """'12 min', '3 h 5 min', '2 days' for a timedelta (or a datetime measured to `now`)."""
    delta = (now - delta_or_dt) if now is not None else delta_or_dt
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"


def mount(app: FastAPI, rt: Services) -> None:
    """Add the admin web under /admin; refuses to start if any admin route lacks a policy."""
    web = AdminWeb(rt)
    app.state.ourvoice_admin = web
    # Unknown Host headers get 400 on admin paths (issue 22, 8).
    app.add_middleware(AdminHostGuard, hosts=allowed_hosts(rt.settings.public_url, web.own_urls), prefix=PREFIX)
    # Each request runs for the signed-in account's council (issue 26): the one place the admin web picks it.
    app.add_middleware(CouncilOfSession, engine=rt.engine, prefix=PREFIX)
    for module in ROUTE_MODULES:
        app.include_router(module.router, prefix=PREFIX)
        web.modules.append(module.__name__)
        label = getattr(module, "NAV", None)
        if label:
            first = next(r for r in module.router.routes if isinstance(r, APIRoute) and "GET" in r.methods)
            pol = policy_of(first)
            if pol is not None:  # a route without one stops the start just below
                web.nav.append(NavItem(label, PREFIX + first.path, pol))
    if check_routes(app, PREFIX) == 0:
        raise RuntimeError("no admin routes found in the app's route table")

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(PREFIX):
            return await http_exception_handler(request, exc)
        return _error_page(request, web, exc.status_code, str(exc.detail))

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith(PREFIX):
            # FastAPI's own answer quotes the input back; what was sent may be someone's words.
            errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
            return JSONResponse({"detail": errors}, status_code=422)
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        return _error_page(
            request, web, 400, "Some information was missing or not valid: " + ", ".join(fields)
        )

    async def on_login_required(request: Request, exc: LoginRequired) -> Response:
        target = f"{PREFIX}/login"
        if request.method == "GET" and request.url.path != f"{PREFIX}/login":
            target += "?next=" + quote(request.url.path, safe="/")
        resp = redirect(target)
        web.auth.clear_cookie(resp)
        return resp

    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(LoginRequired, on_login_required)  # type: ignore[arg-type]


def _error_page(request: Request, web: AdminWeb, status: int, detail: str) -> Response:
    ctx = Ctx(web, None, "", web.now())
    titles = {403: "Not allowed", 404: "Not found", 400: "Please check the form", 429: "Too many attempts"}
    return web.render(
        request,
        ctx,
        "error.html",
        status=status,
        title=titles.get(status, "Something went wrong"),
        detail=detail,
    )
