"""Report actions: build one young people's report for a period and export it (audited as report.export,
with the same target and detail whichever door it came through).

Reports hold protected aggregates only; writing the file or sending the download is the caller's job.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from admin.actions.policy import Actor, Invalid, authorise, record


def export_report(
    s: Any,
    library: Any,
    actor: Actor,
    report: str,
    *,
    since: date,
    until: date,
    fmt: str,
    now: datetime,
    settings: Any,
    meeting: date | None = None,
    bands: list[str] | None = None,
) -> Any:
    """Build and render `report` for [since, until] in `fmt`; returns the produced report."""
    from admin.reports.registry import REPORTS, produce

    authorise(actor, "report.export")
    spec = REPORTS.get(report)
    if spec is None or fmt not in spec.formats:
        raise Invalid("choose a report and a format from the lists")
    if until < since:
        raise Invalid("the end date is before the start date")
    from admin.reports.periods import PeriodRefused, check

    try:  # fixed periods only, for every role: two ranges a day apart would single people out
        check(since, until, settings, now=now)
    except PeriodRefused as exc:
        raise Invalid(str(exc)) from None
    extra: dict[str, Any] = {"bands": bands} if bands else {}
    try:
        produced = produce(
            report, s, library, since=since, until=until, now=now, settings=settings, fmt=fmt, meeting=meeting,
            **extra,
        )
    except ValueError as exc:  # the builders refuse a period or an option in one line a person can act on
        raise Invalid(str(exc)) from None
    record(
        s, actor, "report.export", target=f"report:{report}", detail=f"fmt={fmt} since={since} until={until}",
        now=now,
    )
    return produced


def add_you_said(
    s: Any, actor: Actor, *, said: str, did: str, flow_id: str | None = None, bands: tuple[str, ...] = (),
    now: datetime,
) -> Any:
    """Record a "you said, we did" line in staff wording (audited as report.action_add), for every age group or
    only `bands` (a line about college bus passes is for the 16-25s: their page of the young people's version and
    their message after the Panel, not the 7-11s')."""
    from admin.reports.catalog import YOUNG_BANDS
    from storage import report_actions

    authorise(actor, "report.action_add")
    if not said.strip() or not did.strip():
        raise Invalid("give both what young people said and what was done")
    unknown = sorted(set(bands) - set(YOUNG_BANDS))
    if unknown:
        raise Invalid(f"unknown age group {unknown[0]!r}: use {', '.join(YOUNG_BANDS)}")
    chosen = tuple(b for b in YOUNG_BANDS if b in bands)
    line = report_actions.add(s, said=said.strip(), did=did.strip(), by=actor.username, now=now, flow_id=flow_id,
                              bands=chosen)
    record(s, actor, "report.action_add", target=f"report_action:{line.id}", now=now)
    return line


def set_cover(
    s: Any, actor: Actor, panel_date: date, *, summary: str | None = None, recommendation: str | None = None,
    now: datetime,
) -> Any:
    """The manager's summary and recommendation for one Panel's paper (audited as report.paper)."""
    from storage import panel_papers

    authorise(actor, "report.paper")
    summary = summary.strip() if summary is not None else None
    recommendation = recommendation.strip() if recommendation is not None else None
    if not summary and not recommendation:
        raise Invalid("give a summary, a recommendation or both")
    paper = panel_papers.set_cover(
        s, panel_date, summary=summary or None, recommendation=recommendation or None, by=actor.username, now=now
    )
    fields = ",".join(f for f, v in (("summary", summary), ("recommendation", recommendation)) if v)
    record(s, actor, "report.paper", target=f"panel:{panel_date}", detail=f"cover={fields}", now=now)
    return paper


def set_population(
    s: Any, actor: Actor, panel_date: date, *, children_in_care: int | None, care_leavers: int | None,
    now: datetime,
) -> Any:
    """How many children in care and care leavers the council had in the period this Panel's paper covers
    (the reach is shown against them; audited as report.paper)."""
    from storage import panel_papers

    authorise(actor, "report.paper")
    if children_in_care is None and care_leavers is None:
        raise Invalid("give the number of children in care, care leavers or both")
    for n in (children_in_care, care_leavers):
        if n is not None and not 0 < n < 1_000_000:
            raise Invalid("give a whole number of people, more than 0")
    paper = panel_papers.set_population(
        s, panel_date, children_in_care=children_in_care, care_leavers=care_leavers, by=actor.username, now=now
    )
    record(
        s, actor, "report.paper", target=f"panel:{panel_date}",
        detail=f"population children_in_care={children_in_care} care_leavers={care_leavers}", now=now,
    )
    return paper
