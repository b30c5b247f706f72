"""Counts for the staff channel's weekly digest: work waiting and responses received. Counts only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import Alert, ChallengeCard, GoodNews, Quote, Submission


def week_counts(
    session: Session, *, since: datetime, until: datetime, leave_out: Sequence[str] = ()
) -> dict[str, int]:
    """What waits for staff now, and what came in during [since, until); `leave_out`: private flow ids, whose
    submissions are not counted."""
    start, end = utc(since), utc(until)

    def count(model: type, *where: object) -> int:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

    return {
        "alerts_open": count(Alert, Alert.status == "open"),
        "cards_awaiting_triage": count(ChallengeCard, ChallengeCard.state == "submitted"),
        "cards_raised": count(ChallengeCard, ChallengeCard.created_at >= start, ChallengeCard.created_at < end),
        "good_news_waiting": count(GoodNews, GoodNews.status == "pending"),
        "quotes_waiting": count(Quote, Quote.status == "pending"),
        "responses_completed": count(
            Submission,
            Submission.status == "completed",
            Submission.completed_at >= start,  # type: ignore[operator]
            Submission.completed_at < end,  # type: ignore[operator]
            Submission.flow_id.not_in(list(leave_out)),  # type: ignore[attr-defined]
        ),
    }


def approvals_waiting(session: Session) -> dict[str, int]:
    """Good news and quotes waiting for a member of staff to approve or reject them."""
    return {
        "good_news": int(session.execute(
            select(func.count()).select_from(GoodNews).where(col(GoodNews.status) == "pending")).scalar_one()),
        "quotes": int(session.execute(
            select(func.count()).select_from(Quote).where(col(Quote.status) == "pending")).scalar_one()),
    }
