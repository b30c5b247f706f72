"""Issue 22, item 16: the reports directory and the report files in it are owner-only."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from admin.jobs import rollup
from tests.reports.conftest import runtime


def test_panel_update_writes_owner_only_files_in_an_owner_only_directory(sqlite_url: str, tmp_path: Path) -> None:
    rt = runtime(sqlite_url, tmp_path, panel_dates="2026-12-10", summary_days_before=10, report_formats="md")
    try:
        assert rollup.panel_summary(rt, now=datetime(2026, 11, 30, 7, tzinfo=UTC)) == "panel updates: 2026-12-10"
        out = tmp_path / "reports"
        assert stat.S_IMODE(out.stat().st_mode) == 0o700
        files = list(out.iterdir())
        assert files
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    finally:
        rt.engine.dispose()
