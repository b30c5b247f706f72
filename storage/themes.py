"""Staff-written theme summaries: one short paragraph per topic question and fixed period (issue 19, 6).

The report shows it above that question's quotes, so a reader gets the gist of many answers in staff
words without more quotes (which are capped per question). Owns every query on theme_summary. Staff
wording about many answers, never one person's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import ThemeSummary

Period = tuple[date, date]


@dataclass(frozen=True)
class ThemeView:
    topic_id: str
    question_id: str
    since: date
    until: date
    summary: str
    written_by: str
    written_at: datetime


def _view(r: ThemeSummary) -> ThemeView:
    return ThemeView(
        r.topic_id, r.question_id, r.since, r.until, r.summary, r.written_by,
        utc(r.written_at),  # type: ignore[arg-type]
    )


def _find(session: Session, topic_id: str, question_id: str, period: Period) -> ThemeSummary | None:
    since, until = period
    return session.execute(
        select(ThemeSummary).where(
            col(ThemeSummary.topic_id) == topic_id,
            col(ThemeSummary.question_id) == question_id,
            col(ThemeSummary.since) == since,
            col(ThemeSummary.until) == until,
        )
    ).scalar_one_or_none()


def set_summary(
    session: Session, topic_id: str, question_id: str, period: Period, summary: str, *, by: str, now: datetime
) -> ThemeView | None:
    """Write (or replace) the summary; an empty one removes it. Returns what is stored now."""
    row = _find(session, topic_id, question_id, period)
    if not summary:
        if row is not None:
            session.delete(row)
            session.flush()
        return None
    if row is None:
        row = ThemeSummary(topic_id=topic_id, question_id=question_id, since=period[0], until=period[1],
                           summary=summary, written_by=by[:80],
                           written_at=utc(now))  # type: ignore[arg-type]
        session.add(row)
    else:
        row.summary, row.written_by, row.written_at = summary, by[:80], utc(now)  # type: ignore[assignment]
    session.flush()
    return _view(row)


def theme_summary(session: Session, topic_id: str, question_id: str, period: Period) -> str | None:
    """The summary staff wrote for this question over exactly this period, or None."""
    row = _find(session, topic_id, question_id, period)
    return row.summary if row else None


def for_period(session: Session, period: Period, topic_id: str | None = None) -> list[ThemeView]:
    """Every summary written for this period (one topic's when given), by topic then question."""
    q = select(ThemeSummary).where(col(ThemeSummary.since) == period[0], col(ThemeSummary.until) == period[1])
    if topic_id is not None:
        q = q.where(col(ThemeSummary.topic_id) == topic_id)
    rows = session.execute(q.order_by(col(ThemeSummary.topic_id), col(ThemeSummary.question_id))).scalars()
    return [_view(r) for r in rows]
