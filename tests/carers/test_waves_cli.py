"""`ourvoice survey` commands: open (members, districts, conflicts), list, close, status, staff entry
(marked with its mode, audited), and the weekly digest email."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from admin.actions.policy import Actor
from admin.cli import app
from admin.commands import survey_cmd
from admin.commands.survey_cmd import SurveyError
from admin.jobs.carer_reminders import send_notices, weekly_digest
from bot.features.carers import WaveSettings, in_quiet_hours
from storage import audit, waves
from storage.db import session
from storage.models import Answer, Submission
from tests.carers.conftest import OPENED, make_carers, open_wave, runtime_for
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY
from tests.fakes.smtp_sink import SmtpSink
from tests.support.email import send_queued_email

DAY0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_open_invites_active_carers_in_the_chosen_districts_and_refuses_overlaps(rt) -> None:
    make_carers(rt, 60)
    make_carers(rt, 6, start=60, status="opted_out")
    wave_id = open_wave(rt, districts=["east", "north"])
    with session(rt.engine) as s:
        wave = waves.get_wave(s, wave_id)
    assert wave is not None
    assert wave.invited == 20
    assert wave.districts == ("east", "north")
    with session(rt.engine) as s:  # "stop reminders" before a wave opens does not opt out of it
        member = waves.notice_candidates(s, wave_id)[0]
        assert waves.opt_out(s, member.participant_id, now=OPENED) == 0
    with pytest.raises(SurveyError, match="already covers"):
        open_wave(rt, opens="2027-01-10", closes="2027-02-01", districts=["north"])
    other = open_wave(rt, opens="2027-01-10", closes="2027-02-01", districts=["west"])  # no overlap of areas
    assert other == wave_id + 1
    with pytest.raises(SurveyError, match="not a carer survey"):
        open_wave(rt, "good_foster_carer")
    with pytest.raises(SurveyError, match="unknown district"):
        open_wave(rt, "carer_pulse", districts=["narnia"])
    with session(rt.engine) as s:
        assert [e.action for e in audit.entries(s)][:2] == ["survey.open", "survey.open"]


def test_status_counts_chat_and_staff_entries_and_close_stops_reminders(rt) -> None:
    make_carers(rt, 12)
    wave_id = open_wave(rt)
    send_notices(rt, now=DAY0)
    answers = {"informed": 2, "care_types": ["respite"], "change_first": "More notice",
               "support_comment": None}
    out = survey_cmd.do_enter(rt, wave_id, mode="paper", district="thanet", actor=Actor("a.clerk", "participation_manager"), case_ref=None,
                              answers=answers, now=DAY0)
    assert "recorded paper response" in out
    with session(rt.engine) as s:
        st = waves.wave_status(s, wave_id)
        sub = s.get(Submission, int(out.split("submission ")[1].split(",")[0]))
        assert sub is not None
        rows = s.execute(select(Answer).where(Answer.submission_id == sub.id)).scalars()
        kept = {a.question_id: a for a in rows}
        last = audit.entries(s, limit=1)[0]
    assert st is not None
    thanet = next(d for d in st.districts if d.district == "thanet")
    assert (thanet.invited, thanet.completed, thanet.staff_entered) == (3, 1, 1)
    assert st.staff_by_mode == {"paper": 1}
    assert st.staff_share == 1.0
    assert sub is not None
    assert (sub.mode, sub.status, sub.wave_id, sub.participant_id) == ("paper", "completed",
                                                                                             wave_id, None)
    assert kept["change_first"].text_value == "More notice"
    assert kept["support_comment"].skipped
    assert (last.actor, last.action) == ("a.clerk", "survey.enter")
    assert "More notice" not in last.detail
    with pytest.raises(SurveyError, match="answers refused"):
        survey_cmd.do_enter(rt, wave_id, mode="phone", district="east", actor=Actor("a", "participation_manager"), case_ref=None,
                            answers={"informed": 9}, now=DAY0)
    with pytest.raises(SurveyError, match="--mode"):
        survey_cmd.do_enter(rt, wave_id, mode="email", district="east", actor=Actor("a", "participation_manager"), case_ref=None, answers={},
                            now=DAY0)
    assert "closed wave" in survey_cmd.do_close(rt, wave_id, actor=Actor("lead", "participation_manager"), now=DAY0)
    assert "already closed" in survey_cmd.do_close(rt, wave_id, actor=Actor("lead", "participation_manager"), now=DAY0)
    assert send_notices(rt, now=DAY0 + timedelta(days=3, hours=1)) == "waves=0 sent=0"
    assert "closed" in survey_cmd.do_list(rt, actor=Actor("lead", "participation_manager"), now=DAY0)


def test_reminder_cap_and_days_are_configurable(sqlite_url: str, tmp_path: Path) -> None:
    rt = runtime_for(sqlite_url, tmp_path, reminder_days="1,2,4", max_reminders=1)
    make_carers(rt, 3)
    open_wave(rt)
    assert send_notices(rt, now=DAY0) == "waves=1 invite=3"
    assert send_notices(rt, now=DAY0 + timedelta(hours=23)) == "waves=1 sent=0"
    assert send_notices(rt, now=DAY0 + timedelta(days=1)) == "waves=1 start=3"
    assert send_notices(rt, now=DAY0 + timedelta(days=5)) == "waves=1 sent=0"  # capped at one
    rt.engine.dispose()


def test_quiet_hours_wrap_midnight_and_follow_british_summer_time() -> None:
    ws = WaveSettings(_env_file=None)  # type: ignore[call-arg]
    assert in_quiet_hours(datetime(2026, 12, 1, 21, 0, tzinfo=UTC), ws)
    assert in_quiet_hours(datetime(2026, 12, 1, 7, 59, tzinfo=UTC), ws)
    assert not in_quiet_hours(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), ws)
    assert in_quiet_hours(datetime(2026, 7, 1, 20, 30, tzinfo=UTC), ws)  # 21:30 BST
    assert not in_quiet_hours(datetime(2026, 7, 1, 7, 30, tzinfo=UTC), ws)  # 08:30 BST
    never_quiet = WaveSettings(_env_file=None, quiet_hours="")  # type: ignore[call-arg]
    assert not in_quiet_hours(datetime(2026, 12, 1, 23, 0, tzinfo=UTC), never_quiet)
    with pytest.raises(ValueError, match="increasing"):
        WaveSettings(_env_file=None, reminder_days="7,3")  # type: ignore[call-arg]


def test_weekly_digest_sends_aggregate_rates_only(sqlite_url: str, tmp_path: Path) -> None:
    with SmtpSink() as sink:
        rt = runtime_for(sqlite_url, tmp_path, digest_to="fostering@council.example")
        rt.settings = rt.settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
        make_carers(rt, 12)
        wave_id = open_wave(rt)
        survey_cmd.do_enter(rt, wave_id, mode="phone", district="east", actor=Actor("a", "participation_manager"), case_ref=None,
                            answers={"change_first": "Mrs Example never calls back"}, now=DAY0)
        assert weekly_digest(rt, now=DAY0 + timedelta(days=6)) == "digest_sent waves=1"
        assert sink.messages == []  # an email outbox row until the email sender runs
        send_queued_email(rt, now=DAY0 + timedelta(days=6))
        (mail,) = sink.wait_for(1)
        body = mail.get_content()
        assert mail["To"] == "fostering@council.example"
        # One phone response: its counts (1 started, 1 completed, 8%) are under 5, so the digest prints them as
        # the wave's page does, "not shown" (it printed them raw before 2026-12-06).
        assert "invited 13, started not shown, completed not shown (rate not shown)" in body
        assert "east" in body
        assert not re.search(r"\b[1-4]\b", body.split("\n", 1)[1].replace("2026", "")), body
        assert "Mrs Example" not in body
        assert "P-" not in body
        rt.engine.dispose()
    rt2 = runtime_for(sqlite_url, tmp_path)
    assert weekly_digest(rt2, now=DAY0) == "no_recipient"
    rt2.engine.dispose()


def test_cli_end_to_end(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DATABASE_URL": sqlite_url, "ID_HASH_KEY": TEST_HASH_KEY, "ENCRYPTION_KEYS": TEST_FERNET_KEY,
           "ALERT_SPOOL_DIR": str(tmp_path / "spool")}
    for key, value in env.items():
        monkeypatch.setenv(f"OURVOICE_{key}", value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    rt = runtime_for(sqlite_url, tmp_path)
    make_carers(rt, 12)
    rt.engine.dispose()
    runner = CliRunner()
    opened = runner.invoke(app, ["survey", "open", "carer_annual", "--name", "Annual 2026",
                                 "--opens", "2026-12-01", "--closes", "2027-01-15",
                                 "--district", "east", "--district", "west", "--staff", "lead"])
    assert opened.exit_code == 0, opened.output
    assert "4 carer(s) invited" in opened.output
    assert "busy time" in opened.output
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"informed": 4, "planning_meeting": "yes"}), encoding="utf-8")
    entered = runner.invoke(app, ["survey", "enter", "1", "--mode", "phone", "--district", "east",
                                  "--answers", str(answers), "--staff", "j.bloggs"])
    assert entered.exit_code == 0, entered.output
    status = runner.invoke(app, ["survey", "status", "1", "--staff", "lead"])
    assert status.exit_code == 0, status.output
    east = next(line for line in status.output.splitlines() if line.startswith("east"))
    # Issue #19: counts of 1-4 (and a rate on 3 people) are never printed, and since 2026-12-06 neither is the
    # number invited: "3 invited" beside hidden replies would say they are 0-3 (the independent re-audit's find).
    assert not re.search(r"\d", east.removeprefix("east")), east
    assert "not shown" in east
    assert "4 carer(s) invited" not in status.output
    listed = runner.invoke(app, ["survey", "list", "--staff", "lead"])
    assert "Annual 2026" in listed.output
    assert "east,west" in listed.output
    wrong = runner.invoke(app, ["survey", "enter", "1", "--mode", "phone", "--district", "north",
                                "--answers", str(answers), "--staff", "j.bloggs"])
    assert wrong.exit_code == 2
    assert "covers east, west" in wrong.output
