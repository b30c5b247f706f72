"""`ourvoice safeguarding check` (arguments and stdin, same verdicts as the live pipeline) and
`ourvoice alerts list|ack|close|show|reveal|reply` (signed-in staff, the web's role and district rules,
refusals, audit of every read, follow-up on ack)."""

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
        out.append({"text": t, "flagged": a.flagged, "categories": list(a.categories),
                    "detectors": list(a.detectors), "score": a.score, "language": a.language})
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
    got = lines(result.stdout)
    assert (got[0]["flagged"], got[0]["categories"], got[0]["detectors"]) == (True, ["test_only"], ["lexicon"])
    # The draft lexicon does not know it, but the live model still reads every message.
    assert "lexicon" not in got[1]["detectors"] and got[1]["detectors"] == ["model"]
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
    with session(rt.engine) as s:  # the alert for these words (not one an earlier message may have raised)
        return next(
            a.alert_ref for a in alert_store.open_alerts(s) if a.text_enc and rt.keyring.decrypt(a.text_enc) == words
        )


def status(rt: Runtime, ref: str) -> Alert:
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        return alert


STAFF_PW = "a long staff password 42"


@pytest.fixture
def staff(cli_env: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """A safeguarding lead (sam), a participation manager (mia) and an east-only lead (eve); password in env."""
    from admin.actions.staff import password_hasher
    from storage import staff as staff_store

    hashed = password_hasher().hash(STAFF_PW)
    with session(cli_env.engine) as s:
        for name, role, districts in (
            ("sam", "safeguarding_lead", ()),
            ("mia", "participation_manager", ()),
            ("eve", "safeguarding_lead", ("east",)),
        ):
            staff_store.create(s, username=name, role=role, districts=districts, password_hash=hashed, now=fixed_now())
    monkeypatch.setenv("OURVOICE_STAFF_PASSWORD", STAFF_PW)
    return cli_env


def test_list_shows_references_not_words(staff: Runtime, sink: Any) -> None:
    ref = raise_alert(staff)
    result = runner.invoke(app, ["alerts", "list", "--staff", "mia"])
    assert result.exit_code == 0, result.output
    assert ref in result.stdout
    assert "open" in result.stdout
    assert "touches" not in result.stdout
    assert runner.invoke(app, ["alerts", "list"]).exit_code == 2  # nobody signed in


@pytest.mark.parametrize(
    "args",
    [
        ["--outcome", "  "],
        ["--outcome", "Rang police", "--at", ""],
        [],
    ],
    ids=["blank-outcome", "blank-time", "nothing"],
)
def test_close_is_refused_without_outcome_or_time(staff: Runtime, sink: Any, args: list[str]) -> None:
    ref = raise_alert(staff)
    result = runner.invoke(app, ["alerts", "close", ref, "--staff", "sam", *args])
    assert result.exit_code == 2
    assert "refused" in result.output
    assert status(staff, ref).status == "open"


def test_close_with_everything_records_it_and_audits(staff: Runtime, sink: Any) -> None:
    ref = raise_alert(staff)
    result = runner.invoke(
        app,
        ["alerts", "close", ref, "--staff", "sam", "--by", "Sam Duty", "--outcome", "Strategy meeting held",
         "--at", "2026-11-24T11:15"],
    )
    assert result.exit_code == 0, result.output
    alert = status(staff, ref)
    assert (alert.status, alert.closed_by, alert.outcome) == ("closed", "Sam Duty", "Strategy meeting held")
    assert alert.closed_at is not None
    assert alert.closed_at.isoformat() == "2026-11-24T11:15:00+00:00"
    assert alert.followup_sent
    with session(staff.engine) as s:
        assert [(e.actor, e.action) for e in audit.entries(s) if e.action.startswith("alert")] == [
            ("sam", "alert.close")
        ]
    again = runner.invoke(app, ["alerts", "close", ref, "--staff", "sam", "--outcome", "Y"])
    assert again.exit_code == 2
    assert "already closed" in again.output


def test_ack_stops_escalation_and_queues_the_followup(staff: Runtime, sink: Any) -> None:
    ref = raise_alert(staff)
    assert runner.invoke(app, ["alerts", "ack", ref]).exit_code == 2  # nobody signed in
    result = runner.invoke(app, ["alerts", "ack", ref.lower(), "--staff", "mia"])
    assert result.exit_code == 0, result.output
    alert = status(staff, ref)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == "mia"
    assert alert.followup_sent
    with session(staff.engine) as s:
        notices = list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars())
    assert len(notices) == 1
    assert notices[0].channel == "telegram"
    assert "already acknowledged" in runner.invoke(app, ["alerts", "ack", ref, "--staff", "mia"]).output
    assert runner.invoke(app, ["alerts", "ack", "A-000000-NOPE", "--staff", "mia"]).exit_code == 1


def test_show_follows_the_web_rules_and_audits_the_read(staff: Runtime, sink: Any) -> None:
    words = "my uncle touches me and says its a secret"
    ref = raise_alert(staff, words)
    refused = runner.invoke(app, ["alerts", "show", ref])
    assert refused.exit_code == 2
    assert words not in refused.output
    manager = runner.invoke(app, ["alerts", "show", ref, "--staff", "mia"])  # the web refuses them too
    assert manager.exit_code == 2
    assert words not in manager.output
    # The alert's young person has no district: an east-only lead cannot see it (as on the web).
    east = runner.invoke(app, ["alerts", "show", ref, "--staff", "eve"])
    assert east.exit_code == 1
    assert words not in east.output
    result = runner.invoke(app, ["alerts", "show", ref, "--staff", "sam"])
    assert result.exit_code == 0, result.output
    assert words in result.stdout
    assert ref in result.stdout
    with session(staff.engine) as s:
        rows = audit.entries(s, action="alert.read_text")
        assert [(e.actor, e.target) for e in rows] == [("sam", ref)]
        assert words not in rows[0].detail
        assert audit.verify(s) == []


def test_reveal_and_reply_from_the_cli(staff: Runtime, sink: Any) -> None:
    ref = raise_alert(staff)
    none = runner.invoke(app, ["alerts", "reveal", ref, "--staff", "sam", "--reason", "strategy meeting now"])
    assert none.exit_code == 0, none.output
    assert "no council case reference" in none.output
    short = runner.invoke(app, ["alerts", "reveal", ref, "--staff", "sam", "--reason", "why"])
    assert short.exit_code == 2
    mgr = runner.invoke(app, ["alerts", "reveal", ref, "--staff", "mia", "--reason", "strategy meeting now"])
    assert mgr.exit_code == 2
    sent = runner.invoke(app, ["alerts", "reply", ref, "--staff", "sam"], input="We have read your message.\n")
    assert sent.exit_code == 0, sent.output
    with session(staff.engine) as s:
        rows = list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars())
        reveals = audit.entries(s, action="alert.reveal_case_ref")
        replies = audit.entries(s, action="alert.reply")
    assert len(rows) == 1 and rows[0].channel == "telegram"
    assert "A message from the safeguarding team:" in rows[0].payload_json
    assert "We have read your message." in rows[0].payload_json
    assert [(e.actor, e.target) for e in reveals] == [("sam", ref)]
    assert "strategy meeting now" in reveals[0].detail
    assert [(e.actor, e.target) for e in replies] == [("sam", ref)]
    assert "read your message" not in replies[0].detail


def test_escalate_command_runs_one_claimed_tick(cli_env: Runtime) -> None:
    result = runner.invoke(app, ["alerts", "escalate"])
    assert result.exit_code == 0, result.output
    assert "spool_written=0 escalated=0 followups=0" in result.stdout


# -- ourvoice toread ------------------------------------------------------------------------------------


def share_good_news(rt: Runtime, sender: str, words: str, district: str | None) -> int:
    """A teen shares good news (one free-text answer); returns its "To read" entry id."""
    from sqlalchemy import update

    from storage.models import Participant, ToRead

    p = Person(rt.dispatcher, sender, channel="telegram", now=fixed_now())
    p.text("hello")
    joined = p.press("I'm 11 to 16")
    with session(rt.engine) as s:
        s.execute(update(Participant).where(Participant.id == joined.participant_id).values(district=district))
    p.press("🎉")
    p.press("😀")
    p.text(words)
    with session(rt.engine) as s:
        return int(s.execute(select(ToRead.id).order_by(ToRead.id.desc())).scalars().first())


def test_toread_list_show_read_and_alert(staff: Runtime, sink: Any) -> None:
    from storage import staff as staff_store

    with session(staff.engine) as s:
        hashed = staff_store.credentials(s, "sam")[1]  # type: ignore[index]
        staff_store.create(s, username="wes", role="participation_worker", districts=("west",),
                           password_hash=hashed, now=fixed_now())
    east = share_good_news(staff, "tr-east", "I got a part in the school play", "east")
    other = share_good_news(staff, "tr-east-2", "We went to the seaside at the weekend", "east")
    listed = runner.invoke(app, ["toread", "list", "--staff", "mia"])
    assert listed.exit_code == 0, listed.output
    assert f"{east:>6}" in listed.stdout and "school play" not in listed.stdout
    assert "nothing to read" in runner.invoke(app, ["toread", "list", "--staff", "wes"]).stdout  # west only
    assert runner.invoke(app, ["toread", "show", str(east), "--staff", "wes"]).exit_code == 1
    shown = runner.invoke(app, ["toread", "show", str(east), "--staff", "mia"])
    assert shown.exit_code == 0, shown.output
    assert "I got a part in the school play" in shown.stdout
    assert runner.invoke(app, ["toread", "read", str(east), "--staff", "mia"]).exit_code == 0
    assert "already read" in runner.invoke(app, ["toread", "read", str(east), "--staff", "mia"]).stdout
    raised = runner.invoke(app, ["toread", "alert", str(other), "--staff", "sam"])
    assert raised.exit_code == 0, raised.output
    assert "nothing to read" in runner.invoke(app, ["toread", "list", "--staff", "mia"]).stdout
    assert runner.invoke(app, ["toread", "list"]).exit_code == 2  # nobody signed in
    with session(staff.engine) as s:
        rows = sorted(audit.entries(s), key=lambda e: e.id)
        actions = [(e.actor, e.action, e.target) for e in rows if e.action.startswith("toread")]
        alerts = list(s.execute(select(Alert).where(Alert.categories == "raised_by_staff")).scalars())
    assert actions == [
        ("mia", "toread.view", f"toread:{east}"),
        ("mia", "toread.read", f"toread:{east}"),
        ("sam", "toread.alert", f"toread:{other}"),
    ]
    assert len(alerts) == 1


def test_invite_with_a_case_reference_keeps_it_only_encrypted(staff: Runtime) -> None:
    from storage.models import Invite

    args = ["invite", "create", "--role", "young_person", "--age-band", "11-16", "--district", "east"]
    made = runner.invoke(app, [*args, "--case-ref", "LCS-5550123", "--staff", "mia"])
    assert made.exit_code == 0, made.output
    assert "LCS-5550123" not in made.output
    two = runner.invoke(app, [*args, "--count", "2", "--case-ref", "LCS-5550124", "--staff", "mia"])
    assert two.exit_code == 2  # a case reference belongs to one young person
    listed = runner.invoke(app, ["invite", "list", "--staff", "mia"])
    assert "LCS-5550123" not in listed.output
    with session(staff.engine) as s:
        rows = list(s.execute(select(Invite)).scalars())
    assert len(rows) == 1
    assert staff.keyring.decrypt(rows[0].council_ref_enc) == "LCS-5550123"


def test_check_says_when_the_model_overruled_the_lexicon() -> None:
    result = runner.invoke(app, ["safeguarding", "check", "we had a knife crime assembly at school today, it was good"])
    (row,) = lines(result.stdout)
    assert row["flagged"] is False and row["overruled"] == ["threats_violence"] and row["detectors"] == []
