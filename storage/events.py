"""Council meetings and participation events (issue 20): the events staff record, who was invited and replied,
who came (per person, pseudonymous, plus unnamed people from a paper register) and their evaluations.

Owns every query on participation_event, event_invitation, event_attendance and event_evaluation.
`activity_for_period` is what the Panel paper reads; its signature stays stable.
Must not compose wording, know about channels or decrypt anything (the evaluation's words arrive sealed).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import (
    EventAttendance,
    EventEvaluation,
    EventInvitation,
    Participant,
    ParticipationEvent,
)

KINDS: dict[str, str] = {
    "council_meeting": "council meeting",
    "activity_day": "activity day",
    "holiday_event": "holiday event",
    "residential": "residential",
    "consultation": "consultation",
}
STATUSES = ("planned", "closed", "cancelled")
SOURCES = ("qr", "code", "register")
RATINGS = (1, 2, 3, 4, 5)  # "How was it?": 1 not good .. 5 brilliant
# Short codes are six digits: easy to type from a poster on any phone keyboard, the same in every language, and
# never read as words by the language and risk checks (letters such as "/start ev_KXPQRT" looked like a
# foreign-language message and were held as unassessed).
CODE_ALPHABET = "0123456789"
CODE_LENGTH = 6


class EventError(ValueError):
    """No such event, or it cannot take this change (closed, cancelled)."""


@dataclass(frozen=True)
class EventView:
    """One event as staff see it (no people, only counts live elsewhere)."""

    id: int
    kind: str
    title: str
    held_on: date
    start_time: str | None
    council: str | None
    bands: tuple[str, ...]
    district: str | None
    place: str
    topics: tuple[str, ...]
    status: str
    short_code: str
    unnamed_attendees: int
    created_by: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class EventSummary:
    """One event with its counts, for the Panel paper and staff pages (raw counts: callers apply disclosure).

    `attended` is distinct people: named check-ins and register entries, plus unnamed people on a register.
    `ratings` maps each "How was it?" answer (1-5) to how many gave it.
    """

    id: int
    kind: str
    title: str
    council: str | None
    area: str | None
    place: str
    held_on: date
    topics: tuple[str, ...]
    status: str
    bands: tuple[str, ...]
    invited: int
    going: int
    not_going: int
    attended: int
    attended_named: int
    unnamed_attendees: int
    evaluations: int
    ratings: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reach:
    """How many distinct named young people came to one or more, and two or more, events in a period."""

    events: int
    one_or_more: int
    two_or_more: int
    unnamed: int


def _at(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives naive values back; every stored time is UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _split(raw: str, sep: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (raw or "").split(sep) if x.strip())


def _view(r: ParticipationEvent) -> EventView:
    return EventView(
        id=r.id or 0,
        kind=r.kind,
        title=r.title,
        held_on=r.held_on,
        start_time=r.start_time,
        council=r.council,
        bands=_split(r.bands, ","),
        district=r.district,
        place=r.place,
        topics=_split(r.topics, "\n"),
        status=r.status,
        short_code=r.short_code,
        unnamed_attendees=r.unnamed_attendees,
        created_by=r.created_by,
        created_at=_at(r.created_at),
        closed_at=utc(r.closed_at),
    )


def normalise_code(raw: str) -> str:
    """What a person typed, as a stored short code (case and spaces ignored)."""
    return "".join(raw.split()).upper()


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if by_code(session, code) is None:
            return code


def create(
    session: Session,
    *,
    kind: str,
    title: str,
    held_on: date,
    start_time: str | None,
    council: str | None,
    bands: tuple[str, ...],
    district: str | None,
    place: str,
    topics: tuple[str, ...],
    created_by: str,
    now: datetime,
) -> EventView:
    """Store a planned event with a fresh short code (the caller has checked kind, council and district)."""
    if kind not in KINDS:
        raise EventError(f"unknown kind {kind}")
    row = ParticipationEvent(
        kind=kind,
        title=title[:120],
        held_on=held_on,
        start_time=start_time,
        council=council,
        bands=",".join(bands),
        district=district,
        place=place[:120],
        topics="\n".join(topics),
        short_code=_new_code(session),
        created_by=created_by[:80],
        created_at=_at(now),
    )
    session.add(row)
    session.flush()
    return _view(row)


def get(session: Session, event_id: int) -> EventView | None:
    row = session.get(ParticipationEvent, event_id)
    return _view(row) if row else None


def by_code(session: Session, code: str) -> EventView | None:
    """The event with this short code (as typed or in a QR link), or None."""
    row = session.execute(
        select(ParticipationEvent).where(col(ParticipationEvent.short_code) == normalise_code(code))
    ).scalar_one_or_none()
    return _view(row) if row else None


def list_events(
    session: Session,
    *,
    districts: tuple[str, ...] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[EventView]:
    """Events in [start, end] (either open-ended), newest first; `districts` keeps those districts and
    county-wide events (None = every event)."""
    q = select(ParticipationEvent)
    if start is not None:
        q = q.where(col(ParticipationEvent.held_on) >= start)
    if end is not None:
        q = q.where(col(ParticipationEvent.held_on) <= end)
    if districts is not None:
        q = q.where(
            col(ParticipationEvent.district).is_(None) | col(ParticipationEvent.district).in_(districts)
        )
    q = q.order_by(col(ParticipationEvent.held_on).desc(), col(ParticipationEvent.id).desc())
    return [_view(r) for r in session.execute(q).scalars()]


def close(session: Session, event_id: int, *, now: datetime) -> EventView:
    """Mark a held event closed: no more check-ins; evaluations still come in."""
    row = session.get(ParticipationEvent, event_id)
    if row is None:
        raise EventError(f"no event {event_id}")
    if row.status != "planned":
        raise EventError(f"event {event_id} is already {row.status}")
    row.status = "closed"
    row.closed_at = utc(now)
    session.add(row)
    session.flush()
    return _view(row)


# --- invitations ---------------------------------------------------------------------------------------


def eligible(session: Session, event: EventView) -> list[int]:
    """Active young people the event is for: in its bands and, when it has an area, in that district."""
    q = select(col(Participant.id)).where(
        col(Participant.audience) == "young_person", col(Participant.status) == "active"
    )
    if event.bands:
        q = q.where(col(Participant.band).in_(event.bands))
    if event.district:
        q = q.where(col(Participant.district) == event.district)
    return [int(pid) for pid in session.execute(q.order_by(col(Participant.id))).scalars()]


def invite(session: Session, event_id: int, participant_ids: list[int], *, now: datetime) -> int:
    """Add invitations (already-invited people are skipped); returns how many are new. The job sends them."""
    q = select(col(EventInvitation.participant_id)).where(col(EventInvitation.event_id) == event_id)
    have = set(session.execute(q).scalars())
    added = 0
    for pid in dict.fromkeys(participant_ids):
        if pid in have:
            continue
        session.add(EventInvitation(event_id=event_id, participant_id=pid, created_at=_at(now)))
        added += 1
    session.flush()
    return added


def unsent_invitations(session: Session, *, today: date, limit: int = 500) -> list[tuple[int, int]]:
    """(invitation id, event id) not yet sent, for planned events today or later."""
    q = (
        select(col(EventInvitation.id), col(EventInvitation.event_id))
        .join(ParticipationEvent, col(ParticipationEvent.id) == col(EventInvitation.event_id))
        .where(
            col(EventInvitation.sent_at).is_(None),
            col(ParticipationEvent.status) == "planned",
            col(ParticipationEvent.held_on) >= today,
        )
        .order_by(col(EventInvitation.id))
        .limit(limit)
    )
    return [(int(i), int(e)) for i, e in session.execute(q)]


def reminders_due(session: Session, *, today: date, limit: int = 500) -> list[tuple[int, int]]:
    """(invitation id, event id) to remind: sent, not declined, not yet reminded, event tomorrow or today."""
    from datetime import timedelta

    q = (
        select(col(EventInvitation.id), col(EventInvitation.event_id))
        .join(ParticipationEvent, col(ParticipationEvent.id) == col(EventInvitation.event_id))
        .where(
            col(EventInvitation.sent_at).is_not(None),
            col(EventInvitation.reminded_at).is_(None),
            (col(EventInvitation.rsvp).is_(None)) | (col(EventInvitation.rsvp) == "going"),
            col(ParticipationEvent.status) == "planned",
            col(ParticipationEvent.held_on) >= today,
            col(ParticipationEvent.held_on) <= today + timedelta(days=1),
        )
        .order_by(col(EventInvitation.id))
        .limit(limit)
    )
    return [(int(i), int(e)) for i, e in session.execute(q)]


def invitation(session: Session, invitation_id: int) -> EventInvitation | None:
    return session.get(EventInvitation, invitation_id)


def mark_invitation(session: Session, invitation_id: int, *, sent: bool = False, reminded: bool = False,
                    now: datetime) -> None:
    row = session.get(EventInvitation, invitation_id)
    if row is None:
        return
    if sent:
        row.sent_at = utc(now)
    if reminded:
        row.reminded_at = utc(now)
    session.add(row)
    session.flush()


def rsvp(session: Session, event_id: int, participant_id: int, answer: str, *, now: datetime) -> bool:
    """Record going / not_going for an invited person (the latest reply counts); False if not invited."""
    if answer not in ("going", "not_going"):
        raise EventError("answer going or not_going")
    row = session.execute(
        select(EventInvitation).where(
            col(EventInvitation.event_id) == event_id, col(EventInvitation.participant_id) == participant_id
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    row.rsvp = answer
    row.rsvp_at = utc(now)
    session.add(row)
    session.flush()
    return True


# --- attendance -----------------------------------------------------------------------------------------


def check_in(session: Session, event_id: int, participant_id: int, *, source: str, now: datetime) -> bool:
    """Count one person at an event (once, whatever the source); True when this is their first check-in."""
    if source not in SOURCES:
        raise EventError(f"unknown source {source}")
    found = session.execute(
        select(col(EventAttendance.id)).where(
            col(EventAttendance.event_id) == event_id, col(EventAttendance.participant_id) == participant_id
        )
    ).first()
    if found:
        return False
    person = session.get(Participant, participant_id)
    session.add(
        EventAttendance(
            event_id=event_id,
            participant_id=participant_id,
            source=source,
            band=person.band if person else None,
            district=person.district if person else None,
            recorded_at=_at(now),
        )
    )
    session.flush()
    return True


def set_unnamed(session: Session, event_id: int, count: int) -> None:
    """The number of unnamed people on the paper register (replaces the previous figure)."""
    row = session.get(ParticipationEvent, event_id)
    if row is None:
        raise EventError(f"no event {event_id}")
    row.unnamed_attendees = max(0, count)
    session.add(row)
    session.flush()


def participant_by_ref(session: Session, case_ref: str) -> int | None:
    """A participant's id from their pseudonymous reference (what a paper register lists)."""
    pid = session.execute(
        select(col(Participant.id)).where(col(Participant.case_ref) == case_ref.strip().upper())
    ).scalar_one_or_none()
    return int(pid) if pid is not None else None


def evaluations_due(session: Session, *, today: date, limit: int = 500) -> list[tuple[int, int]]:
    """(attendance id, event id) whose evaluation is not yet sent, for events held before today."""
    q = (
        select(col(EventAttendance.id), col(EventAttendance.event_id))
        .join(ParticipationEvent, col(ParticipationEvent.id) == col(EventAttendance.event_id))
        .where(
            col(EventAttendance.evaluation_sent_at).is_(None),
            col(ParticipationEvent.held_on) < today,
            col(ParticipationEvent.status) != "cancelled",
        )
        .order_by(col(EventAttendance.id))
        .limit(limit)
    )
    return [(int(i), int(e)) for i, e in session.execute(q)]


def attendance(session: Session, attendance_id: int) -> EventAttendance | None:
    return session.get(EventAttendance, attendance_id)


def mark_evaluation_sent(session: Session, attendance_id: int, *, now: datetime) -> None:
    row = session.get(EventAttendance, attendance_id)
    if row is not None:
        row.evaluation_sent_at = utc(now)
        session.add(row)
        session.flush()


def attended(session: Session, event_id: int, participant_id: int) -> bool:
    return bool(
        session.execute(
            select(col(EventAttendance.id)).where(
                col(EventAttendance.event_id) == event_id, col(EventAttendance.participant_id) == participant_id
            )
        ).first()
    )


def save_evaluation(
    session: Session,
    *,
    event_id: int,
    participant_id: int,
    rating: int | None,
    next_time_enc: bytes | None,
    quarantined: bool,
    band: str | None,
    now: datetime,
) -> bool:
    """Keep one attendee's evaluation (the first one counts); False when they already answered."""
    found = session.execute(
        select(col(EventEvaluation.id)).where(
            col(EventEvaluation.event_id) == event_id, col(EventEvaluation.participant_id) == participant_id
        )
    ).first()
    if found:
        return False
    session.add(
        EventEvaluation(
            event_id=event_id,
            participant_id=participant_id,
            rating=rating if rating in RATINGS else None,
            next_time_enc=next_time_enc,
            quarantined=quarantined,
            band=band,
            answered_at=_at(now),
        )
    )
    session.flush()
    return True


def next_time_words(session: Session, event_id: int) -> list[bytes]:
    """The sealed "What should we do next time?" answers of an event that were not flagged, oldest first."""
    q = (
        select(col(EventEvaluation.next_time_enc))
        .where(
            col(EventEvaluation.event_id) == event_id,
            col(EventEvaluation.quarantined).is_(False),
            col(EventEvaluation.next_time_enc).is_not(None),
        )
        .order_by(col(EventEvaluation.id))
    )
    return [bytes(b) for b in session.execute(q).scalars()]


# --- summaries (what the Panel paper and staff pages read) ----------------------------------------------


def _counts(session: Session, event_col: Any, event_ids: list[int], where: Any = None) -> Counter[int]:
    """Rows per event id in the table `event_col` belongs to (optionally only those matching `where`)."""
    if not event_ids:
        return Counter()
    q = select(event_col, func.count()).where(event_col.in_(event_ids))
    if where is not None:
        q = q.where(where)
    return Counter({int(e): int(n) for e, n in session.execute(q.group_by(event_col))})


def summarise(session: Session, views: list[EventView]) -> list[EventSummary]:
    """Counts for each event, in the order given."""
    ids = [v.id for v in views]
    invited = _counts(session, col(EventInvitation.event_id), ids)
    going = _counts(session, col(EventInvitation.event_id), ids, col(EventInvitation.rsvp) == "going")
    declined = _counts(session, col(EventInvitation.event_id), ids, col(EventInvitation.rsvp) == "not_going")
    named = _counts(session, col(EventAttendance.event_id), ids)
    evaluated = _counts(session, col(EventEvaluation.event_id), ids)
    ratings: dict[int, dict[int, int]] = {}
    if ids:
        rows = session.execute(
            select(col(EventEvaluation.event_id), col(EventEvaluation.rating), func.count())
            .where(col(EventEvaluation.event_id).in_(ids), col(EventEvaluation.rating).is_not(None))
            .group_by(col(EventEvaluation.event_id), col(EventEvaluation.rating))
        )
        for e, r, n in rows:
            ratings.setdefault(int(e), {})[int(r)] = int(n)
    return [
        EventSummary(
            id=v.id,
            kind=v.kind,
            title=v.title,
            council=v.council,
            area=v.district,
            place=v.place,
            held_on=v.held_on,
            topics=v.topics,
            status=v.status,
            bands=v.bands,
            invited=invited[v.id],
            going=going[v.id],
            not_going=declined[v.id],
            attended=named[v.id] + v.unnamed_attendees,
            attended_named=named[v.id],
            unnamed_attendees=v.unnamed_attendees,
            evaluations=evaluated[v.id],
            ratings={r: ratings.get(v.id, {}).get(r, 0) for r in RATINGS},
        )
        for v in views
    ]


def activity_for_period(session: Session, start: date, end: date) -> list[EventSummary]:
    """Every event held in [start, end] (both inclusive) that was not cancelled, oldest first, with counts:
    invited, going, attended (distinct people), evaluations and the "How was it?" answers.

    Raw counts: whoever shows them to staff passes them through the disclosure layer.
    """
    views = [v for v in list_events(session, start=start, end=end) if v.status != "cancelled"]
    views.sort(key=lambda v: (v.held_on, v.id))
    return summarise(session, views)


def reach_for_period(session: Session, start: date, end: date, *, kinds: tuple[str, ...] | None = None) -> Reach:
    """Distinct named young people at one or more, and at two or more, events held in [start, end]
    ("297 children at one or more activity days, 55 at two or more"); `kinds` limits the event kinds."""
    q = select(col(ParticipationEvent.id), col(ParticipationEvent.unnamed_attendees)).where(
        col(ParticipationEvent.held_on) >= start,
        col(ParticipationEvent.held_on) <= end,
        col(ParticipationEvent.status) != "cancelled",
    )
    if kinds:
        q = q.where(col(ParticipationEvent.kind).in_(kinds))
    events = list(session.execute(q))
    ids = [int(e) for e, _ in events]
    per_person: Counter[int] = Counter()
    if ids:
        for pid in session.execute(
            select(col(EventAttendance.participant_id)).where(col(EventAttendance.event_id).in_(ids))
        ).scalars():
            per_person[int(pid)] += 1
    return Reach(
        events=len(ids),
        one_or_more=len(per_person),
        two_or_more=sum(1 for n in per_person.values() if n >= 2),
        unnamed=sum(int(u) for _, u in events),
    )


def ratings_by_person(session: Session, start: date, end: date) -> Counter[int]:
    """People by their latest "How was it?" answer (1-5) at an event held in [start, end] (both inclusive):
    each person counted once, so the Panel paper's table adds up to the people who answered. Answers held
    back by the safeguarding check are not counted; unnamed register entries never evaluate.

    Raw counts: whoever shows them passes them through the disclosure layer.
    """
    q = (
        select(col(EventEvaluation.participant_id), col(EventEvaluation.rating))
        .join(ParticipationEvent, col(ParticipationEvent.id) == col(EventEvaluation.event_id))
        .where(
            col(ParticipationEvent.held_on) >= start,
            col(ParticipationEvent.held_on) <= end,
            col(ParticipationEvent.status) != "cancelled",
            col(EventEvaluation.rating).is_not(None),
            col(EventEvaluation.participant_id).is_not(None),
            col(EventEvaluation.quarantined).is_(False),
        )
        .order_by(col(ParticipationEvent.held_on), col(EventEvaluation.answered_at), col(EventEvaluation.id))
    )
    latest: dict[int, int] = {}
    for pid, rating in session.execute(q):
        latest[int(pid)] = int(rating)
    return Counter(latest.values())


def awaiting_evaluation(session: Session, participant_id: int) -> int | None:
    """The event whose evaluation this person was last asked for and has not answered (None: nothing open)."""
    answered = select(col(EventEvaluation.event_id)).where(col(EventEvaluation.participant_id) == participant_id)
    q = (
        select(col(EventAttendance.event_id))
        .where(
            col(EventAttendance.participant_id) == participant_id,
            col(EventAttendance.evaluation_sent_at).is_not(None),
            col(EventAttendance.event_id).not_in(answered),
        )
        .order_by(col(EventAttendance.evaluation_sent_at).desc(), col(EventAttendance.id).desc())
        .limit(1)
    )
    found = session.execute(q).scalar_one_or_none()
    return int(found) if found is not None else None


def active_young_people(session: Session) -> list[Participant]:
    """Every active young person (the demo seed picks who was invited and who came from these)."""
    q = select(Participant).where(col(Participant.audience) == "young_person", col(Participant.status) == "active")
    return list(session.execute(q.order_by(col(Participant.id))).scalars())
