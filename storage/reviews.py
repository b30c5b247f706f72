"""Review statements ('get ready for my review'): encrypted drafts, the choice made, delivery status.

Owns the review_statement table and deleting a discarded statement's free text. Stores only what it is
given (already encrypted); never sends mail: the statement goes as an email outbox row written in the same
transaction (bot/features/young_people.py), and `finished_deliveries` reads that row's fate back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import Answer, OutboxMessage, Participant, ReviewStatement


@dataclass(frozen=True)
class ReviewView:
    id: int
    participant_id: int | None
    submission_id: int | None
    status: str
    has_text: bool
    sent_to_role: str | None
    sent_to_address: str | None
    created_at: datetime
    sent_at: datetime | None


def _view(row: ReviewStatement) -> ReviewView:
    return ReviewView(
        id=row.id or 0,
        participant_id=row.participant_id,
        submission_id=row.submission_id,
        status=row.status,
        has_text=row.statement_enc is not None,
        sent_to_role=row.sent_to_role,
        sent_to_address=row.sent_to_address,
        created_at=utc(row.created_at),
        sent_at=utc(row.sent_at),  # type: ignore[arg-type]
    )


def _row(session: Session, submission_id: int) -> ReviewStatement | None:
    return session.execute(
        select(ReviewStatement).where(ReviewStatement.submission_id == submission_id)
    ).scalar_one_or_none()


def save_draft(
    session: Session, *, participant_id: int, submission_id: int, statement_enc: bytes | None, now: datetime
) -> ReviewView:
    """Store (or replace, after an edit) the encrypted statement shown back to the young person."""
    row = _row(session, submission_id) or ReviewStatement(
        participant_id=participant_id,
        submission_id=submission_id,
        created_at=utc(now),
        updated_at=utc(now),
    )
    row.statement_enc = statement_enc
    row.status = "draft"
    row.updated_at = utc(now)
    session.add(row)
    session.flush()
    return _view(row)


def statement_enc(session: Session, submission_id: int) -> bytes | None:
    """The encrypted statement of a submission (None when there is none or it was discarded)."""
    row = _row(session, submission_id)
    return row.statement_enc if row else None


def get(session: Session, submission_id: int) -> ReviewView | None:
    row = _row(session, submission_id)
    return _view(row) if row else None


def for_participant(session: Session, participant_id: int) -> list[ReviewView]:
    """A participant's statements, newest first (for their own 'my stuff' view and tests)."""
    rows = session.execute(
        select(ReviewStatement)
        .where(ReviewStatement.participant_id == participant_id)
        .order_by(ReviewStatement.id.desc())  # type: ignore[union-attr]
    ).scalars()
    return [_view(r) for r in rows]


def set_status(
    session: Session,
    submission_id: int,
    status: str,
    *,
    now: datetime,
    role: str | None = None,
    address: str | None = None,
    outbox_id: int | None = None,
) -> ReviewView | None:
    """Record the young person's choice (sending/kept, with the email row carrying it) or the delivery result
    (sent/failed)."""
    row = _row(session, submission_id)
    if row is None:
        return None
    row.status = status
    row.updated_at = utc(now)
    if role is not None:
        row.sent_to_role = role
    if address is not None:
        row.sent_to_address = address
    if outbox_id is not None:
        row.outbox_id = outbox_id
    if status == "sent":
        row.sent_at = utc(now)
    session.add(row)
    session.flush()
    return _view(row)


def discard(session: Session, *, submission_id: int, participant_id: int, now: datetime) -> int:
    """Delete the statement text and every free-text answer of the submission; returns answers deleted."""
    row = _row(session, submission_id)
    if row is None:
        row = ReviewStatement(
            participant_id=participant_id,
            submission_id=submission_id,
            created_at=utc(now),
            updated_at=utc(now),
        )
    row.statement_enc = None
    row.status = "discarded"
    row.updated_at = utc(now)
    session.add(row)
    return delete_free_text(session, submission_id)


def delete_free_text(session: Session, submission_id: int) -> int:
    """Delete the free-text answers of one submission (used when a young person throws a draft away)."""
    result = session.execute(
        delete(Answer).where(
            Answer.submission_id == submission_id,
            or_(Answer.text_value.is_not(None), Answer.text_enc.is_not(None)),  # type: ignore[union-attr]
        )
    )
    session.flush()
    return int(result.rowcount or 0)


def has_quarantined(session: Session, submission_id: int) -> bool:
    """True when safeguarding flagged any answer of this submission."""
    found = session.execute(
        select(Answer.id).where(Answer.submission_id == submission_id, Answer.quarantined.is_(True))  # type: ignore[attr-defined]
    ).first()
    return found is not None


@dataclass(frozen=True)
class Delivery:
    """A statement whose email the sender has finished with: sent, or given up ('dead')."""

    submission_id: int
    participant_id: int | None
    role: str | None
    outcome: str  # sent | dead
    at: datetime | None


def finished_deliveries(session: Session, limit: int = 500) -> list[Delivery]:
    """Statements still 'sending' whose email outbox row is sent or dead (admin/jobs/reviews.py records them)."""
    rows = session.execute(
        select(
            col(ReviewStatement.submission_id), col(ReviewStatement.participant_id),
            col(ReviewStatement.sent_to_role), col(OutboxMessage.status), col(OutboxMessage.sent_at),
        )
        .join(OutboxMessage, col(OutboxMessage.id) == col(ReviewStatement.outbox_id))
        .where(col(ReviewStatement.status) == "sending", col(OutboxMessage.status).in_(("sent", "dead")))
        .order_by(col(ReviewStatement.id))
        .limit(limit)
    ).all()
    return [Delivery(int(r[0]), r[1], r[2], str(r[3]), utc(r[4]) if r[4] else None) for r in rows]


def participant_by_ref(session: Session, case_ref: str) -> Participant | None:
    """The participant whose ourvoice reference (P-...) a review statement's email carries."""
    return session.execute(
        select(Participant).where(col(Participant.case_ref) == case_ref.strip().upper())
    ).scalar_one_or_none()
