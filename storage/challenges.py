"""Challenge cards: creation, support, the state machine, events and who gets told about them.

Owns every query on challenge_card, card_event, card_supporter, card_notice, card_listing and
panel_digest. Views never carry who raised a card. Must not compose wording (that is the bot's job).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from storage import audit
from storage.db import utc
from storage.models import (
    CardEvent,
    CardListing,
    CardNotice,
    CardSupporter,
    ChallengeCard,
    PanelDigest,
    Participant,
    Submission,
)

STATES = (
    "submitted",
    "routed_to_worker",
    "discussed_at_council",
    "taken_to_senior_officers",
    "presented_to_panel",
    "accepted",
    "progress_update",
    "closed",
    "declined",
)
CLOSED_STATES = frozenset({"closed", "declined"})
OPEN_STATES = frozenset(STATES) - CLOSED_STATES
# Which states a card may move to next. "declined" (with a reason) is allowed from every open state.
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"discussed_at_council", "routed_to_worker"}),
    "routed_to_worker": frozenset({"discussed_at_council", "closed"}),
    "discussed_at_council": frozenset({"taken_to_senior_officers"}),
    "taken_to_senior_officers": frozenset({"presented_to_panel"}),
    "presented_to_panel": frozenset({"accepted"}),
    "accepted": frozenset({"progress_update", "closed"}),
    "progress_update": frozenset({"progress_update", "closed"}),
    "closed": frozenset(),
    "declined": frozenset(),
}
TRANSITIONS = {k: (v | {"declined"}) if k in OPEN_STATES else v for k, v in TRANSITIONS.items()}
NOTE_REQUIRED = frozenset({"accepted", "progress_update", "declined"})
OWNER_REQUIRED = frozenset({"accepted"})
SUPPORTABLE_STATES = OPEN_STATES - {"routed_to_worker"}


class InvalidTransition(ValueError):
    """The requested move is not allowed from the card's current state (or lacks an owner/note)."""


@dataclass(frozen=True)
class CardEventView:
    id: int
    card_id: int
    from_state: str | None
    to_state: str
    owner_role: str | None
    note: str | None
    staff: str
    at: datetime


@dataclass(frozen=True)
class CardView:
    """A card as staff, reports and young people may see it: the council, never the raiser."""

    id: int
    council: str
    state: str
    challenge: str
    why: str | None
    who_for: tuple[str, ...]
    personal: bool
    quarantined: bool
    owner_role: str | None
    answer: str | None
    supporters: int
    created_at: datetime
    updated_at: datetime
    events: tuple[CardEventView, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about a card: the raiser or a supporter (active participants only)."""

    participant_id: int
    band: str | None
    role: str  # raiser | supporter


def _event_view(e: CardEvent) -> CardEventView:
    return CardEventView(
        id=e.id or 0,
        card_id=e.card_id,
        from_state=e.from_state,
        to_state=e.to_state,
        owner_role=e.owner_role,
        note=e.note,
        staff=e.staff,
        at=utc(e.at),  # type: ignore[arg-type]
    )


def _supporter_counts(session: Session, card_ids: Iterable[int]) -> dict[int, int]:
    ids = list(card_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(CardSupporter.card_id, func.count())
        .where(CardSupporter.card_id.in_(ids))
        .group_by(CardSupporter.card_id)  # type: ignore[attr-defined]
    ).all()
    return {int(cid): int(n) for cid, n in rows}


def _views(session: Session, cards: list[ChallengeCard], *, with_events: bool = False) -> list[CardView]:
    counts = _supporter_counts(session, (c.id for c in cards if c.id is not None))
    events: dict[int, list[CardEventView]] = {}
    if with_events and cards:
        for e in session.execute(
            select(CardEvent).where(CardEvent.card_id.in_([c.id for c in cards])).order_by(CardEvent.id)  # type: ignore[attr-defined]
        ).scalars():
            events.setdefault(e.card_id, []).append(_event_view(e))
    return [
        CardView(
            id=c.id or 0,
            council=c.council,
            state=c.state,
            challenge=c.challenge,
            why=c.why,
            who_for=tuple(x for x in c.who_for.split(",") if x),
            personal=c.personal,
            quarantined=c.quarantined,
            owner_role=c.owner_role,
            answer=c.answer,
            supporters=counts.get(c.id or 0, 0),
            created_at=utc(c.created_at),  # type: ignore[arg-type]
            updated_at=utc(c.updated_at),  # type: ignore[arg-type]
            events=tuple(events.get(c.id or 0, ())),
        )
        for c in cards
    ]


def create(
    session: Session,
    *,
    raised_by: int | None,
    council: str,
    challenge: str,
    why: str | None,
    who_for: Iterable[str],
    personal: bool,
    quarantined: bool,
    submission_id: int | None,
    now: datetime,
) -> CardView:
    """Store a new card in state `submitted` with its first event."""
    at = utc(now)
    card = ChallengeCard(
        raised_by=raised_by,
        submission_id=submission_id,
        council=council,
        state="submitted",
        challenge=challenge,
        why=why,
        who_for=",".join(who_for),
        personal=personal,
        quarantined=quarantined,
        created_at=at,
        updated_at=at,
    )
    session.add(card)
    session.flush()
    session.add(CardEvent(card_id=card.id, from_state=None, to_state="submitted", staff="", at=at))  # type: ignore[arg-type]
    session.flush()
    return _views(session, [card])[0]


def get(session: Session, card_id: int) -> CardView | None:
    """One card with its events, or None."""
    card = session.get(ChallengeCard, card_id)
    return _views(session, [card], with_events=True)[0] if card else None


def list_cards(session: Session, *, state: str | None = None, council: str | None = None) -> list[CardView]:
    """Every card (optionally one state or council), newest first, with events; never the raiser."""
    q = select(ChallengeCard).order_by(ChallengeCard.id.desc())  # type: ignore[union-attr]
    if state:
        q = q.where(ChallengeCard.state == state)
    if council:
        q = q.where(ChallengeCard.council == council)
    return _views(session, list(session.execute(q).scalars()), with_events=True)


def allowed_next(state: str) -> tuple[str, ...]:
    """States a card in `state` may move to, in lifecycle order."""
    nxt = TRANSITIONS.get(state, frozenset())
    return tuple(s for s in STATES if s in nxt)


def move(
    session: Session,
    card_id: int,
    to_state: str,
    *,
    staff: str,
    now: datetime,
    owner_role: str | None = None,
    note: str | None = None,
) -> CardEventView:
    """Validate and apply one transition; writes a card_event and an audit row. Raises InvalidTransition."""
    card = session.get(ChallengeCard, card_id)
    if card is None:
        raise InvalidTransition(f"no card {card_id}")
    if to_state not in STATES:
        raise InvalidTransition(f"unknown state {to_state!r}; states are: {', '.join(STATES)}")
    if to_state not in TRANSITIONS[card.state]:
        allowed = ", ".join(allowed_next(card.state)) or "none (the card is finished)"
        raise InvalidTransition(f"card {card_id} is {card.state}; it can move to: {allowed}")
    if not staff.strip():
        raise InvalidTransition("say who is making the change (--staff)")
    owner_role = (owner_role or "").strip() or None
    note = (note or "").strip() or None
    if to_state in OWNER_REQUIRED and not owner_role:
        raise InvalidTransition(f"moving to {to_state} needs the owner's role (--owner)")
    if to_state in NOTE_REQUIRED and not note:
        what = "the reason" if to_state == "declined" else "the answer or update"
        raise InvalidTransition(f"moving to {to_state} needs {what} (--note)")
    at = utc(now)
    from_state = card.state
    card.state = to_state
    card.updated_at = at
    if owner_role:
        card.owner_role = owner_role
    if to_state == "accepted":
        card.answer = note
    session.add(card)
    event = CardEvent(
        card_id=card_id,
        from_state=from_state,
        to_state=to_state,
        owner_role=owner_role or card.owner_role,
        note=note,
        staff=staff.strip()[:80],
        at=at,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=staff.strip(),
        action="card.move",
        target=f"card:{card_id}",
        detail=f"{from_state}->{to_state}" + (f" owner={owner_role}" if owner_role else ""),
        now=now,
    )
    return _event_view(event)


def recipients(session: Session, card_id: int) -> list[Recipient]:
    """The raiser and every supporter who are still active, raiser first, each once."""
    card = session.get(ChallengeCard, card_id)
    if card is None:
        return []
    out: list[Recipient] = []
    seen: set[int] = set()
    if card.raised_by is not None:
        p = session.get(Participant, card.raised_by)
        if p is not None and p.status == "active":
            out.append(Recipient(p.id, p.band, "raiser"))  # type: ignore[arg-type]
            seen.add(p.id)  # type: ignore[arg-type]
    rows = session.execute(
        select(Participant)
        .join(CardSupporter, CardSupporter.participant_id == Participant.id)
        .where(CardSupporter.card_id == card_id, Participant.status == "active")
        .order_by(CardSupporter.id)
    ).scalars()
    for p in rows:
        if p.id not in seen:
            out.append(Recipient(p.id, p.band, "supporter"))  # type: ignore[arg-type]
            seen.add(p.id)  # type: ignore[arg-type]
    return out


def notice_sent(session: Session, *, event_id: int, participant_id: int) -> bool:
    """True when this participant was already told about this event."""
    found = session.execute(
        select(CardNotice.id).where(
            CardNotice.event_id == event_id, CardNotice.participant_id == participant_id
        )
    ).first()
    return found is not None


def record_notice(session: Session, *, event_id: int, participant_id: int, outbox_id: int | None) -> bool:
    """Remember that a participant was told about an event; False if they already were."""
    exists = session.execute(
        select(CardNotice.id).where(
            CardNotice.event_id == event_id, CardNotice.participant_id == participant_id
        )
    ).first()
    if exists:
        return False
    session.add(CardNotice(event_id=event_id, participant_id=participant_id, outbox_id=outbox_id))
    session.flush()
    return True


def notice_counts(session: Session) -> dict[tuple[int, str], int]:
    """(participant id, state) -> how many notices were queued: for checks that each update went once."""
    rows = session.execute(
        select(CardNotice.participant_id, CardEvent.to_state, func.count())
        .join(CardEvent, CardEvent.id == CardNotice.event_id)
        .group_by(CardNotice.participant_id, CardEvent.to_state)
    ).all()
    return {(int(pid), str(st)): int(n) for pid, st, n in rows}


def support(session: Session, card_id: int, participant_id: int, *, council: str, now: datetime) -> str:
    """Add one 'me too'. Returns added | already | own | closed | other_council | missing."""
    card = session.get(ChallengeCard, card_id)
    if card is None or card.quarantined or card.state == "routed_to_worker":
        return "missing"
    if card.raised_by == participant_id:
        return "own"
    if card.state in CLOSED_STATES:
        return "closed"
    if card.council != council:
        return "other_council"
    exists = session.execute(
        select(CardSupporter.id).where(
            CardSupporter.card_id == card_id, CardSupporter.participant_id == participant_id
        )
    ).first()
    if exists:
        return "already"
    session.add(CardSupporter(card_id=card_id, participant_id=participant_id, created_at=utc(now)))
    session.flush()
    return "added"


def cards_of(session: Session, participant_id: int) -> list[tuple[CardView, str]]:
    """Cards this participant raised or supported, newest first, with their role in each."""
    raised = list(
        session.execute(
            select(ChallengeCard)
            .where(ChallengeCard.raised_by == participant_id)
            .order_by(ChallengeCard.id.desc())  # type: ignore[union-attr]
        ).scalars()
    )
    backed = list(
        session.execute(
            select(ChallengeCard)
            .join(CardSupporter, CardSupporter.card_id == ChallengeCard.id)
            .where(CardSupporter.participant_id == participant_id)
            .order_by(ChallengeCard.id.desc())  # type: ignore[union-attr]
        ).scalars()
    )
    views = _views(session, raised + backed)
    return [(v, "raiser") for v in views[: len(raised)]] + [(v, "supporter") for v in views[len(raised) :]]


def supportable(session: Session, *, council: str, participant_id: int, limit: int = 5) -> list[CardView]:
    """Open cards in a council that this participant did not raise and has not supported yet, newest first."""
    mine = select(CardSupporter.card_id).where(CardSupporter.participant_id == participant_id)
    q = (
        select(ChallengeCard)
        .where(
            ChallengeCard.council == council,
            ChallengeCard.state.in_(sorted(SUPPORTABLE_STATES)),  # type: ignore[attr-defined]
            ChallengeCard.quarantined.is_(False),  # type: ignore[attr-defined]
            (ChallengeCard.raised_by != participant_id) | ChallengeCard.raised_by.is_(None),  # type: ignore[union-attr]
            ChallengeCard.id.not_in(mine),  # type: ignore[union-attr]
        )
        .order_by(ChallengeCard.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return _views(session, list(session.execute(q).scalars()))


def save_listing(session: Session, participant_id: int, card_ids: list[int], *, now: datetime) -> None:
    """Remember the numbered list just shown, so a later 'number 2' means the card they saw."""
    row = session.get(CardListing, participant_id) or CardListing(
        participant_id=participant_id, created_at=utc(now)
    )
    row.card_ids = ",".join(str(i) for i in card_ids)
    row.created_at = utc(now)
    session.add(row)
    session.flush()


def listing(session: Session, participant_id: int) -> list[int]:
    """The card ids last shown to this participant, in the order shown."""
    row = session.get(CardListing, participant_id)
    return [int(x) for x in row.card_ids.split(",") if x] if row else []


def events_between(
    session: Session, since: datetime | None, until: datetime
) -> list[tuple[CardView, CardEventView]]:
    """Staff-made state changes in (since, until], oldest first, with their cards and full histories."""
    q = select(CardEvent).where(CardEvent.at <= utc(until), CardEvent.from_state.is_not(None))  # type: ignore[union-attr]
    if since is not None:
        q = q.where(CardEvent.at > utc(since))
    events = list(session.execute(q.order_by(CardEvent.id)).scalars())
    rows = [session.get(ChallengeCard, i) for i in sorted({e.card_id for e in events})]
    cards = {c.id: c for c in _views(session, rows, with_events=True)}  # type: ignore[arg-type]
    return [(cards[e.card_id], _event_view(e)) for e in events]


def card_people(session: Session, card_ids: Iterable[int]) -> set[int]:
    """Active raisers and supporters of these cards."""
    out: set[int] = set()
    for cid in set(card_ids):
        out.update(r.participant_id for r in recipients(session, cid))
    return out


def took_part(
    session: Session, since: datetime | None, until: datetime, *, flow_ids: Iterable[str]
) -> list[Participant]:
    """Active participants who completed one of `flow_ids` in (since, until] (for 'you said, we did')."""
    q = (
        select(Participant)
        .join(Submission, Submission.participant_id == Participant.id)
        .where(
            Submission.status == "completed",
            Submission.flow_id.in_(sorted(set(flow_ids))),  # type: ignore[attr-defined]
            Submission.completed_at <= utc(until),  # type: ignore[operator]
            Participant.status == "active",
        )
        .distinct()
    )
    if since is not None:
        q = q.where(Submission.completed_at > utc(since))  # type: ignore[operator]
    return list(session.execute(q).scalars())


def participants(session: Session, ids: Iterable[int]) -> list[Participant]:
    """Active participants by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.execute(
            select(Participant).where(Participant.id.in_(wanted), Participant.status == "active")  # type: ignore[union-attr]
        ).scalars()
    )


def digest_sent(session: Session, panel_date: date, council: str) -> bool:
    return session.get(PanelDigest, (panel_date, council)) is not None


def record_digest(
    session: Session, panel_date: date, council: str, *, recipients: int, now: datetime
) -> bool:
    """Claim the 'you said, we did' for one Panel date and council; False if it was already sent."""
    if digest_sent(session, panel_date, council):
        return False
    session.add(PanelDigest(panel_date=panel_date, council=council, recipients=recipients, sent_at=utc(now)))
    session.flush()
    return True


# -- staff channel ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardToTell:
    """A new card the staff channel has not been told about: references only, never its words."""

    id: int
    council: str
    personal: bool
    held: bool


def awaiting_staff_notice(session: Session, *, limit: int = 50) -> list[CardToTell]:
    """Cards not yet announced to the staff channel, oldest first."""
    rows = session.execute(
        select(ChallengeCard.id, ChallengeCard.council, ChallengeCard.personal, ChallengeCard.quarantined)
        .where(ChallengeCard.staff_notified_at.is_(None))  # type: ignore[union-attr]
        .order_by(ChallengeCard.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    return [CardToTell(int(r[0]), r[1], bool(r[2]), bool(r[3])) for r in rows]


def mark_staff_notified(session: Session, card_ids: Iterable[int], *, now: datetime) -> int:
    """Record that the staff channel was told about these cards (so each is announced once)."""
    ids = list(card_ids)
    if not ids:
        return 0
    result = session.execute(
        update(ChallengeCard)
        .where(ChallengeCard.id.in_(ids), ChallengeCard.staff_notified_at.is_(None))  # type: ignore[union-attr]
        .values(staff_notified_at=utc(now))
    )
    return int(result.rowcount or 0)
