"""Roll-up tables: materialise the aggregate counts of a period with INSERT ... SELECT in SQL.

Recomputing a period deletes and re-inserts its rows inside the caller's transaction, so a crash
leaves either the old rows or the new ones (idempotent, restart-safe). Never reads answers in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, delete, func, insert, literal, select
from sqlmodel import Session

from storage.db import utc
from storage.models import RollupChoice, RollupPeriod, RollupReach
from storage.reporting import PEOPLE_MARK, choice_counts_query, people_counts, reach_query


@dataclass(frozen=True)
class PeriodView:
    period: str
    since: datetime
    until: datetime
    computed_at: datetime
    cells: int


def _view(row: RollupPeriod) -> PeriodView:
    return PeriodView(row.period, utc(row.since), utc(row.until), utc(row.computed_at), row.cells)  # type: ignore[arg-type]


def refresh(
    session: Session,
    period: str,
    *,
    since: datetime,
    until: datetime,
    reach_flows: Sequence[str],
    now: datetime,
    force: bool = False,
    private_flows: Sequence[str] = (),
) -> PeriodView:
    """(Re)compute one period's roll-up rows for [since, until); replaces whatever was there.

    `private_flows` are never rolled up (their answers stay out of every aggregate); a period frozen before they
    were marked private has their rows dropped the next time it is asked for.

    A period computed after it ended is frozen: later calls return it unchanged (unless `force`), so a
    report over the same period always publishes the same figures and cannot be differenced against
    itself after an answer is held back or deleted.
    """
    existing = session.get(RollupPeriod, period)
    if private_flows:
        session.execute(
            delete(RollupChoice).where(
                RollupChoice.period == period,  # type: ignore[arg-type]
                RollupChoice.flow_id.in_(list(private_flows)),  # type: ignore[attr-defined]
            )
        )
    if (
        existing is not None
        and not force
        and utc(existing.since) == utc(since)
        and utc(existing.until) == utc(until)
        and utc(existing.computed_at) >= utc(until)  # type: ignore[operator]
    ):
        return _view(existing)
    session.execute(delete(RollupChoice).where(RollupChoice.period == period))
    session.execute(delete(RollupReach).where(RollupReach.period == period))
    key = literal(period, type_=String(40)).label("period")
    cq = choice_counts_query(since, until, leave_out=private_flows)
    cq = cq.with_only_columns(key, *cq.selected_columns)
    cols = ["flow_id", "question_id", "choice", "council", "band", "district", "people", "answers"]
    session.execute(insert(RollupChoice).from_select(["period", *cols], cq))
    # The bases the period's tables share (distinct people per question, by band and by district), frozen
    # with the counts so the same period always publishes the same bases too.
    flows = list(
        session.execute(select(func.distinct(RollupChoice.flow_id)).where(RollupChoice.period == period)).scalars()
    )
    # And each flow's people by district and band together (never published: the Responses pages' protection
    # reads it to tie every question of a flow to the same people, issue 19).
    for by in ("band", "district", "area_band"):
        rows = [
            {
                "period": period,
                "flow_id": c.flow_id,
                "question_id": c.question_id,
                "choice": "",
                "council": PEOPLE_MARK,
                "band": c.key.split("|", 1)[1] if by == "area_band" else c.key if by == "band" else PEOPLE_MARK,
                "district": c.key.split("|", 1)[0] if by == "area_band" else c.key if by == "district"
                else PEOPLE_MARK,
                "people": c.people,
                "answers": 0,
            }
            for c in people_counts(session, since, until, flow_ids=flows, by=by)
        ]
        if rows:
            session.execute(insert(RollupChoice), rows)
    if reach_flows:
        rq = reach_query(since, until, flow_ids=reach_flows)
        rq = rq.with_only_columns(key, *rq.selected_columns)
        session.execute(
            insert(RollupReach).from_select(
                ["period", "audience", "council", "band", "district", "people"], rq
            )
        )
    cells = int(
        session.execute(
            select(func.count())
            .select_from(RollupChoice)
            .where(RollupChoice.period == period, RollupChoice.council != PEOPLE_MARK)
        ).scalar_one()
    )
    row = session.get(RollupPeriod, period)
    if row is None:
        row = RollupPeriod(period=period, since=utc(since), until=utc(until), computed_at=utc(now))
    row.since, row.until, row.computed_at, row.cells = utc(since), utc(until), utc(now), cells
    session.add(row)
    session.flush()
    return _view(row)


def get(session: Session, period: str) -> PeriodView | None:
    row = session.get(RollupPeriod, period)
    return _view(row) if row else None


def periods(session: Session) -> list[PeriodView]:
    """Every rolled-up period, newest first."""
    rows = session.execute(select(RollupPeriod).order_by(RollupPeriod.since.desc())).scalars()  # type: ignore[attr-defined]
    return [_view(r) for r in rows]


def drop(session: Session, period: str) -> None:
    session.execute(delete(RollupChoice).where(RollupChoice.period == period))
    session.execute(delete(RollupReach).where(RollupReach.period == period))
    session.execute(delete(RollupPeriod).where(RollupPeriod.period == period))
