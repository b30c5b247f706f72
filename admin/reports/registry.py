"""The reports ourvoice can produce: one entry per report (template + builder), used by CLI, jobs and web.

Adding a report: a template pair in templates/, a builder, one entry in REPORTS, one golden-file test.

A builder reads the database; the document (PDF through WeasyPrint, HTML, Markdown) is drawn only when
`Produced.data` is first read, which callers do after their transaction has ended, so a slow PDF never holds
the database while conversations wait to commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from admin.reports import ocypc
from admin.reports.render import FORMATS, render
from admin.reports.settings import ReportSettings
from content.loader import Library
from storage.db import Session


@dataclass(frozen=True)
class Produced:
    report: str
    fmt: str
    draw: Callable[[], bytes] = field(repr=False)  # renders the document from `summary`; no database
    summary: ocypc.OcypcSummary

    @cached_property
    def data(self) -> bytes:
        """The document, drawn on first use (read it after the transaction that built the summary)."""
        return self.draw()


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
    return Produced("ocypc", fmt, lambda: render("ocypc", fmt, s=summary), summary)


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
    return Produced("young-people", fmt, lambda: render("young_people", fmt, s=summary, pages=pages), summary)


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
