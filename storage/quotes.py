"""Quotes: free-text answers offered for publication, kept only as scrubbed text, shown once approved.

Candidates come only from submissions whose person said yes to sharing their words; quarantined
answers are never candidates and never returned as approved. Scrubbing itself lives in admin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.db import utc
from storage.models import Answer, Quote, Submission

STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class QuoteCandidate:
    answer_id: int
    flow_id: str
    question_id: str
    band: str | None
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class QuoteView:
    id: int
    answer_id: int
    flow_id: str
    question_id: str
    band: str | None
    text: str
    status: str
    answered_at: datetime
    decided_by: str | None


def _view(q: Quote) -> QuoteView:
    return QuoteView(
        q.id or 0,
        q.answer_id,
        q.flow_id,
        q.question_id,
        q.band,
        q.scrubbed_text,
        q.status,
        utc(q.answered_at),
        q.decided_by,  # type: ignore[arg-type]
    )


def candidates(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    consent_question: str = "share_words",
    consent_choice: str = "yes",
    limit: int = 1000,
    decrypt: Callable[[bytes], str] | None = None,
) -> list[QuoteCandidate]:
    """Consented, unquarantined free-text answers in [since, until) that have no quote row yet.

    Free text is stored encrypted: `decrypt` (the caller's key) opens it for scrubbing; nothing is decrypted here
    without one."""
    # The consent answer in the same submission, found through answer's unique (submission, question) index.
    consent = aliased(Answer)
    consented = exists().where(
        consent.submission_id == Answer.submission_id,
        consent.question_id == consent_question,
        consent.value_json == json.dumps(consent_choice),
        consent.skipped.is_(False),
    )
    already = exists().where(Quote.answer_id == Answer.id)
    q = (
        select(
            Answer.id,
            Submission.flow_id,
            Answer.question_id,
            Submission.band,
            Answer.text_value,
            Answer.text_enc,
            Answer.answered_at,
        )
        .join(Submission, Submission.id == Answer.submission_id)
        .where(
            or_(Answer.text_value.is_not(None), Answer.text_enc.is_not(None)),  # type: ignore[union-attr]
            Answer.quarantined.is_(False),
            Answer.skipped.is_(False),
            Answer.answered_at >= utc(since),
            Answer.answered_at < utc(until),
            consented,
            ~already,
        )
        .order_by(Answer.id)
        .limit(limit)
    )
    out = []
    for aid, fid, qid, band, text, sealed, at in session.execute(q):
        if text is None:
            if decrypt is None:
                continue  # stored encrypted and no key given: never quoted unread
            text = decrypt(bytes(sealed))
        out.append(QuoteCandidate(aid, fid, qid, band, text, utc(at)))  # type: ignore[arg-type]
    return out


def add(
    session: Session,
    *,
    answer_id: int,
    flow_id: str,
    question_id: str,
    band: str | None,
    scrubbed_text: str,
    answered_at: datetime,
    now: datetime,
) -> QuoteView:
    """Store a scrubbed quote as pending staff approval."""
    row = Quote(
        answer_id=answer_id,
        flow_id=flow_id,
        question_id=question_id,
        band=band,
        scrubbed_text=scrubbed_text,
        answered_at=utc(answered_at),
        created_at=utc(now),
    )
    session.add(row)
    session.flush()
    return _view(row)


def get(session: Session, quote_id: int) -> QuoteView | None:
    row = session.get(Quote, quote_id)
    return _view(row) if row else None


def list_quotes(session: Session, *, status: str | None = None, limit: int = 200) -> list[QuoteView]:
    """Quotes, oldest first, optionally of one status (never quarantined ones)."""
    q = (
        select(Quote)
        .join(Answer, Answer.id == Quote.answer_id)
        .where(Answer.quarantined.is_(False))
        .order_by(Quote.id)
        .limit(limit)
    )
    if status:
        q = q.where(Quote.status == status)
    return [_view(r) for r in session.execute(q).scalars()]


_TOKEN = re.compile(r"\[[a-z]+\]|[^\W_]+(?:['’-][^\W_]+)*")
_MARK = re.compile(r"\[[a-z]+\]")


class EditAddsWords(ValueError):
    """An edited quote that is not the original with words taken out (or redacted)."""


def removes_only(original: str, edited: str) -> bool:
    """True when `edited` is `original` with words removed or replaced by a mark like [removed] / [name]:
    staff may take a young person's words out, never put words in their mouth. Case and punctuation aside."""
    words = [w.lower() for w in _TOKEN.findall(original)]
    k = 0
    for w in (w.lower() for w in _TOKEN.findall(edited)):
        if _MARK.fullmatch(w):
            continue
        while k < len(words) and words[k] != w:
            k += 1
        if k == len(words):
            return False
        k += 1
    return True


def decide(
    session: Session, quote_id: int, *, status: str, by: str, now: datetime, text: str | None = None
) -> QuoteView | None:
    """Approve or reject (optionally with edited, already-scrubbed text that only removes or redacts
    words: EditAddsWords otherwise); None when no such quote."""
    if status not in ("approved", "rejected"):
        raise ValueError(f"unknown status {status!r}")
    row = session.get(Quote, quote_id)
    if row is None:
        return None
    if text is not None and not removes_only(row.scrubbed_text, text):
        raise EditAddsWords("an edited quote may only take words out or redact them, never add any")
    row.status = status
    row.decided_by = by[:80]
    row.decided_at = utc(now)
    if text is not None:
        row.scrubbed_text = text
    session.add(row)
    session.flush()
    return _view(row)


def approved(
    session: Session, *, since: datetime, until: datetime, flow_ids: Sequence[str] | None = None
) -> list[QuoteView]:
    """Approved quotes answered in [since, until), excluding any answer quarantined since approval."""
    q = (
        select(Quote)
        .join(Answer, Answer.id == Quote.answer_id)
        .where(
            Quote.status == "approved",
            Answer.quarantined.is_(False),
            Quote.answered_at >= utc(since),
            Quote.answered_at < utc(until),
        )
        .order_by(Quote.flow_id, Quote.question_id, Quote.id)
    )
    if flow_ids is not None:
        q = q.where(Quote.flow_id.in_(list(flow_ids)))
    return [_view(r) for r in session.execute(q).scalars()]


def screening(session: Session, quote_id: int) -> tuple[str, int | None] | None:
    """The wording a quote approval must risk-check (its scrubbed text, as it would be published) and whose
    answer it is (participant id); None when no such quote."""
    row = session.get(Quote, quote_id)
    if row is None:
        return None
    answer = session.get(Answer, row.answer_id)
    sub = session.get(Submission, answer.submission_id) if answer is not None else None
    return row.scrubbed_text, sub.participant_id if sub is not None else None


def withdraw(session: Session, quote_id: int, *, by: str, now: datetime) -> QuoteView | None:
    """Take a quote out of every report for good (the risk check flagged its wording): status "withdrawn"."""
    row = session.get(Quote, quote_id)
    if row is None:
        return None
    row.status = "withdrawn"
    row.decided_by = by[:80]
    row.decided_at = utc(now)
    session.add(row)
    session.flush()
    return _view(row)
