"""Invites: create a batch of one-time codes and print them as a QR sheet; list and revoke batches.

Codes are stored only as keyed hashes, so the sheet is shown once, straight after creating the batch.
"""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin.actions import invites as invite_actions
from admin.actions.policy import COUNCILS as COUNCIL_LABELS
from admin.actions.policy import INVITE_AUDIENCES, ActionError, Forbidden, Invalid
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect

router = APIRouter(route_class=AdminRoute)
NAV = "Invites"
INVITERS = for_action("invite.create")
REVOKERS = for_action("invite.revoke")
AGE_BANDS = {"7-11": "Children 7 to 11", "11-16": "Young people 11 to 16", "16-25": "Young adults 16 to 25"}
COUNCILS = {"": "Not set", **COUNCIL_LABELS}  # from content/council.yaml


@resolver("batch")
def _batch_districts(web: Any, s: Any, batch: str) -> frozenset[str] | None:
    return invite_actions.batch_districts(s, batch)


def _page(request: Request, ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    user = ctx.user
    with ctx.web.db() as s:
        batches = invite_actions.visible_batches(s, user)
    return ctx.web.render(
        request,
        ctx,
        "invites.html",
        status=status,
        title="Invites",
        batches=batches,
        audiences=INVITE_AUDIENCES[user.role],
        age_bands=AGE_BANDS,
        councils=COUNCILS,
        error=error,
    )


@router.get("/invites")
def invite_list(request: Request, *, ctx: Annotated[Ctx, Depends(INVITERS)]) -> Response:
    return _page(request, ctx)


def _qr_svg(target: str) -> str:
    return segno.make(target, error="m").svg_data_uri(scale=4, border=2)


@router.post("/invites")
def invite_create(
    request: Request,
    *,
    audience: Annotated[str, Form()],
    age_band: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    council: Annotated[str, Form()] = "",
    count: Annotated[int, Form()] = 10,
    expires_days: Annotated[int, Form()] = 60,
    case_ref: Annotated[str, Form()] = "",
    iro_email: Annotated[str, Form()] = "",
    social_worker_email: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(INVITERS)],
) -> Response:
    from bot.identity import pretty

    web = ctx.web
    bot_username = web.rt.telegram_bot_username
    try:
        with web.db() as s:
            batch, created = invite_actions.create_invites(
                s,
                web.keyring,
                ctx.user,
                audience=audience,
                age_band=age_band or None,
                district=district or None,
                council=council or None,
                count=count,
                expires_days=expires_days,
                now=ctx.now,
                public_url=web.rt.settings.public_url,
                bot_username=bot_username,
                council_ref=case_ref.strip() or None,
                iro_email=iro_email.strip() or None,
                social_worker_email=social_worker_email.strip() or None,
            )
    except (Invalid, Forbidden) as exc:
        return _page(request, ctx, error=str(exc), status=400)
    cards = [
        {"code": pretty(c.code), "qr": _qr_svg(c.telegram_link or c.web_link), "link": c.web_link}
        for c in created
    ]
    return web.render(
        request,
        ctx,
        "invite_sheet.html",
        title=f"Invite sheet {batch}",
        batch=batch,
        cards=cards,
        audience=audience,
        district=district,
        expires_days=expires_days,
    )


@router.post("/invites/{batch}/revoke")
def invite_revoke(request: Request, batch: str, *, ctx: Annotated[Ctx, Depends(REVOKERS)]) -> Response:
    try:
        with ctx.web.db() as s:
            n = invite_actions.revoke_batch(s, ctx.user, batch, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    if n == 0:
        raise HTTPException(400, "No unused invites left in that batch.")
    return redirect("/admin/invites", "saved")
