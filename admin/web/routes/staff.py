"""Staff accounts page for participation managers: add staff, change role or districts, pause an account,
set a new password. Every change is audited and ends that person's sessions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin import services
from admin.web.app import AdminRoute, redirect
from admin.web.policy import Ctx, requires
from storage import staff as staff_store

router = APIRouter(route_class=AdminRoute)
NAV = "Staff"
MANAGERS = requires("participation_manager")


def _page(request: Request, ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    with ctx.web.db() as s:
        people = staff_store.list_all(s)
    return ctx.web.render(
        request, ctx, "staff.html", status=status, title="Staff accounts", people=people, error=error
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
    ctx: Annotated[Ctx, Depends(MANAGERS)],
) -> Response:
    try:
        with ctx.web.db() as s:
            services.add_staff(
                s,
                username=username,
                role=role,
                districts=services.parse_districts(districts),
                password=password,
                now=ctx.now,
                actor=ctx.user.username,
                hasher=ctx.web.hasher,
            )
    except services.StaffError as exc:
        return _page(request, ctx, error=str(exc), status=400)
    return redirect("/admin/staff", "created")


@router.post("/staff/{staff_id}/change")
def staff_change(
    request: Request,
    staff_id: int,
    *,
    role: Annotated[str, Form(max_length=40)],
    districts: Annotated[list[str] | None, Form()] = None,
    active: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(MANAGERS)],
) -> Response:
    if staff_id == ctx.user.staff_id and (not active or role != ctx.user.role):
        return _page(
            request, ctx, error="You cannot pause your own account or change your own role.", status=400
        )
    try:
        with ctx.web.db() as s:
            services.change_staff(
                s,
                staff_id,
                actor=ctx.user.username,
                now=ctx.now,
                role=role,
                districts=services.parse_districts(districts),
                active=bool(active),
            )
    except services.StaffError as exc:
        if "no such" in str(exc):
            raise HTTPException(404, "No such staff account.") from None
        return _page(request, ctx, error=str(exc), status=400)
    return redirect("/admin/staff", "saved")


@router.post("/staff/{staff_id}/password")
def staff_password(
    request: Request,
    staff_id: int,
    *,
    password: Annotated[str, Form(max_length=1000)],
    ctx: Annotated[Ctx, Depends(MANAGERS)],
) -> Response:
    try:
        with ctx.web.db() as s:
            services.set_password(
                s, staff_id, password, actor=ctx.user.username, now=ctx.now, hasher=ctx.web.hasher
            )
    except services.StaffError as exc:
        if "no such" in str(exc):
            raise HTTPException(404, "No such staff account.") from None
        return _page(request, ctx, error=str(exc), status=400)
    return redirect("/admin/staff", "saved")
