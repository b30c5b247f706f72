"""The audit log, for auditors only: newest entries first, filter by action, and the chain check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.web.policy import Ctx, requires
from admin.web.routing import AdminRoute
from storage import audit

router = APIRouter(route_class=AdminRoute)
NAV = "Audit log"
AUDITORS = requires("auditor")


@router.get("/audit")
def audit_log(
    request: Request, action: str = "", limit: int = 200, *, ctx: Annotated[Ctx, Depends(AUDITORS)]
) -> Response:
    limit = max(1, min(limit, 2000))
    with ctx.web.db() as s:
        rows = audit.entries(s, limit=limit, action=action.strip()[:60] or None)
        problems = audit.verify(s)
    return ctx.web.render(
        request,
        ctx,
        "audit.html",
        title="Audit log",
        rows=rows,
        problems=problems,
        action=action[:60],
        limit=limit,
    )
