"""Challenge card actions: list, open and move a card. A card belongs to the district of the young person
who raised it; a card with no known raiser is Kent-wide (every worker may read it, only staff covering
every district may move it).

Moves go through bot.features.young_people.move_card, which checks the transition, writes the card event
and the one audit row, and queues one notice per raiser and supporter. Never reveals who raised a card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin.actions import policy
from admin.actions.policy import (
    Actor,
    Invalid,
    authorise,
    districts_of,
    may_read,
    record,
    require_scope,
)
from storage import admin_views, challenges

COUNCILS = policy.COUNCILS  # from content/council.yaml


def card_districts(s: Any, card_id: int) -> frozenset[str] | None:
    """The card's districts (ALL when Kent-wide), or None when there is no such card."""
    found = admin_views.card_districts(s, [card_id])
    return districts_of(found[card_id]) if card_id in found else None


def list_cards(
    s: Any, actor: Actor, *, state: str | None = None, council: str | None = None, now: datetime
) -> list[challenges.CardView]:
    """The cards in the actor's districts (audited as card.list: the list shows young people's words)."""
    authorise(actor, "card.list")
    cards = challenges.list_cards(s, state=state or None, council=council or None)
    if not actor.all_districts:
        where = admin_views.card_districts(s, [c.id for c in cards])
        cards = [c for c in cards if may_read(actor, districts_of(where.get(c.id)))]
    record(
        s, actor, "card.list", target="cards",
        detail=f"state={state or 'any'} council={council or 'any'} n={len(cards)}", now=now,
    )
    return cards


def view_card(s: Any, actor: Actor, card_id: int, *, now: datetime) -> challenges.CardView:
    """One card with its history (audited as card.view); NotFound outside the actor's districts."""
    authorise(actor, "card.view")
    require_scope(actor, card_districts(s, card_id), f"card {card_id}", change=False)
    card = challenges.get(s, card_id)
    assert card is not None
    record(s, actor, "card.view", target=f"card:{card_id}", now=now)
    return card


def move_card(
    s: Any,
    library: Any,
    actor: Actor,
    card_id: int,
    to_state: str,
    *,
    owner: str | None = None,
    note: str | None = None,
    now: datetime,
    reach: Any = None,
) -> Any:
    """Move a card to its next state and tell its raiser and supporters (audited as card.move), under the one
    rule for messages sent first (`reach`: the runtime's ReachSettings; None reads the environment).

    Returns the move's outcome (the event and how many young people were told); Invalid for a move the
    card's lifecycle does not allow.
    """
    from bot.features.young_people import move_card as apply_move

    authorise(actor, "card.move")
    require_scope(actor, card_districts(s, card_id), f"card {card_id}", change=True)
    try:
        return apply_move(
            s, library, card_id, to_state, staff=actor.username, now=now, owner=owner or None, note=note or None,
            reach=reach,
        )
    except challenges.InvalidTransition as exc:
        raise Invalid(str(exc)) from None


def resolve_card(s: Any, actor: Actor, card_id: int, panel_date: Any, resolution: str, *, now: datetime) -> Any:
    """Record the Panel's resolution on a card after the meeting (card.move's authority: the same staff who
    take a card to the Panel; audited as card.move with detail=resolution). Shown in the next paper."""
    from storage import panel_papers

    authorise(actor, "card.move")
    require_scope(actor, card_districts(s, card_id), f"card {card_id}", change=True)
    text = " ".join(resolution.split())
    if not text:
        raise Invalid("give the Panel's resolution in a sentence")
    if len(text) > 600:
        raise Invalid("keep the resolution under 600 characters")
    view = panel_papers.resolve_card(s, card_id, panel_date, text, by=actor.username, now=now)
    record(s, actor, "card.move", target=f"card:{card_id}", detail=f"resolution panel={panel_date}", now=now)
    return view
