"""Read-only queries for the staff admin: which district an object belongs to (for scoping), response
counts per flow, and the individual responses young people chose to share with a worker.

Never writes; never returns a participant's channel identity. Free text only for shared submissions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import (
    Alert,
    Answer,
    AnswerChoice,
    ChallengeCard,
    DashboardReach,
    DashboardSnapshot,
    GoodNews,
    Invite,
    Participant,
    Submission,
)
from storage.reporting import ReachCell, reach_query

MISSING = object()  # returned by district lookups when the object does not exist


@dataclass(frozen=True)
class FlowCount:
    flow_id: str
    submissions: int
    completed: int


@dataclass(frozen=True)
class SharedSubmission:
    id: int
    flow_id: str
    case_ref: str | None
    audience: str
    band: str | None
    district: str | None
    mode: str
    status: str
    started_at: datetime


@dataclass(frozen=True)
class AnswerLine:
    question_id: str
    value: object
    text: str | None
    skipped: bool
    quarantined: bool


def alert_district(session: Session, alert_ref: str) -> str | None | object:
    """The district of the participant an alert is about (None if unknown), or MISSING."""
    row = session.execute(
        select(Alert.id, Participant.district)
        .outerjoin(Participant, Participant.id == Alert.participant_id)
        .where(Alert.alert_ref == alert_ref)
    ).first()
    return MISSING if row is None else row[1]


def card_districts(session: Session, card_ids: Sequence[int] | None = None) -> dict[int, str | None]:
    """{card id: district of the young person who raised it (None = unknown or raised by nobody)}.

    Cards that do not exist are left out, so a missing key means "no such card".
    """
    q = select(ChallengeCard.id, Participant.district).outerjoin(
        Participant, Participant.id == ChallengeCard.raised_by
    )
    if card_ids is not None:
        q = q.where(ChallengeCard.id.in_(list(card_ids)))  # type: ignore[union-attr]
    return {int(i): d for i, d in session.execute(q)}


def submission_district(session: Session, submission_id: int) -> str | None | object:
    row = session.execute(
        select(Submission.id, Submission.district).where(Submission.id == submission_id)
    ).first()
    return MISSING if row is None else row[1]


def flow_counts(
    session: Session, *, districts: Sequence[str] | None = None, audiences: Sequence[str] | None = None
) -> list[FlowCount]:
    """Submissions and completed submissions per flow (optionally only these districts, and only these
    audiences' submissions: a flow for young people and carers alike is counted for each viewer's own)."""
    done = func.sum(case((Submission.status == "completed", 1), else_=0))
    q = (
        select(Submission.flow_id, func.count(), done)
        .group_by(Submission.flow_id)
        .order_by(Submission.flow_id)
    )
    if districts is not None:
        q = q.where(Submission.district.in_(list(districts)))  # type: ignore[union-attr]
    if audiences is not None:
        q = q.where(col(Submission.audience).in_(list(audiences)))
    return [FlowCount(f, int(n), int(c or 0)) for f, n, c in session.execute(q)]


def choice_totals(
    session: Session,
    flow_id: str,
    *,
    districts: Sequence[str] | None = None,
    band: str | None = None,
    audiences: Sequence[str] | None = None,
) -> dict[str, dict[str, int]]:
    """{question_id: {choice: answers}} for one flow, never counting quarantined answers (optionally only these
    districts, one band, and only answers from these audiences' submissions)."""
    q = (
        select(AnswerChoice.question_id, AnswerChoice.choice, func.count())
        .where(
            AnswerChoice.flow_id == flow_id,
            AnswerChoice.answer_id.not_in(select(Answer.id).where(Answer.quarantined.is_(True))),
        )  # type: ignore[attr-defined]
        .group_by(AnswerChoice.question_id, AnswerChoice.choice)
    )
    if districts is not None:
        q = q.where(AnswerChoice.district.in_(list(districts)))  # type: ignore[union-attr]
    if band is not None:
        q = q.where(AnswerChoice.band == band)
    if audiences is not None:
        q = q.where(
            col(AnswerChoice.submission_id).in_(
                select(col(Submission.id)).where(col(Submission.audience).in_(list(audiences)))
            )
        )
    out: dict[str, dict[str, int]] = {}
    for qid, choice, n in session.execute(q):
        out.setdefault(qid, {})[choice] = int(n)
    return out


def shared_submissions(
    session: Session,
    *,
    districts: Sequence[str] | None = None,
    audiences: Sequence[str] | None = None,
    limit: int = 200,
) -> list[SharedSubmission]:
    """Submissions whose young person (or carer) chose to share them with a worker, newest first."""
    q = (
        select(Submission, Participant.case_ref)
        .outerjoin(Participant, Participant.id == Submission.participant_id)
        .where(Submission.shared_with_worker.is_(True))  # type: ignore[attr-defined]
        .order_by(Submission.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    if districts is not None:
        q = q.where(Submission.district.in_(list(districts)))  # type: ignore[union-attr]
    if audiences is not None:
        q = q.where(Submission.audience.in_(list(audiences)))  # type: ignore[attr-defined]
    return [_shared(sub, ref) for sub, ref in session.execute(q)]


def _shared(sub: Submission, case_ref: str | None) -> SharedSubmission:
    return SharedSubmission(
        sub.id or 0,
        sub.flow_id,
        case_ref,
        sub.audience,
        sub.band,
        sub.district,
        sub.mode,
        sub.status,
        utc(sub.started_at),
    )  # type: ignore[arg-type]


def shared_submission(
    session: Session, submission_id: int, *, decrypt: Callable[[bytes], str] | None = None
) -> tuple[SharedSubmission, list[AnswerLine]] | None:
    """One shared submission with its answers (quarantined text withheld), or None if not shared."""
    row = session.execute(
        select(Submission, Participant.case_ref)
        .outerjoin(Participant, Participant.id == Submission.participant_id)
        .where(Submission.id == submission_id, Submission.shared_with_worker.is_(True))  # type: ignore[attr-defined]
    ).first()
    if row is None:
        return None
    sub, ref = row
    lines = [
        AnswerLine(
            a.question_id,
            json.loads(a.value_json),
            None if a.quarantined else _words(a, decrypt),
            a.skipped,
            a.quarantined,
        )
        for a in session.execute(
            select(Answer).where(Answer.submission_id == sub.id).order_by(Answer.id)
        ).scalars()
    ]
    return _shared(sub, ref), lines


def submission_audience(session: Session, submission_id: int) -> str | None:
    return session.execute(
        select(Submission.audience).where(Submission.id == submission_id)
    ).scalar_one_or_none()


def reach_cells(session: Session, *, since: datetime, until: datetime, flow_ids: Sequence[str]) -> list:
    """People heard in [since, until) per audience/council/band/district (see reporting.reach_query)."""
    return [ReachCell(*row) for row in session.execute(reach_query(since, until, flow_ids=flow_ids))]


def good_news_district(session: Session, item_id: int) -> str | None | object:
    """The district snapshot of a shareable good-news item, or MISSING."""
    row = session.execute(
        select(GoodNews.id, GoodNews.district).where(GoodNews.id == item_id, GoodNews.consent.is_(True))  # type: ignore[attr-defined]
    ).first()
    return MISSING if row is None else row[1]


def invite_batch_district(session: Session, batch: str) -> str | None | object:
    """The district an invite batch grants (None = any), or MISSING."""
    row = session.execute(select(Invite.id, Invite.district).where(Invite.batch == batch).limit(1)).first()
    return MISSING if row is None else row[1]


# --- dashboard snapshot: people heard per rolling period, refreshed by a job, read in milliseconds ---


def save_reach_snapshot(session: Session, period_days: int, cells: Sequence[Any], *, now: datetime) -> None:
    """Replace one period's snapshot with `cells` (audience, council, band, district, people)."""

    session.execute(delete(DashboardReach).where(DashboardReach.period_days == period_days))
    session.add_all(
        DashboardReach(
            period_days=period_days,
            audience=c.audience or "",
            council=c.council or "",
            band=c.band or "",
            district=c.district or "",
            people=int(c.people),
        )
        for c in cells
    )
    row = session.get(DashboardSnapshot, period_days) or DashboardSnapshot(
        period_days=period_days, computed_at=now
    )
    row.computed_at = utc(now)  # type: ignore[assignment]
    session.add(row)
    session.flush()


def reach_snapshot(session: Session, period_days: int) -> tuple[datetime, list] | None:
    """(computed_at, cells) for a period, or None when it was never computed."""
    head = session.get(DashboardSnapshot, period_days)
    if head is None:
        return None
    rows = session.execute(
        select(
            DashboardReach.audience,
            DashboardReach.council,
            DashboardReach.band,
            DashboardReach.district,
            DashboardReach.people,
        ).where(DashboardReach.period_days == period_days)
    ).all()
    return utc(head.computed_at), [ReachCell(*r) for r in rows]  # type: ignore[return-value]


def _words(answer: Answer, decrypt: Callable[[bytes], str] | None) -> str | None:
    """An answer's free text for an audited view: stored encrypted (decrypted here with the caller's key) or,
    in older rows, in clear."""
    if answer.text_value is not None:
        return answer.text_value
    if answer.text_enc is not None and decrypt is not None:
        return decrypt(bytes(answer.text_enc))
    return None
