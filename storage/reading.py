"""The "To read" queue: which free-text answers (and challenge card text) staff have not read yet.

Owns the `to_read` table's SQL. Holds no words itself: `words` hands back the answer row's text (plain, or
the encrypted copy for flagged text) for the caller to decrypt and audit. Never reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session, col

from storage.db import core, utc
from storage.models import Answer, ChallengeCard, Participant, Quote, ToRead

_TR = ToRead.__table__  # type: ignore[attr-defined]
_FIND = select(_TR.c.id).where(_TR.c.answer_id == bindparam("aid"))
_RESET = (
    update(_TR)
    .where(_TR.c.id == bindparam("entry_id"))
    .values(
        score=bindparam("score"), flagged=bindparam("flagged"), created_at=bindparam("now"),
        read_at=None, read_by=None, alert_ref=None, escalated_at=None,
    )
)
_ADD = insert(_TR)


@dataclass(frozen=True)
class ReadingView:
    """One queue entry as staff see it: where the words came from, how worrying, and what happened."""

    id: int
    answer_id: int
    participant_id: int | None
    flow_id: str
    question_id: str
    district: str | None
    score: float
    flagged: bool
    created_at: datetime
    read_at: datetime | None
    read_by: str | None
    alert_ref: str | None
    escalated_at: datetime | None

    @property
    def status(self) -> str:
        if self.alert_ref:
            return "alerted"
        return "read" if self.read_at else "unread"


def _view(r: ToRead) -> ReadingView:
    return ReadingView(
        r.id, r.answer_id, r.participant_id, r.flow_id, r.question_id, r.district, float(r.score),  # type: ignore[arg-type]
        bool(r.flagged), utc(r.created_at), utc(r.read_at), r.read_by, r.alert_ref, utc(r.escalated_at),  # type: ignore[arg-type]
    )


def add(
    session: Session,
    *,
    answer_id: int,
    participant_id: int | None,
    flow_id: str,
    question_id: str,
    district: str | None,
    score: float,
    flagged: bool,
    now: datetime,
) -> int:
    """Queue a free-text answer for reading; an answer given again (after /back) is unread again."""
    conn = core(session)
    found = conn.execute(_FIND, {"aid": answer_id}).scalar_one_or_none()
    values = {"score": float(score), "flagged": bool(flagged), "now": now}
    if found is not None:
        conn.execute(_RESET, {"entry_id": found, **values})
        return int(found)
    row = {
        "answer_id": answer_id, "participant_id": participant_id, "flow_id": flow_id,
        "question_id": question_id, "district": district, "score": float(score), "flagged": bool(flagged),
        "created_at": now,
    }
    return int(conn.execute(_ADD, row).inserted_primary_key[0])


def _scoped(q, districts: tuple[str, ...] | None):
    # District-scoped staff see only entries from their districts (never ones with no district).
    return q if districts is None else q.where(ToRead.district.in_(districts))  # type: ignore[union-attr]


def unread(session: Session, *, districts: tuple[str, ...] | None = None, limit: int = 500) -> list[ReadingView]:
    """Unread entries, highest risk score first, then oldest first (risk-first, not first-come)."""
    q = select(ToRead).where(ToRead.read_at.is_(None))  # type: ignore[union-attr]
    q = _scoped(q, districts).order_by(ToRead.score.desc(), ToRead.created_at, ToRead.id).limit(limit)  # type: ignore[attr-defined]
    return [_view(r) for r in session.execute(q).scalars()]


def recently_read(
    session: Session, *, districts: tuple[str, ...] | None = None, limit: int = 50
) -> list[ReadingView]:
    """Entries already read (or turned into alerts), most recently read first."""
    q = select(ToRead).where(ToRead.read_at.is_not(None))  # type: ignore[union-attr]
    q = _scoped(q, districts).order_by(ToRead.read_at.desc(), ToRead.id.desc()).limit(limit)  # type: ignore[union-attr, attr-defined]
    return [_view(r) for r in session.execute(q).scalars()]


def get(session: Session, entry_id: int) -> ReadingView | None:
    row = session.get(ToRead, entry_id)
    return _view(row) if row is not None else None


def words(session: Session, entry_id: int) -> tuple[str | None, bytes | None]:
    """The answer's words: (plain text, encrypted text); flagged text exists only encrypted."""
    row = session.execute(
        select(Answer.text_value, Answer.text_enc)
        .join(ToRead, ToRead.answer_id == Answer.id)
        .where(ToRead.id == entry_id)
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def card_of(session: Session, entry_id: int) -> int | None:
    """The challenge card raised from this entry's submission, if the words are card text."""
    q = (
        select(ChallengeCard.id)
        .join(Answer, Answer.submission_id == ChallengeCard.submission_id)
        .join(ToRead, ToRead.answer_id == Answer.id)
        .where(ToRead.id == entry_id)
        .limit(1)
    )
    return session.execute(q).scalar_one_or_none()


def quarantine(session: Session, entry_id: int, *, sealed: bytes | None, by: str, now: datetime) -> None:
    """Treat the entry's words as a disclosure from now on, as if the risk check had flagged them.

    The answer is quarantined (left out of quotes and of what other young people see) and its words kept
    only encrypted (`sealed`); a challenge card raised from it is quarantined; a quote made from it, pending or
    approved, is withdrawn from every report.
    """
    answer_id = session.execute(select(col(ToRead.answer_id)).where(col(ToRead.id) == entry_id)).scalar_one_or_none()
    if answer_id is None:
        return
    answer = session.get(Answer, answer_id)
    if answer is not None:
        answer.quarantined = True
        if sealed is not None and answer.text_value is not None:  # text kept plain before issue 22's item 14
            answer.text_enc, answer.text_value = sealed, None
        session.add(answer)
    card_id = card_of(session, entry_id)
    if card_id is not None:
        session.execute(update(ChallengeCard).where(col(ChallengeCard.id) == card_id).values(quarantined=True))
    session.execute(
        update(Quote)
        .where(col(Quote.answer_id) == answer_id, col(Quote.status) != "withdrawn")
        .values(status="withdrawn", decided_by=by[:80], decided_at=utc(now))
    )
    session.flush()


def participant_of(session: Session, entry_id: int) -> Participant | None:
    row = session.get(ToRead, entry_id)
    if row is None or row.participant_id is None:
        return None
    return session.get(Participant, row.participant_id)


def mark_read(session: Session, entry_id: int, *, by: str, now: datetime, alert_ref: str | None = None) -> bool:
    """Record that a member of staff read it (and any alert raised from it); False if already read."""
    q = update(ToRead).where(ToRead.id == entry_id, ToRead.read_at.is_(None))  # type: ignore[union-attr]
    result = session.execute(q.values(read_at=utc(now), read_by=by[:80], alert_ref=alert_ref))
    return result.rowcount == 1


def mark_alerted(session: Session, entry_id: int, *, by: str, now: datetime, alert_ref: str) -> bool:
    """Record the alert raised from an entry (read now, unless it was read before); False if one already was."""
    q = update(ToRead).where(ToRead.id == entry_id, ToRead.alert_ref.is_(None))  # type: ignore[union-attr]
    result = session.execute(
        q.values(
            alert_ref=alert_ref,
            read_at=func.coalesce(ToRead.read_at, utc(now)),
            read_by=func.coalesce(ToRead.read_by, by[:80]),
        )
    )
    return result.rowcount == 1


def unread_unescalated(session: Session) -> list[ReadingView]:
    """Every unread entry not yet escalated (the escalation job works out each one's deadline)."""
    q = select(ToRead).where(ToRead.read_at.is_(None), ToRead.escalated_at.is_(None))  # type: ignore[union-attr]
    return [_view(r) for r in session.execute(q.order_by(ToRead.created_at)).scalars()]


def mark_escalated(session: Session, entry_ids: list[int], *, now: datetime) -> int:
    """Flag entries as escalated (once each); returns how many changed."""
    if not entry_ids:
        return 0
    q = update(ToRead).where(ToRead.id.in_(entry_ids), ToRead.escalated_at.is_(None))  # type: ignore[union-attr]
    return int(session.execute(q.values(escalated_at=utc(now))).rowcount or 0)
