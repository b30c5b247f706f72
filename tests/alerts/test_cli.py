"""`ourvoice safeguarding check` (arguments and stdin, same verdicts as the live pipeline) and
`ourvoice alerts list|ack|close|show` (refusals, audit of every read, follow-up on ack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from admin.cli import app
from bot.messages import Inbound
from bot.runtime import Runtime
from storage import alerts as alert_store
from storage import audit
from storage.db import session
from storage.models import Alert, OutboxMessage
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now
from tests.helpers import Person

runner = CliRunner()
PHRASES = [
    "i want to kill myself",
    "my phone died lol",
    "he hurts me when mum is out",
    "this film is killing me 😂",
    "kms tbh",
    "the haunted house was so scary",
]


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def live_verdicts(rt: Runtime, texts: list[str]) -> list[dict]:
    out = []
    for t in texts:
        a = rt.dispatcher.check(Inbound("web", "cli-test", "m", "text", text=t))
        out.append({"text": t, "flagged": a.flagged, "categories": list(a.categories)})
    return out


def test_check_with_arguments_matches_the_live_check(rt: Runtime) -> None:
    result = runner.invoke(app, ["safeguarding", "check", *PHRASES])
    assert result.exit_code == 0, result.output
    got = lines(result.stdout)
    assert got == live_verdicts(rt, PHRASES)
    assert [g["flagged"] for g in got] == [True, False, True, False, True, False]


def test_check_reads_stdin_one_message_per_line(rt: Runtime) -> None:
    result = runner.invoke(app, ["safeguarding", "check"], input="\n".join(PHRASES) + "\n\n")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == live_verdicts(rt, PHRASES)  # blank lines skipped


def test_check_with_a_draft_lexicon_and_a_broken_one(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        "schema_version: 1\ncategories:\n  test_only:\n    label: Test\n    patterns: ['purple llama']\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["safeguarding", "check", "--lexicon", str(draft), "a purple llama", "i want to die"]
    )
    assert [(x["flagged"], x["categories"]) for x in lines(result.stdout)] == [
        (True, ["test_only"]),
        (False, []),
    ]
    draft.write_text("schema_version: 1\ncategories: {}\n", encoding="utf-8")
    bad = runner.invoke(app, ["safeguarding", "check", "--lexicon", str(draft), "x"])
    assert bad.exit_code == 1
    assert "draft.yaml" in bad.output


# -- alerts ------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, rt: Runtime) -> Runtime:
    """Point the CLI (which reads OURVOICE_* settings) at the test runtime's database and keys."""
    s = rt.settings
    env = {
        "DATABASE_URL": s.database_url,
        "ID_HASH_KEY": TEST_HASH_KEY,
        "ENCRYPTION_KEYS": TEST_FERNET_KEY,
        "ALERT_SPOOL_DIR": s.alert_spool_dir,
        "ALERT_EMAIL_TO": "",
        "ALERT_EMAIL_ESCALATE_TO": "",
    }
    for k, v in env.items():
        monkeypatch.setenv(f"OURVOICE_{k}", v)
    return rt


def raise_alert(rt: Runtime, words: str = "my uncle touches me and says its a secret") -> str:
    p = Person(rt.dispatcher, "cli-person", channel="telegram", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    assert p.text(words).flagged
    with session(rt.engine) as s:
        return alert_store.open_alerts(s)[0].alert_ref


def status(rt: Runtime, ref: str) -> Alert:
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        return alert


def test_list_shows_references_not_words(cli_env: Runtime, sink: Any) -> None:
    ref = raise_alert(cli_env)
    result = runner.invoke(app, ["alerts", "list"])
    assert result.exit_code == 0, result.output
    assert ref in result.stdout
    assert "open" in result.stdout
    assert "touches" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--staff", ""],
        ["--staff", "Sam Duty"],
        ["--staff", "Sam Duty", "--outcome", "  "],
        ["--staff", "Sam Duty", "--outcome", "Rang police", "--at", ""],
    ],
    ids=["nothing", "blank-name", "no-outcome", "blank-outcome", "blank-time"],
)
def test_close_is_refused_without_name_outcome_or_time(cli_env: Runtime, sink: Any, args: list[str]) -> None:
    ref = raise_alert(cli_env)
    result = runner.invoke(app, ["alerts", "close", ref, *args])
    assert result.exit_code == 2
    assert "refused" in result.output
    assert status(cli_env, ref).status == "open"


def test_close_with_everything_records_it_and_audits(cli_env: Runtime, sink: Any) -> None:
    ref = raise_alert(cli_env)
    result = runner.invoke(
        app,
        [
            "alerts",
            "close",
            ref,
            "--staff",
            "Sam Duty",
            "--outcome",
            "Strategy meeting held",
            "--at",
            "2026-11-24T11:15",
        ],
    )
    assert result.exit_code == 0, result.output
    alert = status(cli_env, ref)
    assert (alert.status, alert.closed_by, alert.outcome) == ("closed", "Sam Duty", "Strategy meeting held")
    assert alert.closed_at is not None
    assert alert.closed_at.isoformat() == "2026-11-24T11:15:00+00:00"
    assert alert.followup_sent
    with session(cli_env.engine) as s:
        assert [e.action for e in audit.entries(s)] == ["alert.close"]
    again = runner.invoke(app, ["alerts", "close", ref, "--staff", "X", "--outcome", "Y"])
    assert again.exit_code == 2
    assert "already closed" in again.output


def test_ack_stops_escalation_and_queues_the_followup(cli_env: Runtime, sink: Any) -> None:
    ref = raise_alert(cli_env)
    assert runner.invoke(app, ["alerts", "ack", ref]).exit_code == 2  # no name
    result = runner.invoke(app, ["alerts", "ack", ref.lower(), "--staff", "Sam Duty"])
    assert result.exit_code == 0, result.output
    alert = status(cli_env, ref)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == "Sam Duty"
    assert alert.followup_sent
    with session(cli_env.engine) as s:
        notices = list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars())
    assert len(notices) == 1
    assert notices[0].channel == "telegram"
    assert "already acknowledged" in runner.invoke(app, ["alerts", "ack", ref, "--staff", "Sam Duty"]).output
    assert runner.invoke(app, ["alerts", "ack", "A-000000-NOPE", "--staff", "Sam"]).exit_code == 1


def test_show_decrypts_only_with_a_name_and_audits_the_read(cli_env: Runtime, sink: Any) -> None:
    words = "my uncle touches me and says its a secret"
    ref = raise_alert(cli_env, words)
    refused = runner.invoke(app, ["alerts", "show", ref])
    assert refused.exit_code == 2
    assert words not in refused.output
    result = runner.invoke(app, ["alerts", "show", ref, "--staff", "Sam Duty"])
    assert result.exit_code == 0, result.output
    assert words in result.stdout
    assert ref in result.stdout
    with session(cli_env.engine) as s:
        rows = audit.entries(s, action="alert.read_text")
        assert [(e.actor, e.target) for e in rows] == [("Sam Duty", ref)]
        assert words not in rows[0].detail
        assert audit.verify(s) == []


def test_escalate_command_runs_one_claimed_tick(cli_env: Runtime) -> None:
    result = runner.invoke(app, ["alerts", "escalate"])
    assert result.exit_code == 0, result.output
    assert "spool_written=0 escalated=0 followups=0" in result.stdout
