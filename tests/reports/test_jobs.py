"""Scheduled report jobs: nightly roll-up (idempotent, run once across processes) and the Panel update."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from admin.jobs import rollup
from admin.scheduler import JOBS, run_job
from storage import audit, reporting
from storage import rollups as rollup_store
from storage.db import session
from tests.reports.conftest import NOW, report_settings, runtime


@pytest.fixture
def db(seeded_db: str, tmp_path: Path) -> str:
    src = Path(seeded_db.split("///", 1)[1])
    shutil.copy(src, tmp_path / "copy.db")
    return f"sqlite:///{tmp_path / 'copy.db'}"


def test_nightly_rolls_months_and_is_idempotent(db: str, tmp_path: Path) -> None:
    rt = runtime(db, tmp_path)
    first = rollup.nightly(rt, now=NOW)
    assert first.startswith("rolled up 2026-12,2026-11")  # this month, last month, then back-fill
    with session(rt.engine) as s:
        periods = {p.period for p in rollup_store.periods(s)}
        before = sorted((c.choice, c.people) for c in reporting.rolled_choices(s, "2026-10"))
    assert {"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"} <= periods
    second = rollup.nightly(rt, now=NOW)
    assert second.startswith("rolled up 2026-12,2026-11;")  # back-filled months are not redone
    with session(rt.engine) as s:
        assert sorted((c.choice, c.people) for c in reporting.rolled_choices(s, "2026-10")) == before
    rt.engine.dispose()


def test_run_job_claims_each_occurrence_once(db: str, tmp_path: Path) -> None:
    rt = runtime(db, tmp_path)
    job = next(j for j in JOBS if j.name == "reports_rollup")
    assert job.cron == {"hour": 2, "minute": 20}
    assert run_job(rt, job, now=NOW) is not None
    assert run_job(rt, job, now=NOW) is None  # another process (or a restart) in the same slot
    rt.engine.dispose()


def test_panel_runs_cover_contiguous_periods(tmp_path: Path) -> None:
    rs = report_settings(tmp_path, panel_dates="2027-02-11,2026-12-10", summary_days_before=10)
    runs = rollup.panel_runs(rs)
    assert [(r.panel, r.run_on) for r in runs] == [
        (date(2026, 12, 10), date(2026, 11, 30)),
        (date(2027, 2, 11), date(2027, 2, 1)),
    ]
    # Whole months that ended before the drafting day, no gap, no overlap.
    assert (runs[0].window.since, runs[0].window.until) == (date(2026, 8, 1), date(2026, 10, 31))
    assert (runs[1].window.since, runs[1].window.until) == (date(2026, 11, 1), date(2027, 1, 31))


class _StaffChannel:
    name = "staff"

    def __init__(self) -> None:
        self.got: list[str] = []

    def send(self, notice, recipient: str) -> None:
        self.got.append(f"{notice.subject()} | {notice.body()}")


def test_panel_summary_writes_once_when_due(db: str, tmp_path: Path) -> None:
    from bot.alerts import AlertNotifier, Recipient

    channel = _StaffChannel()
    notifier = AlertNotifier([Recipient(channel, "C0STAFF", staff_notices=True)])
    rt = runtime(db, tmp_path, notifier=notifier, panel_dates="2026-12-10", summary_days_before=10,
                 report_formats="md")
    early = datetime(2026, 11, 29, 7, tzinfo=UTC)
    assert rollup.panel_summary(rt, now=early) == "panel updates: none due"
    due = datetime(2026, 11, 30, 7, tzinfo=UTC)
    assert rollup.panel_summary(rt, now=due) == "panel updates: 2026-12-10"
    out = tmp_path / "reports"
    assert sorted(p.name for p in out.iterdir()) == ["ocypc-2026-12-10.md", "young-people-2026-12-10.md"]
    assert "10 December 2026" in (out / "ocypc-2026-12-10.md").read_text(encoding="utf-8")
    assert rollup.panel_summary(rt, now=due) == "panel updates: none due"  # restart-safe: already written
    assert notifier.wait_idle()
    notifier.stop()
    # The staff channel heard once that the draft is ready to check, with a link to the reports page.
    assert channel.got == [
        "[ourvoice] Report ready: update for the Panel on 10 December 2026 | The report is ready to check in the "
        "admin.\nOpen: https://ov.example/admin/reports"
    ]
    with session(rt.engine) as s:
        exports = audit.entries(s, action="report.export")
        assert len(exports) == 2
        assert all(e.actor == "scheduler" for e in exports)
        assert audit.verify(s) == []
    rt.engine.dispose()
