"""Council meetings and participation events: the list, the add form, one event with its check-in QR code and
short code, the paper register, invite and close. Uses the same actions as `ourvoice event` (one audit row each).
"""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.actions import events as actions
from admin.actions.policy import COUNCILS, DISTRICTS, ActionError, Invalid
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect

router = APIRouter(route_class=AdminRoute)
NAV = "Events"
LIST = for_action("event.list")
ADD = for_action("event.add")
VIEW = for_action("event.view")
INVITE = for_action("event.invite")
ATTEND = for_action("event.attend")
CLOSE = for_action("event.close")


def check_in_link(settings: Any, code: str, *, telegram: bool = False) -> str:
    """The link an event's QR code opens (the web chat, or the Telegram bot when its username is set)."""
    from bot.features.events import check_in_link as link

    if telegram:
        from bot.identity import IdentitySettings

        name = IdentitySettings().telegram_bot_username
        return link(settings.public_url, code, telegram_bot=name) if name else ""
    return link(settings.public_url, code)


def _qr(target: str) -> str:
    return segno.make(target, error="m").svg_data_uri(scale=5, border=2) if target else ""


@resolver("event_id")
def _event_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    return actions.event_districts(s, int(raw)) if raw.isdigit() else None


def _list_page(request: Request, ctx: Ctx) -> Response:
    try:
        with ctx.web.db() as s:
            rows = actions.list_events(s, ctx.user, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    page: Response = ctx.web.render(
        request, ctx, "events.html", title="Events", rows=rows, kinds=actions.KINDS,
        councils=COUNCILS, may_add="event.add" in _allowed(ctx),
    )
    return page


def _allowed(ctx: Ctx) -> set[str]:
    from admin.actions.policy import RULES

    return {name for name, rule in RULES.items() if ctx.user.role in rule.roles}


@router.get("/events")
def event_list(request: Request, *, ctx: Annotated[Ctx, Depends(LIST)]) -> Response:
    return _list_page(request, ctx)


@router.post("/events")
async def event_add(request: Request, *, ctx: Annotated[Ctx, Depends(ADD)]) -> Response:
    form = await request.form()
    try:
        with ctx.web.db() as s:
            view = actions.add_event(
                s, ctx.user, kind=str(form.get("kind", "")), title=str(form.get("title", "")),
                held_on=str(form.get("held_on", "")), start_time=str(form.get("start_time", "")),
                council=str(form.get("council", "")), bands=[str(b) for b in form.getlist("bands")],
                district=str(form.get("district", "")), place=str(form.get("place", "")),
                topics=str(form.get("topics", "")), now=ctx.now,
            )
    except ActionError as exc:  # a refused form writes nothing, not even the list's audit row
        raise refusal(exc) from None
    return redirect(f"/admin/events/{view.id}", "created")


@router.get("/events/{event_id}")
def event_show(request: Request, event_id: int, *, ctx: Annotated[Ctx, Depends(VIEW)]) -> Response:
    try:
        with ctx.web.db() as s:
            detail = actions.show_event(s, ctx.user, event_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    settings = ctx.web.rt.settings
    web_link = check_in_link(settings, detail.event.short_code)
    tg_link = check_in_link(settings, detail.event.short_code, telegram=True)
    allowed = _allowed(ctx)
    page: Response = ctx.web.render(
        request, ctx, "event.html", title=f"Event: {detail.event.title}", d=detail, kinds=actions.KINDS,
        councils=COUNCILS, districts=DISTRICTS, web_link=web_link, web_qr=_qr(web_link), tg_link=tg_link,
        tg_qr=_qr(tg_link), allowed=allowed, error=request.query_params.get("error", "")[:200],
    )
    return page


def _back(event_id: int, done: str) -> Response:
    return redirect(f"/admin/events/{event_id}", done)


@router.post("/events/{event_id}/attend")
async def event_attend(request: Request, event_id: int, *, ctx: Annotated[Ctx, Depends(ATTEND)]) -> Response:
    form = await request.form()
    raw_unnamed = str(form.get("unnamed", "")).strip()
    try:
        unnamed = int(raw_unnamed) if raw_unnamed else None
    except ValueError:
        raise refusal(Invalid("the number of unnamed people must be a whole number")) from None
    try:
        with ctx.web.db() as s:
            actions.attend(s, ctx.user, event_id, refs=str(form.get("refs", "")), unnamed=unnamed, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return _back(event_id, "saved")


@router.post("/events/{event_id}/invite")
def event_invite(request: Request, event_id: int, *, ctx: Annotated[Ctx, Depends(INVITE)]) -> Response:
    try:
        with ctx.web.db() as s:
            actions.invite(s, ctx.user, event_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return _back(event_id, "saved")


@router.post("/events/{event_id}/close")
def event_close(request: Request, event_id: int, *, ctx: Annotated[Ctx, Depends(CLOSE)]) -> Response:
    try:
        with ctx.web.db() as s:
            actions.close_event(s, ctx.user, event_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return _back(event_id, "closed")
