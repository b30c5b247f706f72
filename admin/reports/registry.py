"""The reports ourvoice can produce: one entry per report (template + builder), used by CLI, jobs and web.

Adding a report: a template pair in templates/, a builder, one entry in REPORTS, one golden-file test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from admin.reports import ocypc
from admin.reports.render import FORMATS, render
from admin.reports.settings import ReportSettings
from content.loader import Library
from storage.db import Session


@dataclass(frozen=True)
class Produced:
    report: str
    fmt: str
    data: bytes
    summary: ocypc.OcypcSummary


Builder = Callable[..., Produced]


def _ocypc(
    session: Session,
    library: Library,
    *,
    since: date,
    until: date,
    now: datetime,
    settings: ReportSettings,
    fmt: str,
    meeting: date | None = None,
    bands: Sequence[str] | None = None,
) -> Produced:
    summary = ocypc.build(
        session,
        library,
        since=since,
        until=until,
        now=now,
        settings=settings,
        meeting=meeting,
        charts_on=fmt != "md",
    )
    return Produced("ocypc", fmt, render("ocypc", fmt, s=summary), summary)


def _young_people(
    session: Session,
    library: Library,
    *,
    since: date,
    until: date,
    now: datetime,
    settings: ReportSettings,
    fmt: str,
    meeting: date | None = None,
    bands: Sequence[str] | None = None,
) -> Produced:
    summary = ocypc.build(
        session,
        library,
        since=since,
        until=until,
        now=now,
        settings=settings,
        meeting=meeting,
        charts_on=False,
    )
    pages = ocypc.plain_pages(summary, library, bands or ocypc.YOUNG_BANDS)
    return Produced("young-people", fmt, render("young_people", fmt, s=summary, pages=pages), summary)


@dataclass(frozen=True)
class ReportSpec:
    id: str
    title: str
    build: Builder
    formats: tuple[str, ...] = FORMATS


REPORTS: dict[str, ReportSpec] = {
    "ocypc": ReportSpec("ocypc", "OCYPC participation update for the Corporate Parenting Panel", _ocypc),
    "young-people": ReportSpec(
        "young-people", "One-page update for young people, by age band", _young_people
    ),
}


def produce(report: str, session: Session, library: Library, **kwargs: object) -> Produced:
    """Build and render one report (see REPORTS); raises KeyError for an unknown report id."""
    return REPORTS[report].build(session, library, **kwargs)
