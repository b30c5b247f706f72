"""Challenge cards: triage new cards, route personal ones to a worker, move a card through its states with
an owner and a note (supporters are told automatically), and see how many support it, never who.

A card belongs to the district of the young person who raised it: workers see and move only cards in
their own districts. Every list, view and move goes through admin/actions/cards.py (one audit row each).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.actions import cards as card_actions
from admin.actions.policy import ActionError, Invalid
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect
from storage import challenges

router = APIRouter(route_class=AdminRoute)
NAV = "Challenge cards"
LIST = for_action("card.list")
VIEW = for_action("card.view")
MOVE = for_action("card.move")
COUNCILS = card_actions.COUNCILS


@resolver("card_id")
def _card_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    return card_actions.card_districts(s, int(raw)) if raw.isdigit() else None


def _label(state: str) -> str:
    return state.replace("_", " ")


@router.get("/cards")
def card_list(
    request: Request, state: str = "", council: str = "", *, ctx: Annotated[Ctx, Depends(LIST)]
) -> Response:
    state = state if state in challenges.STATES else ""
    council = council if council in COUNCILS else ""
    try:
        with ctx.web.db() as s:
            cards = card_actions.list_cards(s, ctx.user, state=state, council=council, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    triage = [c for c in cards if c.state == "submitted"]
    return ctx.web.render(
        request,
        ctx,
        "cards.html",
        title="Challenge cards",
        cards=cards,
        triage=triage,
        states=challenges.STATES,
        state=state,
        council=council,
        councils=COUNCILS,
        label=_label,
    )


def _card_page(request: Request, ctx: Ctx, card_id: int, *, error: str = "", status: int = 200) -> Response:
    try:
        with ctx.web.db() as s:
            card = card_actions.view_card(s, ctx.user, card_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    nxt = challenges.allowed_next(card.state)
    return ctx.web.render(
        request,
        ctx,
        "card.html",
        status=status,
        title=f"Card {card.id}",
        card=card,
        next_states=nxt,
        error=error,
        councils=COUNCILS,
        label=_label,
        owner_required=challenges.OWNER_REQUIRED,
        note_required=challenges.NOTE_REQUIRED,
    )


@router.get("/cards/{card_id}")
def card_detail(request: Request, card_id: int, *, ctx: Annotated[Ctx, Depends(VIEW)]) -> Response:
    return _card_page(request, ctx, card_id)


@router.post("/cards/{card_id}/move")
def card_move(
    request: Request,
    card_id: int,
    *,
    to_state: Annotated[str, Form(max_length=40)],
    owner: Annotated[str, Form(max_length=120)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[Ctx, Depends(MOVE)],
) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            card_actions.move_card(
                s, web.library, ctx.user, card_id, to_state, owner=owner or None, note=note or None, now=ctx.now,
                reach=web.rt.reach_settings,
            )
    except Invalid as exc:
        return _card_page(request, ctx, card_id, error=f"Not moved: {exc}.", status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    msg: Any = "routed" if to_state == "routed_to_worker" else "moved"
    return redirect(f"/admin/cards/{card_id}", msg)
