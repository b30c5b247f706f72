"""The global send rate of a channel, shared by every process through one row (issue 26).

A process books send slots `gap` seconds apart from the row's next free slot, in one short transaction that holds
the row's lock, so however many processes send, slots never overlap and the channel as a whole stays within its
limit. A 429 from the platform stores `blocked_until`: no process books a slot before it. Times are epoch seconds
(the processes' clocks are assumed NTP-synchronised; a skew shifts slots by that much).
"""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import SendBudget


def _row(session: Session, channel: str) -> SendBudget:
    q = select(SendBudget).where(col(SendBudget.channel) == channel).with_for_update()
    row = session.execute(q).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(SendBudget(channel=channel, next_at=0.0, blocked_until=0.0))
                session.flush()
        except IntegrityError:
            pass  # another process added it first
        row = session.execute(q.execution_options(populate_existing=True)).scalar_one()
    return row  # type: ignore[no-any-return]


def book(session: Session, channel: str, *, now: float, count: int, gap: float, horizon: float) -> tuple[float, int]:
    """Book up to `count` slots; returns (the first slot's time, how many were booked).

    Nothing is booked (0) while the channel is booked or blocked beyond `now + horizon`: the caller waits until
    `first - horizon` and asks again. So a process never holds more than about `horizon` seconds of the budget,
    and one that is killed wastes at most that much."""
    row = _row(session, channel)
    start = max(row.next_at, now, row.blocked_until)
    if start > now + horizon or count <= 0:
        return start, 0
    row.next_at = start + count * gap
    session.add(row)
    session.flush()
    return start, count


def block(session: Session, channel: str, *, until: float) -> None:
    """No send on `channel` before `until` (the platform said retry_after), for every process."""
    _row(session, channel)
    session.execute(
        update(SendBudget)
        .where(col(SendBudget.channel) == channel)
        .values(blocked_until=case((col(SendBudget.blocked_until) < until, until), else_=col(SendBudget.blocked_until)))
    )


def blocked_until(session: Session, channel: str) -> float:
    """Until when sending is blocked (0 when it never was)."""
    value = session.execute(select(col(SendBudget.blocked_until)).where(col(SendBudget.channel) == channel)).scalar()
    return float(value or 0.0)
