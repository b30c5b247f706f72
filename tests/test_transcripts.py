"""Replays every dialog transcript in tests/transcripts/*.yaml through the real dispatcher (web channel).

A transcript is a YAML list of steps, each doing one thing and optionally checking the replies:
    - send: "hello"                 # free text          - command: "start"   # /start (args after a space)
    - press: "I'm 11 to 16"         # button by label start (as tests.helpers.Person.press)
    - now: "2027-04-13T10:00:00Z"   # move the clock (topics open and close by date)
    - as: "friend"                  # later steps are sent by another young person (default: "me")
    - wave: "carer_annual"          # staff open a survey wave today and the notice job runs (invitations queued;
                                    # the web chat shows them with the person's next reply)
    - press_earlier: "▶ Start"      # tap a button on an earlier message that is still shown: the web chat keeps
                                    # only `lasting` buttons of earlier messages (a survey invitation's Start)
    expect: "substring"             # or a list: every one must appear in the reply texts
    expect_not: "substring"         # or a list: none may appear
    buttons: ["Yes", "No"]          # each must start one of the offered buttons' labels
    no_buttons: ["2", "Skip"]       # none of the offered buttons' labels may start with any of these
    replies: 1                      # exactly this many reply messages (e.g. a safe reply and nothing else)
    in_order: ["first", "then"]     # each must appear, in this order
The clock starts at tests.conftest.fixed_now(). Each transcript gets a fresh database and runtime.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.messages import Outbound
from bot.runtime import build_runtime
from content.loader import Library, load_library
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))
ACTIONS = ("send", "press", "command", "now", "as", "wave", "press_earlier")
CHECKS = ("expect", "expect_not", "buttons", "no_buttons", "replies", "in_order")


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _check_shape(steps: Any, name: str) -> None:
    assert isinstance(steps, list), f"{name}: a transcript is a YAML list of steps"
    assert steps, f"{name}: a transcript needs at least one step"
    for i, step in enumerate(steps, start=1):
        assert isinstance(step, dict), f"{name} step {i}: each step is a mapping"
        actions = [k for k in step if k in ACTIONS]
        unknown = [k for k in step if k not in ACTIONS + CHECKS]
        assert not unknown, f"{name} step {i}: unknown keys {unknown}"
        assert len(actions) == 1, f"{name} step {i}: exactly one of {ACTIONS}, got {actions}"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()  # parsed once for every transcript: the content is read-only


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, sqlite_url: str, tmp_path: Path, library: Library) -> None:
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))
    _check_shape(steps, path.name)
    rt = build_runtime(make_settings(sqlite_url, tmp_path), library=library)
    now = fixed_now()
    people: dict[str, Person] = {}
    seen: dict[str, list[Outbound]] = {}  # every reply each person was shown, oldest first
    who = "me"
    try:
        for i, step in enumerate(steps, start=1):
            where = f"{path.name} step {i} {step!r}"
            if "now" in step:
                raw = str(step["now"]).replace("Z", "+00:00")
                now = datetime.fromisoformat(raw)
                assert now.tzinfo is not None, f"{where}: give a timezone (e.g. Z)"
                for p in people.values():
                    p.now = now
                continue
            if "as" in step:
                who = str(step["as"])
                continue
            if "wave" in step:
                _open_wave(rt, str(step["wave"]), now)
                continue
            p = people.setdefault(who, Person(rt.dispatcher, f"{path.stem}-{who}", now=now))
            if "press_earlier" in step:
                label = str(step["press_earlier"])
                kept = [c for r in seen.get(who, [])[:-len(p.last) or None] if r.lasting for c in r.choices]
                match = [c for c in kept if c.label.startswith(label)]
                assert match, f"{where}: no lasting button {label!r} on an earlier message; kept {kept}"
                p.token(match[-1].token)
            elif "send" in step:
                p.text(str(step["send"]))
            elif "press" in step:
                try:
                    p.press(str(step["press"]))
                except AssertionError as exc:
                    raise AssertionError(f"{where}: {exc}\nlast replies:\n{p.said}") from None
            else:
                name, _, args = str(step["command"]).partition(" ")
                p.command(name, args)
            seen.setdefault(who, []).extend(p.last)
            said = p.said
            for text in _as_list(step["expect"]) if "expect" in step else []:
                assert text in said, f"{where}: expected {text!r} in:\n{said}"
            for text in _as_list(step["expect_not"]) if "expect_not" in step else []:
                assert text not in said, f"{where}: did not expect {text!r} in:\n{said}"
            for label in _as_list(step["buttons"]) if "buttons" in step else []:
                assert any(b.startswith(label) for b in p.buttons), (
                    f"{where}: no button {label!r} in {p.buttons}"
                )
            for label in _as_list(step["no_buttons"]) if "no_buttons" in step else []:
                assert not any(b.startswith(label) for b in p.buttons), (
                    f"{where}: did not expect a button {label!r} in {p.buttons}"
                )
            if "in_order" in step:
                at = 0
                for text in _as_list(step["in_order"]):
                    found = said.find(text, at)
                    assert found >= 0, f"{where}: expected {text!r} after position {at} in:\n{said}"
                    at = found + len(text)
            if "replies" in step:
                assert len(p.last) == int(step["replies"]), f"{where}: expected {step['replies']} replies, got:\n{said}"
    finally:
        rt.engine.dispose()


def _open_wave(rt: Any, questionnaire: str, now: datetime) -> None:
    """A wave of `questionnaire` for every district, open from today for six weeks, and the notice job run at
    10:00 (outside quiet hours): what `ourvoice survey open` and the carer_survey_notices job do."""
    from admin.jobs.carer_reminders import send_notices
    from tests.carers.conftest import open_wave

    at = now.replace(hour=10, minute=0, second=0, microsecond=0)
    open_wave(rt, questionnaire, opens=at.date().isoformat(), closes=(at + timedelta(days=42)).date().isoformat())
    send_notices(rt, now=at)


def test_there_are_transcripts() -> None:
    assert TRANSCRIPTS, "tests/transcripts/ should hold at least one transcript"


@pytest.mark.parametrize("steps", [[], [{"send": "hi", "press": "Yes"}], [{"sned": "hi"}], ["hi"]])
def test_malformed_transcripts_are_rejected(steps: list) -> None:
    with pytest.raises(AssertionError):
        _check_shape(steps, "bad.yaml")
