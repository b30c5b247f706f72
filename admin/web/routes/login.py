"""Sign in, sign out, your account (change password) and the admin stylesheet.

Sign-in is throttled per username and per address; a successful sign-in always gets a new session id.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.actions import staff as staff_actions
from admin.actions.policy import ActionError, record
from admin.web.auth import SESSION_COOKIE, client_ip, hash_id
from admin.web.policy import ALL_ROLES, Ctx, Policy, public
from admin.web.routing import HERE, AdminRoute, redirect
from bot import tenant
from storage import staff as staff_store

router = APIRouter(route_class=AdminRoute)
STATIC = HERE / "static"
ANY_STAFF = Policy(ALL_ROLES)


def _safe_next(target: str) -> str:
    """Only local admin paths: never an open redirect."""
    if (
        target.startswith("/admin/")
        and not target.startswith("//")
        and "\\" not in target
        and "://" not in target
    ):
        return target
    return "/admin/"


@router.get("/login")
def login_page(request: Request, next: str = "", *, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    web = ctx.web
    found = web.auth.current(request, ctx.now)
    if found is not None:
        return redirect(_safe_next(next) if next else web.home_for(found[0].role))
    resp = web.render(
        request, ctx, "login.html", next=_safe_next(next) if next else "", username="", error=""
    )
    web.auth.set_pre_cookie(request, resp)
    return resp


@router.post("/login")
def login(
    request: Request,
    *,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(public())],
) -> Response:
    web = ctx.web
    # The account's own council (issue 26): its sign-in, session and audit row are that council's.
    council = tenant.council_of_staff(web.engine, username)
    with tenant.serving(web.engine, council) if council else nullcontext(), web.db() as s:
        result = staff_actions.check_credentials(
            s, username, password, ip=client_ip(request), now=ctx.now, hasher=web.hasher
        )
        raw = None
        if result.ok and result.staff is not None:
            old = request.cookies.get(SESSION_COOKIE)
            if old:  # never reuse a session id across a sign-in
                web.auth.end(s, hash_id(old))
            raw = web.auth.start(s, result.staff.id, now=ctx.now)
            staff_store.mark_login(s, result.staff.id, now=ctx.now)
            record(
                s,
                result.staff.username,
                "login",
                target=f"staff:{result.staff.username}",
                detail="via=web",
                now=ctx.now,
            )
    if raw is None:
        status, error = (
            (429, "Too many attempts. Please wait 15 minutes and try again.")
            if result.reason == "locked"
            else (401, "That username and password did not match.")
        )
        resp = web.render(
            request,
            ctx,
            "login.html",
            status=status,
            next=_safe_next(next) if next else "",
            username=username[:80],
            error=error,
        )
        web.auth.set_pre_cookie(request, resp)
        return resp
    resp = redirect(_safe_next(next) if next else web.home_for(result.staff.role))  # type: ignore[union-attr]
    web.auth.set_cookie(resp, raw)
    return resp


@router.post("/logout")
def logout(request: Request, *, ctx: Annotated[Ctx, Depends(ANY_STAFF)]) -> Response:
    with ctx.web.db() as s:
        ctx.web.auth.end(s, ctx.session_hash)
    resp = redirect("/admin/login", "signed_out")
    ctx.web.auth.clear_cookie(resp)
    return resp


@router.get("/account")
def account(request: Request, *, ctx: Annotated[Ctx, Depends(ANY_STAFF)]) -> Response:
    return ctx.web.render(request, ctx, "account.html", title="Your account", error="")


@router.post("/account/password")
def change_password(
    request: Request,
    *,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
    ctx: Annotated[Ctx, Depends(ANY_STAFF)],
) -> Response:
    web, user = ctx.web, ctx.user
    error, raw = "", None
    try:
        with web.db() as s:
            result = staff_actions.set_password(
                s, user, user.staff_id, new, current_password=current, ip=client_ip(request), now=ctx.now,
                hasher=web.hasher,
            )
            if result.ok:
                raw = web.auth.start(s, user.staff_id, now=ctx.now)  # other sessions ended; keep this browser in
            else:
                error = (
                    "Your current password was not right."
                    if result.reason == "invalid"
                    else "Too many attempts. Please wait 15 minutes."
                )
    except ActionError as exc:
        error = str(exc)
    if raw is None:
        return web.render(request, ctx, "account.html", status=400, title="Your account", error=error)
    resp = redirect("/admin/account", "password_changed")
    web.auth.set_cookie(resp, raw)
    return resp


_STATIC_TYPES = {"admin.css": "text/css"}


@router.get("/static/{name}")
def static(name: str, *, ctx: Annotated[Ctx, Depends(public(csrf=False))]) -> Response:
    if name not in _STATIC_TYPES:
        return Response(status_code=404)
    return Response(
        Path(STATIC / name).read_bytes(),
        media_type=_STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )
