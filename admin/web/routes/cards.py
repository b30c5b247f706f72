"""Challenge cards: triage new cards, route personal ones to a worker, move a card through its states with
an owner and a note (supporters are told automatically), and see how many support it, never who.

Cards belong to a council, not a district, so they are not district-scoped. Moves are audited by the
card service (one row per move).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin import services
from admin.web.app import AdminRoute, redirect
from admin.web.policy import Ctx, requires
from storage import challenges

router = APIRouter(route_class=AdminRoute)
NAV = "Challenge cards"
NEEDS = ("storage.challenges", "bot.features.young_people")
WORKERS = requires("participation_worker", "participation_manager")
COUNCILS = {
    "super_council": "Super Council",
    "ocypc": "OCYPC",
    "ocypc_extra": "OCYPC Extra!",
    "yac": "Young Adult Council",
}


def _label(state: str) -> str:
    return state.replace("_", " ")


@router.get("/cards")
def card_list(
    request: Request, state: str = "", council: str = "", *, ctx: Annotated[Ctx, Depends(WORKERS)]
) -> Response:
    state = state if state in challenges.STATES else ""
    council = council if council in COUNCILS else ""
    with ctx.web.db() as s:
        cards = challenges.list_cards(s, state=state or None, council=council or None)
        # The list shows young people's own words: audited like the CLI's `card list`.
        services.record(
            s, ctx.user, "card.list", target="cards",
            detail=f"state={state or 'any'} council={council or 'any'} n={len(cards)}", now=ctx.now,
        )
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
    with ctx.web.db() as s:
        card = challenges.get(s, card_id)
        if card is not None:
            services.record(s, ctx.user, "card.view", target=f"card:{card_id}", now=ctx.now)
    if card is None:
        raise HTTPException(404, "No such card.")
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
def card_detail(request: Request, card_id: int, *, ctx: Annotated[Ctx, Depends(WORKERS)]) -> Response:
    return _card_page(request, ctx, card_id)


@router.post("/cards/{card_id}/move")
def card_move(
    request: Request,
    card_id: int,
    *,
    to_state: Annotated[str, Form(max_length=40)],
    owner: Annotated[str, Form(max_length=120)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[Ctx, Depends(WORKERS)],
) -> Response:
    from bot.features.young_people import move_card

    web = ctx.web
    try:
        with web.db() as s:
            if challenges.get(s, card_id) is None:
                raise HTTPException(404, "No such card.")
            move_card(
                s,
                web.library,
                card_id,
                to_state,
                staff=ctx.user.username,
                now=ctx.now,
                owner=owner or None,
                note=note or None,
            )
    except challenges.InvalidTransition as exc:
        return _card_page(request, ctx, card_id, error=f"Not moved: {exc}.", status=400)
    msg: Any = "routed" if to_state == "routed_to_worker" else "moved"
    return redirect(f"/admin/cards/{card_id}", msg)
