"""Staff accounts page for participation managers: add staff, change role or districts, pause an account,
set a new password. Every change is audited and ends that person's sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.actions import staff as staff_actions
from admin.actions.policy import ActionError, Invalid, parse_districts
from admin.web.auth import client_ip
from admin.web.policy import Ctx, for_action, refusal
from admin.web.routing import AdminRoute, redirect
from storage import staff as staff_store

router = APIRouter(route_class=AdminRoute)
NAV = "Staff"
MANAGERS = for_action("staff.change")
ADD = for_action("staff.add")
PASSWORD = for_action("staff.password")


def _page(request: Request, ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    with ctx.web.db() as s:
        people = staff_store.list_all(s)
    return ctx.web.render(
        request, ctx, "staff.html", status=status, title="Staff accounts", people=people, error=error,
        PROTECTED_ROLES=staff_actions.PROTECTED_ROLES,
    )


@router.get("/staff")
def staff_list(request: Request, *, ctx: Annotated[Ctx, Depends(MANAGERS)]) -> Response:
    return _page(request, ctx)


@router.post("/staff")
def staff_add(
    request: Request,
    *,
    username: Annotated[str, Form(max_length=80)],
    role: Annotated[str, Form(max_length=40)],
    districts: Annotated[list[str] | None, Form()] = None,
    password: Annotated[str, Form(max_length=1000)],
    your_password: Annotated[str, Form(max_length=1000)] = "",
    second_username: Annotated[str, Form(max_length=200)] = "",
    second_password: Annotated[str, Form(max_length=1000)] = "",
    ctx: Annotated[Ctx, Depends(ADD)],
) -> Response:
    """Add an account; a manager, auditor or safeguarding lead also needs your password and a second manager."""
    second = (second_username, second_password) if second_username.strip() else None
    try:
        with ctx.web.db() as s:
            result = staff_actions.add_staff(
                s,
                ctx.user,
                username=username,
                role=role,
                districts=parse_districts(districts),
                password=password,
                now=ctx.now,
                hasher=ctx.web.hasher,
                current_password=your_password,
                second=second,
                ip=client_ip(request),
            )
    except Invalid as exc:
        return _page(request, ctx, error=str(exc), status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    if not result.ok:
        return _page(request, ctx, error=PASSWORD_REFUSALS[result.reason], status=400)
    return redirect("/admin/staff", "created")


@router.post("/staff/{staff_id}/change")
def staff_change(
    request: Request,
    staff_id: int,
    *,
    role: Annotated[str, Form(max_length=40)],
    districts: Annotated[list[str] | None, Form()] = None,
    active: Annotated[str, Form()] = "",
    your_password: Annotated[str, Form(max_length=1000)] = "",
    second_username: Annotated[str, Form(max_length=200)] = "",
    second_password: Annotated[str, Form(max_length=1000)] = "",
    ctx: Annotated[Ctx, Depends(MANAGERS)],
) -> Response:
    """Change role, districts or access; a protected account's role also needs your password and a second manager."""
    second = (second_username, second_password) if second_username.strip() else None
    try:
        with ctx.web.db() as s:
            result = staff_actions.change_staff(
                s,
                ctx.user,
                staff_id,
                now=ctx.now,
                role=role,
                districts=parse_districts(districts),
                active=bool(active),
                current_password=your_password,
                second=second,
                ip=client_ip(request),
                hasher=ctx.web.hasher,
            )
    except Invalid as exc:
        return _page(request, ctx, error=str(exc), status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    if not result.ok:
        return _page(request, ctx, error=PASSWORD_REFUSALS[result.reason], status=400)
    return redirect("/admin/staff", "saved")


@router.post("/staff/{staff_id}/password")
def staff_password(
    request: Request,
    staff_id: int,
    *,
    password: Annotated[str, Form(max_length=1000)],
    your_password: Annotated[str, Form(max_length=1000)] = "",
    second_username: Annotated[str, Form(max_length=200)] = "",
    second_password: Annotated[str, Form(max_length=1000)] = "",
    ctx: Annotated[Ctx, Depends(PASSWORD)],
) -> Response:
    """Reset someone's password: your own password again, and a second manager's for a protected account."""
    second = (second_username, second_password) if second_username.strip() else None
    try:
        with ctx.web.db() as s:
            result = staff_actions.set_password(
                s, ctx.user, staff_id, password, current_password=your_password, second=second,
                ip=client_ip(request), now=ctx.now, hasher=ctx.web.hasher,
            )
    except Invalid as exc:
        return _page(request, ctx, error=str(exc), status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    if not result.ok:
        return _page(request, ctx, error=PASSWORD_REFUSALS[result.reason], status=400)
    return redirect("/admin/staff", "saved")


# Why a reset was refused for a wrong password, by PasswordSet.reason.
PASSWORD_REFUSALS = {
    "invalid": "Your own password was not right, so nothing was changed.",
    "locked": "Too many attempts. Please wait 15 minutes.",
    "second_invalid": "The second manager's username and password did not match, so nothing was changed.",
    "second_locked": "Too many attempts for the second manager. Please wait 15 minutes.",
}
