"""Per-Panel paper data staff write: the cover's summary and recommendation, the population the reach is
measured against, and the Panel's resolution on each challenge card (recorded after the meeting).

Owns every query on panel_paper and card_resolution. Staff wording and council-wide figures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import CardResolution, PanelPaper


@dataclass(frozen=True)
class PaperView:
    panel_date: date
    summary: str | None
    recommendation: str | None
    children_in_care: int | None
    care_leavers: int | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ResolutionView:
    card_id: int
    panel_date: date
    resolution: str
    recorded_by: str
    recorded_at: datetime


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _paper_view(p: PanelPaper) -> PaperView:
    return PaperView(
        p.panel_date, p.summary, p.recommendation, p.children_in_care, p.care_leavers, p.updated_by,
        utc(p.updated_at),  # type: ignore[arg-type]
    )


def get(session: Session, panel_date: date) -> PaperView | None:
    row = session.execute(select(PanelPaper).where(col(PanelPaper.panel_date) == panel_date)).scalar_one_or_none()
    return _paper_view(row) if row else None


def _row(session: Session, panel_date: date, by: str, now: datetime) -> PanelPaper:
    row = session.execute(select(PanelPaper).where(col(PanelPaper.panel_date) == panel_date)).scalar_one_or_none()
    if row is None:
        row = PanelPaper(panel_date=panel_date, updated_by=by[:80], updated_at=_utc(now))
        session.add(row)
    row.updated_by, row.updated_at = by[:80], _utc(now)
    return row


def set_cover(
    session: Session, panel_date: date, *, summary: str | None, recommendation: str | None, by: str, now: datetime
) -> PaperView:
    """Set the cover's summary and/or recommendation for one Panel (None leaves a field as it was)."""
    row = _row(session, panel_date, by, now)
    if summary is not None:
        row.summary = summary
    if recommendation is not None:
        row.recommendation = recommendation
    session.flush()
    return _paper_view(row)


def set_population(
    session: Session, panel_date: date, *, children_in_care: int | None, care_leavers: int | None, by: str,
    now: datetime,
) -> PaperView:
    """The number of children in care and care leavers for the period this Panel's paper covers."""
    row = _row(session, panel_date, by, now)
    if children_in_care is not None:
        row.children_in_care = children_in_care
    if care_leavers is not None:
        row.care_leavers = care_leavers
    session.flush()
    return _paper_view(row)


def resolve_card(
    session: Session, card_id: int, panel_date: date, resolution: str, *, by: str, now: datetime
) -> ResolutionView:
    """Record (or correct) the Panel's resolution on a card at one meeting."""
    row = session.execute(
        select(CardResolution).where(
            col(CardResolution.card_id) == card_id, col(CardResolution.panel_date) == panel_date
        )
    ).scalar_one_or_none()
    if row is None:
        row = CardResolution(card_id=card_id, panel_date=panel_date, resolution=resolution, recorded_by=by[:80],
                             recorded_at=_utc(now))
        session.add(row)
    else:
        row.resolution, row.recorded_by, row.recorded_at = resolution, by[:80], _utc(now)
    session.flush()
    return ResolutionView(card_id, panel_date, resolution, by[:80], _utc(now))


def resolutions(session: Session, *, on_or_before: date | None = None) -> dict[int, list[ResolutionView]]:
    """Every card's Panel resolutions, oldest meeting first (up to a meeting date when given)."""
    q = select(CardResolution).order_by(CardResolution.panel_date, CardResolution.id)  # type: ignore[arg-type]
    if on_or_before is not None:
        q = q.where(col(CardResolution.panel_date) <= on_or_before)
    out: dict[int, list[ResolutionView]] = {}
    for r in session.execute(q).scalars():
        out.setdefault(r.card_id, []).append(
            ResolutionView(r.card_id, r.panel_date, r.resolution, r.recorded_by, utc(r.recorded_at))  # type: ignore[arg-type]
        )
    return out


def first_after(session: Session, day: date, *, within_days: int = 120) -> PaperView | None:
    """The first Panel's paper after a period ends (when no meeting date is given with the report)."""
    from datetime import timedelta

    row = session.execute(
        select(PanelPaper)
        .where(col(PanelPaper.panel_date) > day, col(PanelPaper.panel_date) <= day + timedelta(days=within_days))
        .order_by(col(PanelPaper.panel_date))
        .limit(1)
    ).scalar_one_or_none()
    return _paper_view(row) if row else None
