"""Deny by default: every admin route declares a Policy (who may call it, and whether the objects
it names are district-scoped).

A Policy is a FastAPI dependency: it checks the Origin, the session, the CSRF token, the role and the
district of every object named in the path, and hands the handler a Ctx. Routes without one are refused
at start-up (see `check_routes`) and at request time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from admin.actions.policy import ROLES, RULES, ActionError, Actor, Forbidden, NotFound, roles_for

ALL_ROLES = frozenset(ROLES)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No valid session: the exception handler sends the browser to the sign-in page."""


# A resolver maps a path parameter's value to the districts of the object it names:
#   None = no such object (404), ALL = not tied to a district, otherwise the object's districts.
ALL: frozenset[str] = frozenset({"*"})
Resolver = Callable[[Any, Any, str], frozenset[str] | None]  # (AdminWeb, db session, raw value) -> districts
RESOLVERS: dict[str, Resolver] = {}


def resolver(param: str) -> Callable[[Resolver], Resolver]:
    """Register how to find the districts of the object a path parameter names."""

    def register(fn: Resolver) -> Resolver:
        RESOLVERS[param] = fn
        return fn

    return register


@dataclass(frozen=True)
class Ctx:
    """What a handler knows about the request: the web app, the staff actor, the CSRF token and the time."""

    web: Any  # admin.web.app.AdminWeb
    actor: Actor | None
    csrf: str
    now: datetime
    session_hash: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def user(self) -> Actor:
        assert self.actor is not None
        return self.actor


@dataclass(frozen=True, eq=False)
class Policy:
    """Who may call a route. `district_scoped` means objects named in the path are checked against the
    staff member's districts: reading needs an overlap (or a Kent-wide object), changing needs the object
    to lie wholly inside their districts; otherwise 404, as if it did not exist."""

    roles: frozenset[str]
    district_scoped: bool = False
    public: bool = False
    csrf: bool = True
    changes_object: bool = True  # False: an unsafe request adds to the object (e.g. a response to a wave)

    async def __call__(self, request: Request) -> Ctx:
        web = request.app.state.ourvoice_admin
        now = web.now()
        unsafe = request.method in UNSAFE
        if unsafe and not web.auth.origin_ok(request):
            raise HTTPException(403, "This form came from another site, so it was refused.")
        if self.public:
            token = web.auth.pre_token(request)
            if unsafe and self.csrf:
                form = await request.form()
                if not web.auth.pre_token_ok(request, str(form.get("csrf_token", ""))):
                    raise HTTPException(
                        403, "The form had expired. Please go back, reload the page and try again."
                    )
            return Ctx(web, None, token, now)
        found = await run_in_threadpool(web.auth.current, request, now)
        if found is None:
            raise LoginRequired()
        actor, session_hash, csrf = found
        if unsafe and self.csrf:
            form = await request.form()
            sent = str(form.get("csrf_token", "")) or request.headers.get("x-csrf-token", "")
            if not web.auth.csrf_ok(csrf, sent):
                raise HTTPException(
                    403, "The form had expired. Please go back, reload the page and try again."
                )
        if actor.role not in self.roles:
            raise HTTPException(403, "Your role does not include this page.")
        if self.district_scoped and not actor.all_districts:
            await run_in_threadpool(self._check_objects, web, request, actor, unsafe and self.changes_object)
        return Ctx(web, actor, csrf, now, session_hash)

    def _check_objects(self, web: Any, request: Request, actor: Actor, unsafe: bool) -> None:
        with web.db() as s:
            for name, value in request.path_params.items():
                fn = RESOLVERS.get(name)
                if fn is None:
                    continue
                districts = fn(web, s, str(value))
                if districts is None:
                    raise HTTPException(404, "Not found.")
                if districts == ALL:
                    if unsafe:
                        raise HTTPException(404, "Not found.")
                    continue
                mine = set(actor.districts)
                if (unsafe and not districts <= mine) or not districts & mine:
                    raise HTTPException(404, "Not found.")


def refusal(exc: ActionError) -> HTTPException:
    """The HTTP answer to an action's refusal: 403 for a role, 404 for a missing or out-of-district object,
    400 for a bad request."""
    if isinstance(exc, Forbidden):
        return HTTPException(403, "Your role does not include this page.")
    if isinstance(exc, NotFound):
        return HTTPException(404, "Not found.")
    return HTTPException(400, str(exc))


def for_action(action: str, *, changes_object: bool = True) -> Policy:
    """The web policy of a route that calls `action`: the same roles and district scoping as its rule."""
    rule = RULES[action]
    return requires(*roles_for(action), district_scoped=rule.district_scoped, changes_object=changes_object)


def requires(*roles: str, district_scoped: bool = False, changes_object: bool = True) -> Policy:
    """A policy for signed-in staff with one of `roles`."""
    unknown = set(roles) - ALL_ROLES
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Policy(frozenset(roles), district_scoped=district_scoped, changes_object=changes_object)


def public(*, csrf: bool = True) -> Policy:
    """A policy for pages anyone may open (sign-in, stylesheet)."""
    return Policy(frozenset(), public=True, csrf=csrf)


@dataclass(frozen=True)
class RouteInfo:
    """One entry of the app's route table with its full path (prefixes included)."""

    path: str
    methods: frozenset[str]
    route: APIRoute


def route_table(app: Any) -> list[RouteInfo]:
    """Every FastAPI route of the app, flattened through included routers."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x nests included routers
    except ImportError:  # pragma: no cover - older FastAPI copies routes into app.routes
        return [
            RouteInfo(r.path, frozenset(r.methods or ()), r) for r in app.routes if isinstance(r, APIRoute)
        ]
    out = []
    for ctx in iter_route_contexts(app.routes):
        original = ctx.original_route
        if isinstance(original, APIRoute):
            out.append(RouteInfo(str(ctx.path), frozenset(ctx.methods or ()), original))
    return out


def policy_of(route: APIRoute) -> Policy | None:
    """The Policy a route depends on, or None."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Policy):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def check_routes(app: Any, prefix: str = "/admin") -> int:
    """Refuse to start when an admin route has no policy, or names an object with no district resolver.

    Returns how many admin routes were checked.
    """
    checked = 0
    for info in route_table(app):
        if not info.path.startswith(prefix):
            continue
        checked += 1
        pol = policy_of(info.route)
        if pol is None:
            raise RuntimeError(f"admin route {info.path} declares no policy (deny by default)")
        if pol.district_scoped:
            for name in re.findall(r"{(\w+)(?::\w+)?}", info.path):
                if name not in RESOLVERS:
                    raise RuntimeError(f"admin route {info.path}: no district resolver for {{{name}}}")
    return checked
