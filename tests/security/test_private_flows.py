"""Issue 22 item 4: a flow marked `private: true` (getting ready for a review) is left out of every aggregate:
the admin's response pages for every role, `ourvoice responses summary`, roll-ups and the Panel report, and the
weekly Slack digest's counts. Its content flag is checked by the schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from typer.testing import CliRunner

from admin.cli import app as cli
from admin.reports import catalog
from content.loader import load_library
from content.schema import Flow
from storage import participants, reporting, staff_digest, submissions
from storage.db import make_engine, session
from storage.models import RollupChoice
from tests.admin.conftest import Admin, fresh_db, make_admin

PRIVATE = "review_prep"
PEOPLE = 8  # enough that every count would be shown if it were counted at all
WHEN = datetime(2026, 8, 12, 10, 0, tzinfo=UTC)  # inside the fixed quarter 2026-07-01..2026-09-30
ROLES = {"participation_worker": ("east",), "participation_manager": (), "panel_viewer": ()}


@pytest.fixture(scope="module")
def library() -> Any:
    return load_library()


def seed(url: str, *, when: datetime = WHEN) -> None:
    """PEOPLE young people in the east who each got ready for a review (choices, a scale) and did a check-in."""
    engine = make_engine(url)
    with session(engine) as s:
        for i in range(PEOPLE):
            p, _ = participants.create(
                s, key_hash=f"private-{i}", channel="web", address_enc=None, now=when, band="teen",
                district="east", council="super_council",
            )
            sub = submissions.get_or_start(s, p, PRIVATE, 1, now=when)
            submissions.put_answer(s, sub, "feeling", 4, skipped=False, free_text=False, quarantined=False, now=when)
            submissions.put_answer(
                s, sub, "who_there", ["carer", "social_worker"], skipped=False, free_text=False, quarantined=False,
                now=when,
            )
            submissions.complete(s, sub, now=when)
            well = submissions.get_or_start(s, p, "wellbeing", 1, now=when)
            submissions.put_answer(
                s, well, "feel_safe", 4, skipped=False, free_text=False, quarantined=False, now=when
            )
            submissions.complete(s, well, now=when)
    engine.dispose()


def test_review_prep_is_marked_private_and_the_schema_checks_the_flag(library: Any) -> None:
    assert PRIVATE in catalog.private_flows(library)
    assert PRIVATE not in catalog.reach_flows(library)
    raw = yaml.safe_load((library.root / "flows" / "review_prep.yaml").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match="bool"):
        Flow.model_validate({**raw, "private": "sometimes"})
    with pytest.raises(ValidationError, match="cannot be private"):
        Flow.model_validate({**raw, "kind": "survey", "private": True})


@pytest.fixture
def admin(tmp_path: Path, library: Any) -> Iterator[Admin]:
    from storage.migrate import create_missing_tables, upgrade

    template = tmp_path / "template" / "ourvoice.db"
    template.parent.mkdir()
    upgrade(f"sqlite:///{template}")
    create_missing_tables(f"sqlite:///{template}")
    a = make_admin(fresh_db(template, tmp_path), tmp_path, library)
    yield a
    a.client.close()
    a.rt.engine.dispose()


def test_web_admin_shows_no_aggregate_of_a_private_flow_to_any_role(admin: Admin, library: Any) -> None:
    seed(str(admin.rt.engine.url))
    title = "Get ready for my review"
    for role, districts in ROLES.items():
        admin.add_staff(role, role, districts)
        client, _ = admin.client_for(role)
        listing = client.get("/admin/responses")
        assert listing.status_code == 200, role
        assert "/admin/responses/flow/wellbeing" in listing.text, role  # the page does count what it may
        assert PRIVATE not in listing.text and title not in listing.text, role
        for band in ("", "?band=teen"):
            assert client.get(f"/admin/responses/flow/{PRIVATE}{band}").status_code == 404, role
        client.close()


def test_cli_summary_and_report_build_leave_a_private_flow_out(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OURVOICE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OURVOICE_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("OURVOICE_PANEL_DATES", "")
    monkeypatch.delenv("OURVOICE_CONTENT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    pw = "manager password long enough 7"
    made = runner.invoke(cli, ["staff", "add", "--username", "mgr", "--role", "participation_manager"], input=pw + "\n")
    assert made.exit_code == 0, made.output
    seed(sqlite_url)
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", pw)

    summary = runner.invoke(cli, ["responses", "summary", "--staff", "mgr"])
    assert summary.exit_code == 0, summary.output
    assert "wellbeing" in summary.output
    assert PRIVATE not in summary.output
    one = runner.invoke(cli, ["responses", "summary", "--flow", PRIVATE, "--staff", "mgr"])
    assert one.exit_code == 1
    assert "who_there" not in one.output

    out = tmp_path / "update.md"
    built = runner.invoke(
        cli,
        ["report", "ocypc", "--from", "2026-07-01", "--to", "2026-09-30", "--format", "md", "--out", str(out),
         "--staff", "mgr"],
    )
    assert built.exit_code == 0, built.output
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        rolled = s.execute(
            select(RollupChoice.flow_id, func.count()).group_by(RollupChoice.flow_id)
        ).all()
        flows = {f for f, _ in rolled}
        assert "wellbeing" in flows  # the period was rolled up
        assert PRIVATE not in flows
    engine.dispose()
    assert "review" not in out.read_text(encoding="utf-8").lower()


def test_a_period_rolled_up_before_the_flag_loses_the_private_rows(sqlite_url: str, library: Any) -> None:
    from storage import rollups

    seed(sqlite_url)
    since, until = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        rollups.refresh(s, "2026-08", since=since, until=until, reach_flows=[], now=until + timedelta(days=1))
        assert reporting.rolled_choices(s, "2026-08", flow_ids=[PRIVATE])  # frozen with the private rows
    with session(engine) as s:
        rollups.refresh(
            s, "2026-08", since=since, until=until, reach_flows=catalog.reach_flows(library),
            now=until + timedelta(days=2), private_flows=catalog.private_flows(library),
        )
        assert not reporting.rolled_choices(s, "2026-08", flow_ids=[PRIVATE])
        assert not reporting.rolled_people(s, "2026-08", flow_ids=[PRIVATE])
        assert reporting.rolled_choices(s, "2026-08", flow_ids=["wellbeing"])
    engine.dispose()


def test_weekly_digest_counts_no_private_submissions(sqlite_url: str, library: Any) -> None:
    seed(sqlite_url)
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        week = dict(since=WHEN - timedelta(days=7), until=WHEN + timedelta(days=1))
        assert staff_digest.week_counts(s, **week)["responses_completed"] == 2 * PEOPLE  # type: ignore[arg-type]
        kept = staff_digest.week_counts(s, **week, leave_out=catalog.private_flows(library))  # type: ignore[arg-type]
        assert kept["responses_completed"] == PEOPLE
    engine.dispose()
