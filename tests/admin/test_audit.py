"""Every audited staff action writes exactly one audit row; reads of aggregates write none; the chain
check (`ourvoice audit verify`) catches a row changed in the database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from admin.cli import app as cli
from storage import alerts as alert_store
from storage import challenges, good_news, participants, quotes, submissions, waves
from storage import topics as topic_store
from storage.models import AuditEntry, Submission
from tests.admin.conftest import PASSWORD, Admin

runner = CliRunner()


def audit_rows(admin: Admin) -> list[AuditEntry]:
    with admin.db() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


@pytest.fixture
def scene(admin: Admin) -> dict[str, Any]:
    """Staff of each role, an alert, a shared response, a card, good news, a quote and a wave."""
    for username, role, districts in [
        ("mgr", "participation_manager", ()),
        ("lead", "safeguarding_lead", ()),
        ("worker", "participation_worker", ("east",)),
        ("foster", "fostering_team", ("east",)),
        ("aud", "auditor", ()),
    ]:
        admin.add_staff(username, role, districts)
    now = admin.clock.now
    with admin.db() as s:
        p, _ = participants.create(
            s,
            key_hash="k1",
            channel="web",
            address_enc=None,
            now=now,
            band="teen",
            district="east",
            council="ocypc",
        )
        alert_store.create(
            s,
            alert_ref="AL-1",
            participant_id=p.id,
            case_ref=p.case_ref,
            channel="web",
            categories=["self_harm"],
            text_enc=admin.rt.keyring.encrypt("the words"),
            now=now,
            notified=True,
        )
        sub = submissions.get_or_start(s, p, "wellbeing", 1, now=now)
        submissions.put_answer(
            s, sub, "feel_safe", 2, skipped=False, free_text=False, quarantined=False, now=now
        )
        s.execute(update(Submission).where(Submission.id == sub.id).values(shared_with_worker=True))
        card = challenges.create(
            s,
            raised_by=p.id,
            council="ocypc",
            challenge="Free bus passes",
            why=None,
            who_for=[],
            personal=False,
            quarantined=False,
            submission_id=None,
            now=now,
        )
        news = good_news.add(
            s,
            participant_id=p.id,
            submission_id=None,
            text="I won a race",
            category="sport",
            consent=True,
            band="teen",
            district="east",
            council="ocypc",
            now=now,
        )
        ans = submissions.put_answer(
            s,
            sub,
            "why",
            "My carer Jane in Margate listens",
            skipped=False,
            free_text=True,
            quarantined=False,
            now=now,
        )
        quote = quotes.add(
            s,
            answer_id=ans.id,
            flow_id="wellbeing",
            question_id="why",
            band="teen",
            scrubbed_text="My carer [name] in [place] listens",
            answered_at=now,
            now=now,
        )
    return {"sub": sub.id, "card": card.id, "news": news.id, "quote": quote.id}


def _post(admin: Admin, user: str, path: str, data: dict[str, Any]) -> Any:
    c, csrf = admin.client_for(user)
    return c.post(path, data={**data, "csrf_token": csrf})


def _get(admin: Admin, user: str, path: str) -> Any:
    c, _ = admin.client_for(user)
    return c.get(path)


ACTIONS: dict[str, Callable[[Admin, dict], Any]] = {
    "topic.publish": lambda a, sc: _post(
        a,
        "mgr",
        "/admin/topics/good_foster_carer/publish",
        {"opens": "2026-12-01", "closes": "2027-01-31", "districts": ["east"]},
    ),
    "topic.close": lambda a, sc: _post(a, "mgr", "/admin/topics/good_foster_carer/close", {}),
    "alert.ack": lambda a, sc: _post(a, "lead", "/admin/alerts/AL-1/ack", {}),
    "alert.close": lambda a, sc: _post(
        a,
        "lead",
        "/admin/alerts/AL-1/close",
        {"handled_by": "Duty SW", "outcome": "Visited, safe", "closed_at": "2026-11-24T10:00"},
    ),
    "alert.read_text": lambda a, sc: _post(a, "lead", "/admin/alerts/AL-1/read", {"password": PASSWORD}),
    "response.view": lambda a, sc: _get(a, "worker", f"/admin/responses/shared/{sc['sub']}"),
    "report.export": lambda a, sc: _post(
        a,
        "mgr",
        "/admin/reports/download",
        {"report": "ocypc", "fmt": "md", "since": "2026-10-01", "until": "2026-10-31"},
    ),
    "quote.approve": lambda a, sc: _post(
        a,
        "mgr",
        f"/admin/approvals/quotes/{sc['quote']}",
        {"decision": "approve", "text": "My carer listens", "original": "My carer [name] in [place] listens"},
    ),
    "goodnews.approved": lambda a, sc: _post(
        a, "worker", f"/admin/approvals/goodnews/{sc['news']}", {"decision": "approve"}
    ),
    "card.move": lambda a, sc: _post(
        a,
        "worker",
        f"/admin/cards/{sc['card']}/move",
        {"to_state": "discussed_at_council", "owner": "", "note": ""},
    ),
    "invite.create": lambda a, sc: _post(
        a,
        "worker",
        "/admin/invites",
        {
            "audience": "young_person",
            "age_band": "11-16",
            "district": "east",
            "council": "ocypc",
            "count": "3",
            "expires_days": "30",
        },
    ),
    "staff.add": lambda a, sc: _post(
        a,
        "mgr",
        "/admin/staff",
        {"username": "newbie", "role": "panel_viewer", "password": "a fresh long password"},
    ),
    "staff.change": lambda a, sc: _post(
        a,
        "mgr",
        "/admin/staff/3/change",
        {"role": "participation_worker", "districts": ["east", "west"], "active": "1"},
    ),
    "staff.password": lambda a, sc: _post(
        a, "mgr", "/admin/staff/3/password", {"password": "reset to another long one", "your_password": PASSWORD}
    ),
    "survey.open": lambda a, sc: _post(
        a,
        "foster",
        "/admin/waves",
        {
            "questionnaire": "carer_pulse",
            "name": "Pulse",
            "opens": "2026-11-24",
            "closes": "2026-12-20",
            "districts": ["east"],
        },
    ),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_staff_action_writes_exactly_one_audit_row(admin: Admin, scene: dict, action: str) -> None:
    before = audit_rows(admin)
    resp = ACTIONS[action](admin, scene)
    assert resp.status_code in (200, 303), resp.text[:300]
    new = audit_rows(admin)[len(before) :]
    assert [e.action for e in new] == [action]
    assert new[0].actor in {"mgr", "lead", "worker", "foster"}
    assert "the words" not in new[0].detail
    assert "Jane" not in new[0].detail


def test_wave_close_enter_and_invite_revoke_each_write_one_row(admin: Admin, scene: dict) -> None:
    now = admin.clock.now
    with admin.db() as s:
        w = waves.open_wave(
            s,
            name="Annual",
            questionnaire_id="carer_annual",
            opens_on=now.date(),
            closes_on=now.date(),
            opens_at=now,
            closes_at=now.replace(hour=23),
            districts=["east"],
            created_by="t",
            now=now,
        )
    steps = [
        (
            "survey.enter",
            lambda: _post(
                admin,
                "foster",
                f"/admin/waves/{w.id}/enter",
                {"mode": "paper", "district": "east", "years_fostering": "y3_5"},
            ),
        ),
        ("survey.close", lambda: _post(admin, "foster", f"/admin/waves/{w.id}/close", {})),
    ]
    ACTIONS["invite.create"](admin, scene)
    batch = re.search(r"B-[A-Z0-9]{6}", audit_rows(admin)[-1].target).group(0)  # type: ignore[union-attr]
    steps.append(("invite.revoke", lambda: _post(admin, "worker", f"/admin/invites/{batch}/revoke", {})))
    for action, step in steps:
        before = len(audit_rows(admin))
        resp = step()
        assert resp.status_code == 303, resp.text[:300]
        rows = audit_rows(admin)
        assert len(rows) == before + 1
        assert rows[-1].action == action


def test_own_password_change_writes_one_row(admin: Admin, scene: dict) -> None:
    before = len(audit_rows(admin))
    resp = _post(
        admin, "worker", "/admin/account/password", {"current": PASSWORD, "new": "my own new password"}
    )
    assert resp.status_code == 303
    rows = audit_rows(admin)
    assert len(rows) == before + 1
    assert (rows[-1].actor, rows[-1].action) == ("worker", "staff.password")


def test_reading_aggregates_and_queues_writes_no_audit_row(admin: Admin, scene: dict) -> None:
    before = len(audit_rows(admin))
    for user, path in [
        ("mgr", "/admin/"),
        ("mgr", "/admin/responses"),
        ("mgr", "/admin/responses/flow/wellbeing"),
        ("lead", "/admin/alerts"),
        ("lead", "/admin/alerts/AL-1"),
        ("foster", "/admin/waves"),
        ("mgr", "/admin/topics"),
        ("mgr", "/admin/topics/good_foster_carer"),
        ("aud", "/admin/audit"),
    ]:
        assert _get(admin, user, path).status_code == 200, path
    assert len(audit_rows(admin)) == before


@pytest.mark.parametrize(
    ("user", "path", "action"),
    [
        ("worker", "/admin/cards", "card.list"),
        ("worker", "/admin/cards/{card}", "card.view"),
        ("mgr", "/admin/approvals", "approvals.view"),
    ],
)
def test_pages_showing_young_peoples_own_words_write_one_row(
    admin: Admin, scene: dict, user: str, path: str, action: str
) -> None:
    before = len(audit_rows(admin))
    assert _get(admin, user, path.format(**scene)).status_code == 200
    rows = audit_rows(admin)
    assert [(r.actor, r.action) for r in rows[before:]] == [(user, action)]


def test_alert_words_need_the_password_and_each_read_is_one_row(admin: Admin, scene: dict) -> None:
    page = _get(admin, "lead", "/admin/alerts/AL-1")
    assert "the words" not in page.text
    before = len(audit_rows(admin))
    wrong = _post(admin, "lead", "/admin/alerts/AL-1/read", {"password": "not my password"})
    assert wrong.status_code == 403
    assert "the words" not in wrong.text
    assert len(audit_rows(admin)) == before
    for n in (1, 2):
        ok = _post(admin, "lead", "/admin/alerts/AL-1/read", {"password": PASSWORD})
        assert ok.status_code == 200
        assert "the words" in ok.text
        assert ok.headers["cache-control"] == "no-store"
        assert len(audit_rows(admin)) == before + n
    # A manager works the queue but never reads the words.
    assert _post(admin, "mgr", "/admin/alerts/AL-1/read", {"password": PASSWORD}).status_code == 403


def test_closing_an_alert_needs_name_outcome_and_time(admin: Admin, scene: dict) -> None:
    before = len(audit_rows(admin))
    for data in (
        {"handled_by": "", "outcome": "done", "closed_at": "2026-11-24T10:00"},
        {"handled_by": "Sam", "outcome": "  ", "closed_at": "2026-11-24T10:00"},
        {"handled_by": "Sam", "outcome": "done", "closed_at": ""},
    ):
        resp = _post(admin, "lead", "/admin/alerts/AL-1/close", data)
        assert resp.status_code == 400
        assert "Not closed" in resp.text
    assert len(audit_rows(admin)) == before
    with admin.db() as s:
        assert alert_store.get(s, "AL-1").status == "open"


# --- the chain and the CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(admin: Admin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Admin:
    monkeypatch.setenv("OURVOICE_DATABASE_URL", admin.rt.settings.database_url)
    monkeypatch.setenv("OURVOICE_AUDIT_ANCHOR_FILE", admin.rt.settings.audit_anchor_file)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return admin


def as_attacker(admin: Admin, *statements: str, **params: Any) -> None:
    """Someone with the database owner's rights: drops the append-only triggers, then changes rows."""
    with admin.db() as s:
        s.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
        s.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        for sql in statements:
            s.execute(text(sql), params)


def test_audit_verify_passes_then_names_a_tampered_row(cli_env: Admin, scene: dict) -> None:
    admin = cli_env
    for action in ("topic.publish", "alert.ack", "card.move"):
        ACTIONS[action](admin, scene)
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit chain OK" in ok.output
    rows = audit_rows(admin)
    victim = rows[len(rows) // 2]
    as_attacker(admin, "UPDATE audit_entry SET actor = 'someone_else' WHERE id = :id", id=victim.id)
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"entry {victim.id}:" in bad.output
    assert str(victim.id) in bad.output.splitlines()[-1]


def test_audit_verify_notices_a_deleted_row(cli_env: Admin, scene: dict) -> None:
    admin = cli_env
    for action in ("topic.publish", "alert.ack", "card.move"):
        ACTIONS[action](admin, scene)
    rows = audit_rows(admin)
    as_attacker(admin, "DELETE FROM audit_entry WHERE id = :id", id=rows[1].id)
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "BROKEN" in bad.output


def test_audit_list_needs_auditor_credentials(
    cli_env: Admin, scene: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    ACTIONS["alert.ack"](cli_env, scene)
    assert runner.invoke(cli, ["audit", "list"]).exit_code == 2
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PASSWORD)
    refused = runner.invoke(cli, ["audit", "list", "--staff", "mgr"])
    assert refused.exit_code == 2
    assert "cannot do this" in refused.output
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", "wrong password here")
    assert runner.invoke(cli, ["audit", "list", "--staff", "aud"]).exit_code == 2
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PASSWORD)
    listed = runner.invoke(cli, ["audit", "list", "--staff", "aud", "--action", "alert.ack"])
    assert listed.exit_code == 0, listed.output
    assert "alert.ack" in listed.output
    assert "lead" in listed.output
    # The password may also be typed at the prompt instead of the environment.
    monkeypatch.delenv("OURVOICE_STAFF_PASSWORD")
    typed = runner.invoke(cli, ["audit", "list", "--staff", "aud"], input=PASSWORD + "\n")
    assert typed.exit_code == 0
    assert "alert.ack" in typed.output


def test_audit_rows_count_matches_actions(admin: Admin, scene: dict) -> None:
    with admin.db() as s:
        start = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    for name in ("topic.publish", "alert.ack", "goodnews.approved"):
        ACTIONS[name](admin, scene)
    with admin.db() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == start + 3
        assert topic_store.windows(s)["good_foster_carer"].districts == ("east",)


# --- issue 22, items 12: keyed chain, fixed end, append-only table -------------------------------------------


def _three_actions(admin: Admin, scene: dict) -> list[AuditEntry]:
    for action in ("topic.publish", "alert.ack", "card.move"):
        ACTIONS[action](admin, scene)
    return audit_rows(admin)


def _verify(*args: str) -> Any:
    return runner.invoke(cli, ["audit", "verify", *args])


def test_update_and_delete_on_the_audit_table_are_refused(admin: Admin, scene: dict) -> None:
    rows = _three_actions(admin, scene)
    for sql in ("UPDATE audit_entry SET actor = 'x' WHERE id = :id", "DELETE FROM audit_entry WHERE id = :id"):
        with pytest.raises(Exception, match="append-only"), admin.db() as s:
            s.execute(text(sql), {"id": rows[-1].id})
    assert [r.row_hash for r in audit_rows(admin)] == [r.row_hash for r in rows]


def test_verify_notices_the_last_rows_deleted(cli_env: Admin, scene: dict) -> None:
    rows = _three_actions(cli_env, scene)
    assert _verify().exit_code == 0
    as_attacker(cli_env, "DELETE FROM audit_entry WHERE id >= :id", id=rows[-2].id)
    bad = _verify()
    assert bad.exit_code == 1, bad.output
    assert "BROKEN" in bad.output


def test_verify_notices_the_last_rows_deleted_and_the_head_rolled_back(cli_env: Admin, scene: dict) -> None:
    """The attacker restores the chain head as it was before the last rows: only the anchors know better."""
    ACTIONS["topic.publish"](cli_env, scene)
    with cli_env.db() as s:
        earlier = dict(s.execute(text("SELECT count, last_id, last_hash, mac FROM audit_head")).mappings().one())
    rows = _three_actions(cli_env, scene)
    assert len(rows) > earlier["count"]
    as_attacker(
        cli_env,
        "DELETE FROM audit_entry WHERE id > :last_id",
        "UPDATE audit_head SET count = :count, last_id = :last_id, last_hash = :last_hash, mac = :mac",
        **earlier,
    )
    bad = _verify()
    assert bad.exit_code == 1, bad.output
    assert "anchored entry" in bad.output


def test_verify_notices_every_row_deleted(cli_env: Admin, scene: dict) -> None:
    _three_actions(cli_env, scene)
    as_attacker(cli_env, "DELETE FROM audit_entry", "DELETE FROM audit_head")
    bad = _verify()
    assert bad.exit_code == 1, bad.output
    assert "anchored entry" in bad.output


def test_verify_notices_an_edit_with_every_later_hash_recomputed(cli_env: Admin, scene: dict) -> None:
    """Without the key, recomputing the chain (as the old unkeyed SHA-256 allowed) does not make it valid."""
    import hashlib

    rows = _three_actions(cli_env, scene)
    victim = rows[len(rows) // 2]
    as_attacker(cli_env, "UPDATE audit_entry SET actor = 'someone_else' WHERE id = :id", id=victim.id)
    with cli_env.db() as s:
        tampered = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
    prev = "0" * 64
    for e in tampered:
        at = e.at.replace(tzinfo=None)
        digest = hashlib.sha256("\x1f".join((prev, at.isoformat(), e.actor, e.action, e.target, e.detail))
                                .encode()).hexdigest()
        as_attacker(cli_env, "UPDATE audit_entry SET prev_hash = :p, row_hash = :h WHERE id = :id",
                    p=prev, h=digest, id=e.id)
        prev = digest
    as_attacker(cli_env, "UPDATE audit_head SET last_hash = :h", h=prev)
    bad = _verify()
    assert bad.exit_code == 1, bad.output
    assert f"entry {victim.id}: row content does not match" in bad.output


def test_anchor_lines_hold_ids_and_hashes_only_and_a_forged_line_is_named(cli_env: Admin, scene: dict) -> None:
    rows = _three_actions(cli_env, scene)
    anchor_file = Path(cli_env.rt.settings.audit_anchor_file)
    lines = anchor_file.read_text().splitlines()
    assert len(lines) == len(rows)
    assert f"count={len(rows)} last_id={rows[-1].id} hash={rows[-1].row_hash}" in lines[-1]
    for r in rows:
        for word in (r.actor, r.action):
            assert word not in anchor_file.read_text()
    with anchor_file.open("a") as f:
        f.write(lines[-1].replace(f"count={len(rows)}", f"count={len(rows) + 5}") + "\n")
    bad = _verify()
    assert bad.exit_code == 1
    assert "not signed" in bad.output


def test_a_different_key_cannot_vouch_for_the_chain(
    cli_env: Admin, scene: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    _three_actions(cli_env, scene)
    monkeypatch.setenv("OURVOICE_AUDIT_KEY", "not the key the rows were written with")
    bad = _verify()
    assert bad.exit_code == 1
    assert "does not match" in bad.output


def test_init_writes_a_separate_audit_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    assert runner.invoke(cli, ["init", "--env-file", str(env)]).exit_code == 0
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    assert len(values["OURVOICE_AUDIT_KEY"]) >= 40
    assert values["OURVOICE_AUDIT_KEY"] != values["OURVOICE_ID_HASH_KEY"]
