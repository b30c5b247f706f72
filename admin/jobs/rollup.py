"""Scheduled report jobs: the nightly roll-up and the Panel update drafted N days before each Panel date.

Both are plain `job(rt, *, now) -> str` functions (run once across processes by admin.scheduler.run_job
claims) and are idempotent: a roll-up replaces its period's rows in one transaction; a Panel update is
written to a temporary file and renamed, and skipped when it already exists. Never reads the clock.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from admin.jobs import staff_notices
from admin.reports import catalog, ocypc, quoting, registry
from admin.reports.ocypc import Window
from admin.reports.settings import ReportSettings
from storage import audit, reporting, rollups
from storage.db import session, utc

if TYPE_CHECKING:
    from bot.services import ReportParts

log = logging.getLogger("ourvoice.jobs.reports")

BACKFILL_MONTHS = 24


def report_settings(rt: ReportParts) -> ReportSettings:
    """The report settings the composition root read (bot.runtime.build_runtime)."""
    return rt.report_settings


def month_window(year: int, month: int) -> Window:
    return ocypc.month_window(f"{year:04d}-{month:02d}")


def _month_key(w: Window) -> str:
    return f"{w.since.year:04d}-{w.since.month:02d}"


def months_to_roll(rt: ReportParts, *, now: datetime) -> list[Window]:
    """This month and last month always (late answers), plus any earlier month never rolled up."""
    tz = report_settings(rt).timezone
    today = now.astimezone(ZoneInfo(tz)).date()
    this = month_window(today.year, today.month)
    last_day_prev = this.since - timedelta(days=1)
    prev = month_window(last_day_prev.year, last_day_prev.month)
    wanted = [this, prev]
    with session(rt.engine) as s:
        first, _ = reporting.answer_bounds(s)
        done = {p.period for p in rollups.periods(s)}
    if first is not None:
        d = utc(first).astimezone(ZoneInfo(tz)).date()  # type: ignore[union-attr]
        w = month_window(d.year, d.month)
        for _ in range(BACKFILL_MONTHS):
            if w.since >= prev.since:
                break
            if _month_key(w) not in done:
                wanted.append(w)
            nxt = w.until + timedelta(days=1)
            w = month_window(nxt.year, nxt.month)
    return wanted


def nightly(rt: ReportParts, *, now: datetime) -> str:
    """Recompute monthly roll-ups (one transaction per month, so a crash keeps finished months)."""
    tz = report_settings(rt).timezone
    reach = catalog.reach_flows(rt.library)
    done = []
    quotes = 0
    months = months_to_roll(rt, now=now)
    for w in months:
        start, end = w.bounds(tz)
        with session(rt.engine) as s:
            rollups.refresh(s, _month_key(w), since=start, until=end, reach_flows=reach, now=now,
                            private_flows=catalog.private_flows(rt.library))
        done.append(_month_key(w))
    # New consented free-text answers from this month and last become pending (scrubbed) quotes.
    start, _ = months[1].bounds(tz)
    _, end = months[0].bounds(tz)
    with session(rt.engine) as s:
        keyring = getattr(rt, "keyring", None)  # free text is stored encrypted (issue 22)
        quotes = quoting.collect(s, since=start, until=end, now=now, decrypt=keyring.decrypt if keyring else None)
    log.info("rollup.done periods=%d quotes=%d", len(done), quotes)
    return f"rolled up {','.join(done)}; new quotes {quotes}"


# --- the Panel update ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRun:
    """One Panel meeting: when its update is drafted and the period it covers."""

    panel: date
    run_on: date
    window: Window

    def stem(self, report: str) -> str:
        return f"{report}-{self.panel.isoformat()}"


def panel_runs(settings: ReportSettings) -> list[PanelRun]:
    """Every configured Panel date with its drafting day and period: the whole months since the previous
    Panel's period (admin.reports.periods.panel_cycles), so no two reports can be differenced by a day."""
    from admin.reports.periods import panel_cycles

    cycles = {until: since for since, until in panel_cycles(settings)}
    out: list[PanelRun] = []
    for panel in settings.panel_days():
        run_on = panel - timedelta(days=settings.summary_days_before)
        until = run_on.replace(day=1) - timedelta(days=1)
        if until in cycles:
            out.append(PanelRun(panel, run_on, Window(cycles[until], until)))
    return out


def output_paths(settings: ReportSettings, run: PanelRun) -> list[Path]:
    base = Path(settings.reports_dir)
    return [base / f"{run.stem(r)}.{fmt}" for r in registry.REPORTS for fmt in settings.formats()]


def is_done(settings: ReportSettings, run: PanelRun) -> bool:
    return all(p.exists() for p in output_paths(settings, run))


def write_panel_update(rt: ReportParts, run: PanelRun, *, now: datetime, actor: str = "scheduler") -> list[Path]:
    """Build every registered report for this Panel in every configured format; audit each export."""
    settings = report_settings(rt)
    base = Path(settings.reports_dir)
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    base.chmod(0o700)  # owner-only, like the database: reports can be small enough to point at someone
    written: list[Path] = []
    for report in registry.REPORTS:
        for fmt in settings.formats():
            target = base / f"{run.stem(report)}.{fmt}"
            with session(rt.engine) as s:
                produced = registry.produce(
                    report,
                    s,
                    rt.library,
                    since=run.window.since,
                    until=run.window.until,
                    now=now,
                    settings=settings,
                    fmt=fmt,
                    meeting=run.panel,
                )
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(produced.data)  # drawn after the read: chats never wait for a PDF
            tmp.chmod(0o600)
            os.replace(tmp, target)
            with session(rt.engine) as s:
                audit.record(
                    s,
                    actor=actor,
                    action="report.export",
                    target=f"{report}:{run.window.key}",
                    detail=f"format={fmt} panel={run.panel.isoformat()} file={target.name}",
                    now=now,
                )
            written.append(target)
    return written


def panel_summary(rt: ReportParts, *, now: datetime) -> str:
    """Draft the update for any Panel whose drafting day has come (and which has not happened yet)."""
    settings = report_settings(rt)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    made = []
    for run in panel_runs(settings):
        if run.run_on <= today < run.panel and not is_done(settings, run):
            write_panel_update(rt, run, now=now)
            made.append(run.panel.isoformat())
            staff_notices.report_ready(rt, f"update for the Panel on {run.panel:%d %B %Y}", now=now)
    log.info("panel_summary.done made=%d", len(made))
    return f"panel updates: {','.join(made) or 'none due'}"
