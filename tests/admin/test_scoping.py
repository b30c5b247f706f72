"""Access findings that each failed before admin/actions existed (issue 22, access 1-3): challenge cards are
district-scoped on the web and the CLI, the dashboard shows only the viewer's districts, and the fostering
team sees carers' answers only (no young people's reports or flow counts)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from admin.cli import app as cli
from storage import challenges, participants, submissions, waves
from tests.admin.conftest import PASSWORD, Admin
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY


def _card(admin: Admin, district: str, text: str) -> int:
    with admin.db() as s:
        p, _ = participants.create(
            s, key_hash=f"card-{district}-{text}", channel="web", address_enc=None, now=admin.clock.now,
            band="teen", district=district, council="ocypc",
        )
        card = challenges.create(
            s, raised_by=p.id, council="ocypc", challenge=text, why=None, who_for=[], personal=True,
            quarantined=False, submission_id=None, now=admin.clock.now,
        )
    return int(card.id)


def _wave(admin: Admin, district: str, name: str, start: date) -> int:
    with admin.db() as s:
        w = waves.open_wave(
            s, name=name, questionnaire_id="carer_pulse", opens_on=start, closes_on=start + timedelta(days=20),
            opens_at=admin.clock.now - timedelta(days=1), closes_at=admin.clock.now + timedelta(days=20),
            districts=[district], created_by="setup", now=admin.clock.now,
        )
    return int(w.id)


@pytest.fixture
def scoped(admin: Admin) -> Admin:
    admin.add_staff("worker", "participation_worker", ("east",))
    admin.add_staff("foster", "fostering_team", ("east",))
    return admin


def test_an_east_worker_cannot_open_or_move_a_west_young_persons_card_on_the_web(scoped: Admin) -> None:
    west = _card(scoped, "west", "My placement move")
    east = _card(scoped, "east", "Free bus passes")
    c, csrf = scoped.client_for("worker")
    assert c.get(f"/admin/cards/{west}").status_code == 404
    moved = c.post(f"/admin/cards/{west}/move", data={"to_state": "discussed_at_council", "csrf_token": csrf})
    assert moved.status_code == 404
    with scoped.db() as s:
        card = challenges.get(s, west)
        assert card is not None
        assert card.state == "submitted"
    listing = c.get("/admin/cards").text
    assert "Free bus passes" in listing
    assert "My placement move" not in listing
    assert c.get(f"/admin/cards/{east}").status_code == 200


def test_an_east_worker_cannot_open_or_move_a_west_card_from_the_cli(
    scoped: Admin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    west = _card(scoped, "west", "My placement move")
    monkeypatch.chdir(tmp_path)
    env = {
        "OURVOICE_DATABASE_URL": scoped.rt.settings.database_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
        "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD,
    }
    runner = CliRunner()
    shown = runner.invoke(cli, ["card", "show", str(west), "--staff", "worker"], env=env)
    assert shown.exit_code == 1
    assert "My placement move" not in shown.output
    moved = runner.invoke(cli, ["card", "move", str(west), "discussed_at_council", "--staff", "worker"], env=env)
    assert moved.exit_code == 1
    listed = runner.invoke(cli, ["card", "list", "--staff", "worker"], env=env)
    assert listed.exit_code == 0
    assert "My placement move" not in listed.output
    with scoped.db() as s:
        card = challenges.get(s, west)
        assert card is not None
        assert card.state == "submitted"


def test_the_dashboard_lists_only_the_viewers_districts(scoped: Admin) -> None:
    _wave(scoped, "east", "Pulse East", date(2026, 11, 20))
    _wave(scoped, "west", "Pulse West", date(2026, 11, 20))
    _card(scoped, "west", "West card")
    page = _get(scoped, "foster", "/admin/")
    assert "Pulse East" in page
    assert "Pulse West" not in page
    worker = _get(scoped, "worker", "/admin/")
    assert '<td>submitted</td><td class="num">0</td>' in worker  # the west card is not counted
    _card(scoped, "east", "East card")
    assert '<td>submitted</td><td class="num">1</td>' in _get(scoped, "worker", "/admin/")


def test_the_fostering_team_sees_no_young_peoples_reports_or_flow_counts(scoped: Admin) -> None:
    with scoped.db() as s:
        p, _ = participants.create(
            s, key_hash="yp-east", channel="web", address_enc=None, now=scoped.clock.now, band="teen",
            district="east", council="ocypc",
        )
        sub = submissions.get_or_start(s, p, "wellbeing", 1, now=scoped.clock.now)
        submissions.put_answer(s, sub, "feel_safe", 4, skipped=False, free_text=False, quarantined=False,
                               now=scoped.clock.now)
    assert "/admin/responses/flow/wellbeing" in _get(scoped, "worker", "/admin/responses")
    c, _ = scoped.client_for("foster")
    assert c.get("/admin/reports").status_code == 403
    assert c.get("/admin/responses/flow/wellbeing").status_code == 404  # a young people's check-in
    assert c.get("/admin/responses/flow/carer_pulse").status_code == 200
    overview = c.get("/admin/responses").text
    assert "/admin/responses/flow/wellbeing" not in overview


def _get(admin: Admin, user: str, path: str) -> Any:
    c, _ = admin.client_for(user)
    resp = c.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.text


def test_the_fostering_team_cannot_count_young_peoples_answers_from_the_cli(
    scoped: Admin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with scoped.db() as s:
        p, _ = participants.create(
            s, key_hash="yp-cli", channel="web", address_enc=None, now=scoped.clock.now, band="teen",
            district="east", council="ocypc",
        )
        submissions.get_or_start(s, p, "wellbeing", 1, now=scoped.clock.now)
    monkeypatch.chdir(tmp_path)
    env = {
        "OURVOICE_DATABASE_URL": scoped.rt.settings.database_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
        "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD,
    }
    runner = CliRunner()
    one = runner.invoke(cli, ["responses", "summary", "--flow", "wellbeing", "--staff", "foster"], env=env)
    assert one.exit_code == 1
    every = runner.invoke(cli, ["responses", "summary", "--staff", "foster"], env=env)
    assert every.exit_code == 0, every.output
    assert "wellbeing" not in every.output
    worker = runner.invoke(cli, ["responses", "summary", "--staff", "worker"], env=env)
    assert "wellbeing" in worker.output


SHARED_FLOW = "privacy_notice"  # a flow for young people and carers alike


ENDED = datetime(2026, 9, 15, 10, tzinfo=UTC)  # in 2026-Q3: ended at the tests' clock, so the pages count it


def _privacy_answers(admin: Admin, audience: str, band: str, count: int) -> None:
    """`count` people of the audience answer "Tell me more", and 5 more "OK", in the quarter that ended last."""
    with admin.db() as s:
        for i in range(count + 5):
            p, _ = participants.create(
                s, key_hash=f"both-{audience}-{i}", channel="web", address_enc=None, now=ENDED, band=band,
                district="east", council=None if audience == "carer" else "ocypc", audience=audience,
            )
            sub = submissions.get_or_start(s, p, SHARED_FLOW, 1, now=ENDED)
            submissions.put_answer(s, sub, "notice", "more" if i < count else "ok", skipped=False, free_text=False, quarantined=False,
                                   now=ENDED)
            submissions.complete(s, sub, now=ENDED)


def _tell_me_more(html: str) -> str:
    row = re.search(r"<td>Tell me more</td><td class=\"num\">(?:<span[^>]*>)?([^<]*)", html)
    assert row, "the question's table is missing"
    return row.group(1)


def test_a_flow_for_both_audiences_counts_only_the_viewers_audience_on_the_web(scoped: Admin) -> None:
    """The fostering team sees carers' answers only, the worker young people's only, even in a flow for both
    (the privacy notice, My stuff): 12 young people and 6 carers answered "Tell me more". (With 7 young people the
    worker's 7 is hidden too since 2026-12-06: the question's answers are protected together with the 23 who took
    part, and in this one-district scene everyone who took part answered, so every figure is tied to that total.)"""
    scoped.add_staff("mgr", "participation_manager")
    _privacy_answers(scoped, "young_person", "teen", 12)
    _privacy_answers(scoped, "carer", "carer", 6)
    url = f"/admin/responses/flow/{SHARED_FLOW}"
    assert _tell_me_more(_get(scoped, "worker", url)) == "12"
    assert _tell_me_more(_get(scoped, "mgr", url)) == "18"
    # The carers' 6 would give away the worker's 12 against the manager's 18 only if both were everything: with
    # every other band and district at 0 it is hidden (for every viewer), never shown as 18.
    assert "not shown" in _tell_me_more(_get(scoped, "foster", url))
    # People who took part: only for a role that counts everyone the flow is for (17 young people + 11 carers).
    for user, shown in (("foster", "per answer only"), ("worker", "per answer only"), ("mgr", "28")):
        overview = _get(scoped, user, "/admin/responses")
        row = re.search(rf'href="{url}[^"]*">.*?</tr>', overview, re.S)
        assert row and shown in row.group(0), (user, row)


def test_a_flow_for_both_audiences_counts_only_the_viewers_audience_from_the_cli(
    scoped: Admin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _privacy_answers(scoped, "young_person", "teen", 12)
    _privacy_answers(scoped, "carer", "carer", 6)
    monkeypatch.chdir(tmp_path)
    env = {
        "OURVOICE_DATABASE_URL": scoped.rt.settings.database_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
        "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD,
    }
    runner = CliRunner()
    for user, n in (("foster", "not shown"), ("worker", "12")):
        one = runner.invoke(cli, ["responses", "summary", "--flow", SHARED_FLOW, "--period", "2026-Q3",
                                  "--staff", user], env=env)
        assert one.exit_code == 0, one.output
        assert re.search(rf"^\s+more\s+{n}$", one.output, re.M), (user, one.output)
        every = runner.invoke(cli, ["responses", "summary", "--period", "2026-Q3", "--staff", user], env=env)
        assert re.search(rf"^{SHARED_FLOW}\s+took part\s+per answer$", every.output, re.M), (user, every.output)
