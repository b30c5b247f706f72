"""`ourvoice report`, `ourvoice quote` and `ourvoice demo` end to end through Typer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.cli import app
from storage import audit
from storage import quotes as quote_store
from storage.db import make_engine, session
from storage.migrate import create_missing_tables


@pytest.fixture
def env(seeded_db: str, tmp_path: Path) -> dict[str, str]:
    shutil.copy(Path(seeded_db.split("///", 1)[1]), tmp_path / "cli.db")
    return {
        "OURVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "OURVOICE_PANEL_DATES": "2026-12-10,2027-02-11",
        "OURVOICE_REPORTS_DIR": str(tmp_path / "reports"),
    }


def run(env: dict[str, str], *args: str):
    result = CliRunner().invoke(app, list(args), env=env)
    return result


def actions(env: dict[str, str], action: str) -> list:
    engine = make_engine(env["OURVOICE_DATABASE_URL"])
    with session(engine) as s:
        rows = audit.entries(s, action=action)
    engine.dispose()
    return rows


def test_report_ocypc_writes_markdown_and_audits(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "update.md"
    r = run(
        env,
        "report",
        "ocypc",
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--format",
        "md",
        "--out",
        str(out),
        "--staff",
        "Pat (participation lead)",
    )
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8").startswith("# Corporate Parenting Panel update")
    rows = actions(env, "report.export")
    assert [e.target for e in rows] == ["report:ocypc"]
    assert rows[0].actor.endswith("Pat (participation lead)")
    assert "since=2026-07-01 until=2026-09-30" in rows[0].detail


def test_report_refuses_bad_input(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "report", "ocypc", "--from", "2026-13-01", "--to", "2026-11-30").exit_code == 2
    assert run(env, "report", "ocypc", "--from", "2026-09-01", "--to", "2026-08-01").exit_code == 2
    assert (
        run(
            env, "report", "ocypc", "--from", "2026-09-01", "--to", "2026-11-30", "--format", "docx"
        ).exit_code
        == 2
    )


def test_report_refuses_periods_that_could_be_differenced(env: dict[str, str], tmp_path: Path) -> None:
    """Two ranges a day apart, a running quarter: refused for everyone, and nothing is written or audited."""
    out = tmp_path / "x.md"
    for since, until in [("2026-07-01", "2026-09-29"), ("2026-07-02", "2026-09-30"), ("2026-10-01", "2026-12-31")]:
        r = run(env, "report", "ocypc", "--from", since, "--to", until, "--format", "md", "--out", str(out),
                "--staff", "Pat")
        assert r.exit_code == 2, r.output
        assert "refused" in r.output
    assert not out.exists()
    assert actions(env, "report.export") == []


def test_schedule_lists_panel_dates(env: dict[str, str]) -> None:
    r = run(env, "report", "schedule")
    assert r.exit_code == 0, r.output
    assert "reports_rollup" in r.output
    assert "reports_panel_summary" in r.output
    assert "Panel 2026-12-10" in r.output
    assert "Panel 2027-02-11" in r.output


def test_quote_list_and_decisions_are_audited(env: dict[str, str]) -> None:
    r = run(env, "quote", "list", "--staff", "Sam")
    assert r.exit_code == 0
    first = int(next(w for w in r.output.split() if w.startswith("#")).lstrip("#"))
    engine = make_engine(env["OURVOICE_DATABASE_URL"])
    with session(engine) as s:
        original = quote_store.get(s, first)
        assert original is not None
    engine.dispose()
    # Issue #19: approval may only take words out, never put words in a young person's mouth.
    r = run(env, "quote", "approve", str(first), "--staff", "Sam", "--text", "Kind carers, from Dover")
    assert r.exit_code != 0
    assert "only take words out" in r.output
    shorter = " ".join(original.text.split()[:-1] + ["[removed]"])
    r = run(env, "quote", "approve", str(first), "--staff", "Sam", "--text", shorter)
    assert r.exit_code == 0, r.output
    engine = make_engine(env["OURVOICE_DATABASE_URL"])
    with session(engine) as s:
        q = quote_store.get(s, first)
        assert q is not None
        assert q.status == "approved"
        assert q.text == shorter
    engine.dispose()
    assert run(env, "quote", "reject", "999999", "--staff", "Sam").exit_code == 1
    assert [e.action for e in actions(env, "quote.view")] == ["quote.view"]
    assert len(actions(env, "quote.approve")) == 1


def test_demo_seed_on_an_empty_database(sqlite_url: str, tmp_path: Path) -> None:
    create_missing_tables(sqlite_url)
    env = {"OURVOICE_DATABASE_URL": sqlite_url}
    r = run(env, "demo", "seed", "--people", "40", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert "participants=40" in r.output


def test_demo_setup_seeds_only_an_empty_database(sqlite_url: str) -> None:
    create_missing_tables(sqlite_url)
    env = {"OURVOICE_DATABASE_URL": sqlite_url}
    first = run(env, "demo", "setup", "--people", "30")
    assert first.exit_code == 0, first.output
    assert "demo data: participants=30" in first.output
    assert "invite:" in first.output  # identity feature installed: codes printed for the demo
    second = run(env, "demo", "setup", "--people", "30")
    assert "already has data" in second.output
