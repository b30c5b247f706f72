""" "You said, we did" lines entered by staff for the Panel update (no participant data here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import utc
from storage.models import ReportAction


@dataclass(frozen=True)
class ActionView:
    id: int
    said: str
    did: str
    flow_id: str | None
    recorded_by: str
    recorded_at: datetime
    bands: tuple[str, ...] = ()  # the age groups it is for; () means every one

    def is_for(self, band: str | None) -> bool:
        """Whether a young person of `band` (or a page for that band) should hear this line."""
        return not self.bands or band in self.bands


def _view(r: ReportAction) -> ActionView:
    bands = tuple(b for b in (r.bands or "").split(",") if b)
    return ActionView(r.id or 0, r.said, r.did, r.flow_id, r.recorded_by, utc(r.recorded_at), bands)  # type: ignore[arg-type]


def add(
    session: Session, *, said: str, did: str, by: str, now: datetime, flow_id: str | None = None,
    bands: tuple[str, ...] = (),
) -> ActionView:
    """Record one "you said, we did" line, for every age group or only `bands`."""
    row = ReportAction(said=said, did=did, flow_id=flow_id, recorded_by=by[:80], recorded_at=utc(now),
                       bands=",".join(bands) or None)
    session.add(row)
    session.flush()
    return _view(row)


def between(session: Session, *, since: datetime, until: datetime) -> list[ActionView]:
    """Lines recorded in [since, until), oldest first."""
    q = (
        select(ReportAction)
        .where(ReportAction.recorded_at >= utc(since), ReportAction.recorded_at < utc(until))
        .order_by(ReportAction.id)
    )
    return [_view(r) for r in session.execute(q).scalars()]


def remove(session: Session, action_id: int) -> bool:
    row = session.get(ReportAction, action_id)
    if row is None:
        return False
    session.delete(row)
    return True
