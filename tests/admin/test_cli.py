"""`ourvoice staff` and the shared CLI sign-in helper: bootstrap, manager-only changes, passwords from a
prompt, stdin or the environment, throttling shared with the web."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from admin.cli import app as cli
from admin.commands.auth_helper import authenticate
from storage.db import make_engine, session
from storage.models import AuditEntry, StaffAccount
from tests.conftest import fixed_now

runner = CliRunner()
PW = "manager password long"


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("OURVOICE_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("OURVOICE_STAFF_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    return sqlite_url


def _accounts(url: str) -> dict[str, StaffAccount]:
    engine = make_engine(url)
    with session(engine) as s:
        rows = {a.username: a for a in s.execute(select(StaffAccount)).scalars()}
    engine.dispose()
    return rows


def _bootstrap() -> None:
    res = runner.invoke(
        cli, ["staff", "add", "--username", "mgr", "--role", "participation_manager"], input=PW + "\n"
    )
    assert res.exit_code == 0, res.output


def test_first_account_needs_no_sign_in_and_reads_stdin(db: str) -> None:
    _bootstrap()
    acct = _accounts(db)["mgr"]
    assert acct.role == "participation_manager"
    assert acct.districts == ""
    assert acct.password_hash.startswith("$argon2id$")
    assert PW not in acct.password_hash


def test_later_accounts_need_a_manager(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _bootstrap()
    args = [
        "staff",
        "add",
        "--username",
        "w1",
        "--role",
        "participation_worker",
        "--districts",
        "east,west",
        "--password-stdin",
    ]
    no_auth = runner.invoke(cli, args, input="worker password long\n")
    assert no_auth.exit_code == 2
    assert "needs --staff" in no_auth.output
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PW)
    ok = runner.invoke(cli, [*args, "--staff", "mgr"], input="worker password long\n")
    assert ok.exit_code == 0, ok.output
    assert _accounts(db)["w1"].districts == "east,west"
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", "worker password long")
    by_worker = runner.invoke(
        cli,
        ["staff", "add", "--username", "w2", "--role", "auditor", "--staff", "w1", "--password-stdin"],
        input="auditor password long\n",
    )
    assert by_worker.exit_code == 2
    assert "cannot do this" in by_worker.output
    assert "w2" not in _accounts(db)


def test_bad_role_district_and_short_password_are_refused(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _bootstrap()
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PW)
    for extra, pw, msg in [
        (["--role", "boss"], "long enough password", "unknown role"),
        (
            ["--role", "participation_worker", "--districts", "mars"],
            "long enough password",
            "unknown district",
        ),
        (["--role", "participation_worker"], "long enough password", "districts"),
        (["--role", "auditor"], "short", "at least 12"),
    ]:
        res = runner.invoke(
            cli, ["staff", "add", "--username", "x", *extra, "--staff", "mgr"], input=pw + "\n"
        )
        assert res.exit_code == 2, res.output
        assert msg in res.output, res.output


def test_list_set_disable_enable_and_passwd(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _bootstrap()
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PW)
    runner.invoke(
        cli,
        [
            "staff",
            "add",
            "--username",
            "amy",
            "--role",
            "fostering_team",
            "--districts",
            "thanet",
            "--staff",
            "mgr",
        ],
        input="fostering pass long\n",
    )
    listed = runner.invoke(cli, ["staff", "list"])
    assert "amy" in listed.output
    assert "fostering_team" in listed.output
    assert "thanet" in listed.output
    assert "$argon2" not in listed.output
    assert (
        runner.invoke(cli, ["staff", "set", "amy", "--districts", "thanet,north", "--staff", "mgr"]).exit_code
        == 0
    )
    assert _accounts(db)["amy"].districts == "thanet,north"
    assert runner.invoke(cli, ["staff", "disable", "amy", "--staff", "mgr"]).exit_code == 0
    assert _accounts(db)["amy"].active is False
    assert runner.invoke(cli, ["staff", "disable", "mgr", "--staff", "mgr"]).exit_code == 2
    assert runner.invoke(cli, ["staff", "enable", "amy", "--staff", "mgr"]).exit_code == 0
    # Amy changes her own password; she may not change the manager's.
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", "fostering pass long")
    own = runner.invoke(
        cli,
        ["staff", "passwd", "amy", "--staff", "amy", "--password-stdin"],
        input="fostering new pass long\n",
    )
    assert own.exit_code == 0, own.output
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", "fostering new pass long")
    other = runner.invoke(
        cli,
        ["staff", "passwd", "mgr", "--staff", "amy", "--password-stdin"],
        input="hijacked password long\n",
    )
    assert other.exit_code == 2
    engine = make_engine(db)
    with session(engine) as s:
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
    engine.dispose()
    assert actions == [
        "staff.add",
        "staff.add",
        "staff.change",
        "staff.change",
        "staff.change",
        "staff.password",
    ]


def test_authenticate_helper_for_other_commands(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _bootstrap()
    engine = make_engine(db)
    now = fixed_now()
    actor = authenticate("mgr", roles={"participation_manager"}, engine=engine, now=now, password=PW)
    assert (actor.username, actor.role, actor.all_districts) == ("mgr", "participation_manager", True)
    with pytest.raises(typer.Exit) as exit_info:
        authenticate("mgr", roles={"auditor"}, engine=engine, now=now, password=PW)
    assert exit_info.value.exit_code == 2
    for _ in range(5):
        with pytest.raises(typer.Exit):
            authenticate("mgr", engine=engine, now=now, password="not it at all")
    with pytest.raises(typer.Exit):  # locked now, even with the right password (same lock as the web)
        authenticate("mgr", engine=engine, now=now, password=PW)
    engine.dispose()


def test_responses_cli_counts_and_audited_shared_view(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from storage import participants, submissions
    from storage.models import Submission

    _bootstrap()
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", PW)
    runner.invoke(
        cli,
        [
            "staff",
            "add",
            "--username",
            "w",
            "--role",
            "participation_worker",
            "--districts",
            "east",
            "--staff",
            "mgr",
        ],
        input="worker password long\n",
    )
    engine = make_engine(db)
    # Answered in an ended quarter (the counts cover whole quarters that have ended: 2026-Q3), six in east
    # and five in every other district, so no district's figure needs hiding.
    now = fixed_now() - timedelta(days=70)
    others = ["west", "north", "south", "thanet", "out_of_county"]
    with session(engine) as s:
        ids = []
        for i, district in enumerate(["east"] * 6 + [d for d in others for _ in range(5)]):
            p, _ = participants.create(
                s, key_hash=f"c{i}", channel="web", address_enc=None, now=now, band="teen", district=district
            )
            sub = submissions.get_or_start(s, p, "wellbeing", 1, now=now)
            submissions.put_answer(
                s, sub, "feel_safe", 4, skipped=False, free_text=False, quarantined=False, now=now
            )
            ids.append(sub.id)
        s.execute(
            update(Submission).where(Submission.id.in_([ids[0], ids[-1]])).values(shared_with_worker=True)
        )
    engine.dispose()
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", "worker password long")
    monkeypatch.setattr("admin.commands.responses_cmd._now", fixed_now)  # 2026-11-24: Q3 ended, Q4 running
    counts = runner.invoke(cli, ["responses", "summary", "--period", "2026-Q3", "--staff", "w"])
    assert counts.exit_code == 0, counts.output
    assert re.search(r"^wellbeing\s+took part\s+6$", counts.output, re.M), counts.output  # east only
    running = runner.invoke(cli, ["responses", "summary", "--period", "2026-Q4", "--staff", "w"])
    assert running.exit_code == 1 and "has not ended" in running.output  # a quarter still running is refused
    listed = runner.invoke(cli, ["responses", "shared", "--staff", "w"])
    assert str(ids[0]) in listed.output
    assert str(ids[-1]) not in listed.output.split()
    assert runner.invoke(cli, ["responses", "show", str(ids[-1]), "--staff", "w"]).exit_code == 1
    shown = runner.invoke(cli, ["responses", "show", str(ids[0]), "--staff", "w"])
    assert shown.exit_code == 0, shown.output
    assert "feel_safe: 4" in shown.output
    engine = make_engine(db)
    with session(engine) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    engine.dispose()
    assert (last.actor, last.action, last.target) == ("w", "response.view", f"submission:{ids[0]}")
