"""The Requests page (issue 25): people who asked to be contacted, in their team's queue, with the service
level; acknowledge, reply through the bot, close with an outcome.

Thin: parses forms and calls admin/actions/requests.py, which applies the role, team and district rules and
audits. Shows no names and no answers: only where the request came from and what has happened.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin.actions import requests as actions
from admin.actions.policy import ActionError, Forbidden, NotFound, roles_for
from admin.web.policy import ALL, Ctx, requires, resolver
from admin.web.routing import AdminRoute, redirect
from storage import contact_requests as store

router = APIRouter(route_class=AdminRoute)
NAV = "Requests"
TEAMS = requires(*roles_for("request.list"), district_scoped=True)


@resolver("request_id")
def _request_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    try:
        item = store.get(s, int(raw))
    except ValueError:
        return None
    if item is None:
        return None
    return frozenset({item.district}) if item.district else ALL


def _http(exc: ActionError) -> HTTPException:
    return HTTPException(403, "Your role does not include this page.") if isinstance(exc, Forbidden) else (
        HTTPException(404, "Not found.")
    )


@router.get("/requests")
def queue(request: Request, *, ctx: Annotated[Ctx, Depends(TEAMS)]) -> Response:
    web = ctx.web
    with web.db() as s:
        waiting = actions.queue(s, ctx.user, web.settings, now=ctx.now)
        done = actions.recently_closed(s, ctx.user, web.settings, now=ctx.now)
    page: Response = web.render(
        request, ctx, "requests.html", title="Requests", waiting=waiting, done=done,
        within=web.settings.request_within, teams=actions.TEAM_LABELS, outcomes=actions.OUTCOMES,
    )
    return page


def _detail(request: Request, ctx: Ctx, request_id: int, *, error: str = "", status: int = 200) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            found = actions.show(s, ctx.user, request_id, web.settings, now=ctx.now)
    except ActionError as exc:
        raise _http(exc) from None
    page: Response = web.render(
        request, ctx, "request.html", title=f"Request {request_id}", r=found, error=error, status=status,
        teams=actions.TEAM_LABELS, outcomes=actions.OUTCOMES,
    )
    return page


@router.get("/requests/{request_id}")
def detail(request: Request, request_id: int, *, ctx: Annotated[Ctx, Depends(TEAMS)]) -> Response:
    return _detail(request, ctx, request_id)


@router.post("/requests/{request_id}/ack")
def acknowledge(request: Request, request_id: int, *, ctx: Annotated[Ctx, Depends(TEAMS)]) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            actions.acknowledge(s, ctx.user, request_id, now=ctx.now)
    except ActionError as exc:
        raise _http(exc) from None
    return redirect(f"/admin/requests/{request_id}", "request_acknowledged")


@router.post("/requests/{request_id}/reply")
def reply(
    request: Request,
    request_id: int,
    *,
    message: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[Ctx, Depends(TEAMS)],
) -> Response:
    """Write to the person through the bot (queued in the outbox; audited, never the words)."""
    web = ctx.web
    try:
        with web.db() as s:
            actions.reply(web.rt.library, s, ctx.user, request_id, message=message, now=ctx.now,
                          reach_settings=web.rt.reach_settings, notify_settings=web.rt.notify_settings)
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
        return _detail(request, ctx, request_id, error=f"Not sent: {exc}.", status=400)
    return redirect(f"/admin/requests/{request_id}", "request_replied")


@router.post("/requests/{request_id}/close")
def close(
    request: Request,
    request_id: int,
    *,
    outcome: Annotated[str, Form(max_length=40)] = "",
    ctx: Annotated[Ctx, Depends(TEAMS)],
) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            actions.close(s, ctx.user, request_id, outcome=outcome, now=ctx.now)
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
        return _detail(request, ctx, request_id, error=f"Not closed: {exc}.", status=400)
    return redirect("/admin/requests", "request_closed")
