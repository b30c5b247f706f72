"""Review statements ('get ready for my review'): encrypted drafts, the choice made, delivery status.

Owns the review_statement table and deleting a discarded statement's free text. Stores only what it is
given (already encrypted); must not send mail itself: `after_commit` lets the caller send once the
transaction that recorded the choice has committed, so a rolled-back step never sends anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, event, or_, select
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from storage.db import session as new_session
from storage.db import utc
from storage.models import Answer, ReviewStatement

log = logging.getLogger("ourvoice.reviews")
SessionFactory = Callable[[], AbstractContextManager[Session]]


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
) -> ReviewView | None:
    """Record the young person's choice (sending/kept) or the delivery result (sent/failed)."""
    row = _row(session, submission_id)
    if row is None:
        return None
    row.status = status
    row.updated_at = utc(now)
    if role is not None:
        row.sent_to_role = role
    if address is not None:
        row.sent_to_address = address
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


def after_commit(session: Session, callback: Callable[[SessionFactory], None]) -> None:
    """Run `callback(open_session)` once, after this transaction commits; never if it rolls back.

    Savepoints count: asked from inside one (group commit steps each event of a batch in its own), the
    callback runs only when the whole transaction commits, and never if that savepoint or one around it
    was rolled back, even though the transaction itself then commits.

    The callback gets a factory for fresh transactions (the committed one is finished). It must not
    raise: anything it does not handle is swallowed so a committed step never looks failed.
    """
    engine = session.get_bind()
    owner = session.get_nested_transaction() or session.get_transaction()
    state = {"cancelled": False, "fired": False}

    def factory() -> AbstractContextManager[Session]:
        return new_session(engine)  # type: ignore[arg-type]

    def rolled_back(_session: Session, ended: SessionTransaction) -> None:
        txn = owner
        while txn is not None:
            if txn is ended:
                state["cancelled"] = True
                return
            txn = txn.parent

    def committed(sess: Session) -> None:
        # SQLAlchemy also announces a savepoint's release as a commit: wait for the real one.
        if sess.get_nested_transaction() is not None or state["cancelled"] or state["fired"]:
            return
        state["fired"] = True
        try:
            callback(factory)
        except Exception:
            log.exception("review.after_commit_failed")

    event.listen(session, "after_soft_rollback", rolled_back)
    event.listen(session, "after_commit", committed)
