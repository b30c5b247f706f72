"""Good news young people share, and the staff approval queue for the 'celebrating achievements' section.

Owns the good_news table. Items without the young person's consent never reach the queue or a report.
Must not compose wording or know about channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage import audit
from storage.db import utc
from storage.models import GoodNews

CATEGORIES = ("school", "sport", "friends", "achievement", "something_else")
STATUSES = ("pending", "approved", "rejected", "private")


@dataclass(frozen=True)
class GoodNewsView:
    """One item as staff and reports see it: no participant id, only band/district snapshots."""

    id: int
    text: str
    category: str
    consent: bool
    status: str
    band: str | None
    district: str | None
    council: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class GoodNewsError(ValueError):
    """The item does not exist or cannot be decided (no consent, already decided)."""


def _view(row: GoodNews) -> GoodNewsView:
    return GoodNewsView(
        id=row.id or 0,
        text=row.text,
        category=row.category,
        consent=row.consent,
        status=row.status,
        band=row.band,
        district=row.district,
        council=row.council,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        decided_at=utc(row.decided_at),
        decided_by=row.decided_by,
    )


def add(
    session: Session,
    *,
    participant_id: int | None,
    submission_id: int | None,
    text: str,
    category: str,
    consent: bool,
    band: str | None,
    district: str | None,
    council: str | None,
    now: datetime,
) -> GoodNewsView:
    """Store one item: `pending` for staff review when shared with consent, otherwise `private`."""
    row = GoodNews(
        participant_id=participant_id,
        submission_id=submission_id,
        text=text,
        category=category if category in CATEGORIES else "something_else",
        consent=consent,
        status="pending" if consent else "private",
        band=band,
        district=district,
        council=council,
        created_at=utc(now),
    )
    session.add(row)
    session.flush()
    return _view(row)


def list_items(session: Session, *, status: str | None = "pending") -> list[GoodNewsView]:
    """Items in one status (default: waiting for approval), oldest first; None lists every shareable item."""
    q = select(GoodNews).where(GoodNews.consent.is_(True)).order_by(GoodNews.id)  # type: ignore[attr-defined]
    if status:
        q = q.where(GoodNews.status == status)
    return [_view(r) for r in session.execute(q).scalars()]


def decide(session: Session, item_id: int, *, approve: bool, staff: str, now: datetime) -> GoodNewsView:
    """Approve or reject a pending item (writes an audit row). Raises GoodNewsError."""
    row = session.get(GoodNews, item_id)
    if row is None or not row.consent:
        raise GoodNewsError(f"no shareable good news with id {item_id}")
    if row.status != "pending":
        raise GoodNewsError(f"good news {item_id} is already {row.status}")
    if not staff.strip():
        raise GoodNewsError("say who is deciding (--staff)")
    row.status = "approved" if approve else "rejected"
    row.decided_at = utc(now)
    row.decided_by = staff.strip()[:80]
    session.add(row)
    session.flush()
    audit.record(
        session, actor=staff.strip(), action=f"goodnews.{row.status}", target=f"good_news:{item_id}", now=now
    )
    return _view(row)


def approved(session: Session, since: datetime | None, until: datetime | None) -> list[GoodNewsView]:
    """Approved items shared in [since, until), oldest first: the celebrations section of an update."""
    q = select(GoodNews).where(GoodNews.status == "approved", GoodNews.consent.is_(True))  # type: ignore[attr-defined]
    if since is not None:
        q = q.where(GoodNews.created_at >= utc(since))
    if until is not None:
        q = q.where(GoodNews.created_at < utc(until))
    return [_view(r) for r in session.execute(q.order_by(GoodNews.id)).scalars()]
