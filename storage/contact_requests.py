"""Requests to be contacted (issue 25): the `contact_request` table's SQL.

Finds new consents (a Yes to a question marked `contact:` in a sent submission), files each once (the answer
id is unique, so two processes cannot file one twice), and records acknowledgement, replies and outcome.
Holds no words and no names; never reads the clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.db import utc
from storage.models import Answer, ContactRequest, Participant, Submission

YES = json.dumps("yes")
# Whose queue a request goes to, by the audience of the person who asked.
TEAM_OF_AUDIENCE: dict[str, str] = {"carer": "fostering_team", "young_person": "participation_worker"}


@dataclass(frozen=True)
class Consent:
    """A Yes to a contact question in a sent submission that has no request yet."""

    answer_id: int
    participant_id: int | None
    audience: str
    district: str | None
    flow_id: str
    question_id: str
    answered_at: datetime


@dataclass(frozen=True)
class RequestView:
    """One request as staff see it: whose queue, where from, and what has happened (never who or why)."""

    id: int
    participant_id: int | None
    team: str
    audience: str
    district: str | None
    flow_id: str
    question_id: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    replies: int
    last_reply_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None

    @property
    def status(self) -> str:
        if self.closed_at:
            return "closed"
        if self.replies:
            return "replied"
        return "acknowledged" if self.acknowledged_at else "new"


def _view(r: ContactRequest) -> RequestView:
    return RequestView(
        r.id, r.participant_id, r.team, r.audience, r.district, r.flow_id, r.question_id,  # type: ignore[arg-type]
        utc(r.created_at), utc(r.acknowledged_at), r.acknowledged_by, r.replies, utc(r.last_reply_at),  # type: ignore[arg-type]
        utc(r.closed_at), r.closed_by, r.outcome,
    )


def new_consents(session: Session, questions: Iterable[tuple[str, str]], *, limit: int = 500) -> list[Consent]:
    """Yes answers to the given (flow id, question id) pairs in completed submissions, not yet filed."""
    pairs = list(questions)
    if not pairs:
        return []
    which = or_(*(and_(col(Submission.flow_id) == f, col(Answer.question_id) == q) for f, q in pairs))
    filed = exists().where(col(ContactRequest.answer_id) == col(Answer.id))
    rows = session.execute(
        select(col(Answer.id), col(Submission.participant_id), col(Submission.audience), col(Submission.district),
               col(Submission.flow_id), col(Answer.question_id), col(Answer.answered_at))
        .join(Submission, col(Submission.id) == col(Answer.submission_id))
        .where(which, col(Submission.status) == "completed", col(Answer.value_json) == YES, ~filed)
        .order_by(col(Answer.id))
        .limit(limit)
    ).all()
    return [Consent(r[0], r[1], r[2], r[3], r[4], r[5], utc(r[6])) for r in rows]  # type: ignore[arg-type]


def consent_in_run(
    session: Session, participant_id: int, flow_id: str, run: int, question_id: str
) -> Consent | None:
    """The Yes to a contact question given in this run (asked and answered just now), filed or not; None when the
    answer was not Yes."""
    row = session.execute(
        select(col(Answer.id), col(Submission.participant_id), col(Submission.audience), col(Submission.district),
               col(Submission.flow_id), col(Answer.question_id), col(Answer.answered_at))
        .join(Submission, col(Submission.id) == col(Answer.submission_id))
        .where(col(Submission.participant_id) == participant_id, col(Submission.flow_id) == flow_id,
               col(Submission.run) == run, col(Answer.question_id) == question_id, col(Answer.value_json) == YES)
    ).first()
    return Consent(row[0], row[1], row[2], row[3], row[4], row[5], utc(row[6])) if row else None  # type: ignore[arg-type]


def request_of_answer(session: Session, answer_id: int) -> int | None:
    found = session.execute(select(col(ContactRequest.id)).where(col(ContactRequest.answer_id) == answer_id)).first()
    return int(found[0]) if found else None


def file(session: Session, consent: Consent, *, team: str, now: datetime) -> int | None:
    """File one consent in `team`'s queue; None when another process filed it first."""
    row = ContactRequest(
        answer_id=consent.answer_id, participant_id=consent.participant_id, team=team, audience=consent.audience,
        district=consent.district, flow_id=consent.flow_id, question_id=consent.question_id, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row.id


def get(session: Session, request_id: int) -> RequestView | None:
    row = session.get(ContactRequest, request_id)
    return _view(row) if row is not None else None


def listing(
    session: Session, *, teams: Iterable[str], districts: tuple[str, ...] | None, open_only: bool = True,
    limit: int = 500,
) -> list[RequestView]:
    """Requests in the given teams' queues (and districts, None = all): open ones oldest first, or the
    closed ones latest first."""
    q = select(ContactRequest).where(col(ContactRequest.team).in_(list(teams)))
    if districts is not None:
        q = q.where(col(ContactRequest.district).in_(districts))
    if open_only:
        q = q.where(col(ContactRequest.closed_at).is_(None))
        q = q.order_by(col(ContactRequest.created_at), col(ContactRequest.id))
    else:
        q = q.where(col(ContactRequest.closed_at).is_not(None)).order_by(col(ContactRequest.closed_at).desc())
    return [_view(r) for r in session.execute(q.limit(limit)).scalars()]


def acknowledge(session: Session, request_id: int, *, by: str, now: datetime) -> bool:
    """Mark a request acknowledged; False when it already was."""
    result = session.execute(
        update(ContactRequest)
        .where(col(ContactRequest.id) == request_id, col(ContactRequest.acknowledged_at).is_(None))
        .values(acknowledged_at=now, acknowledged_by=by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def note_reply(session: Session, request_id: int, *, by: str, now: datetime) -> None:
    """Count a reply sent (a reply acknowledges the request too, if nobody had)."""
    acknowledge(session, request_id, by=by, now=now)
    session.execute(
        update(ContactRequest)
        .where(col(ContactRequest.id) == request_id)
        .values(replies=ContactRequest.replies + 1, last_reply_at=now)
    )


def close(session: Session, request_id: int, *, by: str, outcome: str, now: datetime) -> bool:
    """Close a request with its outcome; False when it was already closed."""
    result = session.execute(
        update(ContactRequest)
        .where(col(ContactRequest.id) == request_id, col(ContactRequest.closed_at).is_(None))
        .values(closed_at=now, closed_by=by, outcome=outcome)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def participant_of(session: Session, request_id: int) -> Participant | None:
    row = session.get(ContactRequest, request_id)
    return session.get(Participant, row.participant_id) if row is not None and row.participant_id else None
