"""Engine tests through the public `step` API: every node kind, skip, back, pause, stale buttons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.engine import ConversationState, StepContext, StepResult, step
from bot.messages import Inbound
from content.loader import load_library
from tests.conftest import fixed_now

CONTENT = Path(__file__).resolve().parent.parent / "content"

ACTION_FLOW = """
schema_version: 1
id: zz_action_test
kind: flow
title: "Action test"
audience: [young_person]
bands: [junior, teen, young_adult]
start: pick
nodes:
  - id: pick
    type: choice
    text: "Pick one"
    choices:
      - {id: red, label: "Red"}
      - {id: blue, label: "Blue"}
    next: check
  - id: check
    type: branch
    rules:
      - if: {pick: [red]}
        goto: redtext
    otherwise: act
  - id: redtext
    type: say
    text: "You picked red"
    next: act
  - id: act
    type: action
    action: remember_colour
    next: bye
  - id: bye
    type: end
    text: "Bye"
"""


@pytest.fixture(scope="module")
def lib():
    return load_library()


@pytest.fixture(scope="module")
def lib_with_action(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "flows" / "zz_action_test.yaml").write_text(ACTION_FLOW, encoding="utf-8")
    return load_library(root)


class Chat:
    """Drives `step` directly, threading the state through like the dispatcher does."""

    def __init__(self, lib, topics: tuple[str, ...] = ("good_foster_carer",)) -> None:
        self.lib = lib
        self.state = ConversationState()
        self.ctx = StepContext(open_topics=topics)
        self.result: StepResult | None = None
        self.answers: dict[str, object] = {}

    def send(self, kind: str, **kw: str) -> StepResult:
        msg = Inbound("test", "p1", "m", kind, **kw)  # type: ignore[arg-type]
        before = self.state.to_json()
        self.result = step(self.lib, self.state, msg, now=fixed_now(), context=self.ctx)
        assert self.state.to_json() == before, "step must not mutate the state it was given"
        self.state = self.result.state
        for a in self.result.answers:
            self.answers[a.question_id] = a.value
        json.dumps(self.state.to_json())  # always serialisable
        return self.result

    def text(self, t: str) -> StepResult:
        return self.send("text", text=t)

    def cmd(self, c: str) -> StepResult:
        return self.send("command", command=c)

    def press(self, label: str) -> StepResult:
        assert self.result is not None
        for r in reversed(self.result.replies):
            for c in r.choices:
                if c.label.replace("✅ ", "").startswith(label):
                    return self.send("button", payload=c.token)
        raise AssertionError(f"no button {label!r} in {[c.label for r in self.result.replies for c in r.choices]}")

    @property
    def said(self) -> str:
        assert self.result is not None
        return "\n".join(r.text for r in self.result.replies)

    @property
    def buttons(self) -> list[str]:
        assert self.result is not None
        return [c.label for r in self.result.replies for c in r.choices]


def onboard(chat: Chat, band_label: str = "I'm 11 to 16") -> None:
    chat.text("hello")
    assert "Which of these is you?" in chat.said
    chat.press(band_label)
    assert "What would you like to do" in chat.said


def test_happy_path_through_topic_records_every_answer(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    assert chat.state.profile == {"band": "teen", "audience": "young_person"}
    chat.press("🗣 Have your say")
    assert "how are you feeling" in chat.said.lower()
    assert chat.result and chat.result.replies[-1].layout == "scale"
    chat.press("🙂")
    chat.press("They listen")
    chat.press("They're honest")
    assert "✅ They listen" in chat.buttons
    chat.press("Done")
    chat.press("Pets" if False else "Whether they have pets")
    chat.press("Done")
    chat.press("A meal I like")
    assert "Only the participation team reads this" in chat.said  # just-in-time notice before free text
    chat.text("Someone who remembers my birthday")
    assert "share your words" in chat.said
    result = chat.press("Yes")
    assert ("good_foster_carer", chat.state.run - 1) in result.completed or result.completed
    assert chat.answers["feeling"] == 4
    assert chat.answers["qualities"] == ["listens", "honest"]
    assert chat.answers["know_before"] == ["pets"]
    assert chat.answers["first_day"] == "meal_i_like"
    assert chat.answers["anything_else"] == "Someone who remembers my birthday"
    assert chat.answers["share_words"] == "yes"
    assert "What would you like to do" in chat.said  # back at the menu


def test_branch_follows_earlier_answer(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.press("😀")
    chat.press("Something else")
    chat.press("Done")
    assert "What else makes a good foster carer" in chat.said
    chat.cmd("skip")
    assert "Before moving in" in chat.said


def test_junior_wording_and_faces(lib) -> None:
    chat = Chat(lib)
    onboard(chat, "I'm 7 to 11")
    chat.press("🗣")
    assert "Let's talk about foster carers" in chat.said
    # Faces for 7-11s, each with a word beside it (a face alone is a blank box where a device lacks the emoji).
    assert chat.buttons[:5] == ["😢 Sad", "🙁 Not great", "😐 OK", "🙂 Good", "😀 Great"]
    assert "Skip ⏭" in chat.buttons


def test_typed_answers_numbers_and_labels(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.text("have your say")
    chat.text("5")
    assert chat.answers["feeling"] == 5
    chat.text("they listen")
    chat.text("DONE")
    assert chat.answers["qualities"] == ["listens"]


def test_skip_and_back(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    result = chat.press("Skip")
    assert result.answers[0].skipped and result.answers[0].value is None
    assert "What makes a really good foster carer" in chat.said
    chat.press("⬅ Back")
    assert "how are you feeling" in chat.said.lower()
    chat.press("😐")
    assert chat.answers["feeling"] == 3
    chat.cmd("back")
    chat.cmd("back")
    assert "nothing before this" in chat.said.lower()


def test_pause_and_resume_at_same_question(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.press("🙂")
    chat.cmd("stop")
    assert "Paused" in chat.said
    assert chat.state.paused
    chat.text("hi again")  # a message after a pause resumes; it is not taken as an answer
    assert "Welcome back" in chat.said
    assert "What makes a really good foster carer" in chat.said
    assert "qualities" not in chat.answers


def test_stale_button_is_not_applied(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    old = chat.result.replies[-1].choices[0].token  # a face from the feelings question
    chat.press("🙂")
    chat.send("button", payload=old)
    assert "earlier message" in chat.said
    assert chat.answers["feeling"] == 4
    chat.send("button", payload="999.999.999")
    assert "earlier message" in chat.said
    chat.send("button", payload="garbage")
    assert "earlier message" in chat.said


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("x" * 20_000, "up to 1000 characters please (yours had 20000)"),
        ("", "couldn't see any words"),
        ("\u200b\u200c\u2060", "couldn't see any words"),
        ("   \n ", "couldn't see any words"),
    ],
)
def test_bad_free_text_gets_clear_reply_and_is_not_stored(lib, text: str, expect: str) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.press("🙂")
    chat.press("They listen")
    chat.press("Done")
    chat.press("Whether they have pets")
    chat.press("Done")
    chat.press("A meal I like")
    result = chat.text(text)
    assert expect in chat.said
    assert result.answers == []
    assert chat.state.node_id == "anything_else"


def test_emoji_and_zero_width_free_text_kept_without_invisible_chars(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.cmd("skip")
    chat.cmd("skip")
    chat.cmd("skip")
    chat.cmd("skip")
    result = chat.text("🐶❤️\u200b👨‍👩‍👧")
    assert result.answers[0].value == "🐶❤️👨‍👩‍👧"


def test_unsupported_media_gets_explanation_and_reask(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    result = chat.send("unsupported", unsupported="sticker")
    assert "can only read text" in chat.said
    assert result.answers == []
    assert chat.buttons[0].startswith("😢")


def test_emoji_on_choice_question_asks_for_a_button(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.press("🙂")
    chat.text("🤷")
    assert "tap one of the buttons" in chat.said


def test_commands_work_everywhere(lib) -> None:
    chat = Chat(lib)
    chat.cmd("help")
    onboard(chat)
    chat.press("🗣")
    chat.cmd("help")
    assert "Skip skips a question" in chat.said and "how are you feeling" in chat.said.lower()  # no /skip: web shows it
    chat.cmd("menu")
    assert "What would you like to do" in chat.said
    chat.cmd("nonsense")
    assert "don't know that command" in chat.said


def test_no_open_topics(lib) -> None:
    chat = Chat(lib, topics=())
    onboard(chat)
    assert "🗣 Have your say" not in chat.buttons


def test_action_effect_and_branch_say(lib_with_action) -> None:
    chat = Chat(lib_with_action)
    onboard(chat)
    chat.state.flow_id = None
    res = chat.send("command", command="menu")
    # Start the test flow directly, as a menu option would.
    from bot.engine.step import _Run  # the public API has no "start flow" event; use the runner once

    run = _Run(lib_with_action, chat.state.copy(), StepContext())
    run.start_flow("zz_action_test")
    chat.state = run.state
    chat.result = run.result
    res = chat.press("Red")
    assert "You picked red" in chat.said
    assert [e.action for e in res.effects] == ["remember_colour"]
    assert res.effects[0].answers == {"pick": "red"}
    assert res.effects[0].at_reply == 1  # after "You picked red"
    assert [f for f, _ in res.completed] == ["zz_action_test"]


def test_multi_requires_a_pick_before_done(lib) -> None:
    chat = Chat(lib)
    onboard(chat)
    chat.press("🗣")
    chat.press("🙂")
    chat.press("Done")
    assert "haven't picked anything" in chat.said


def test_state_to_json_has_every_field_and_copy_shares_nothing() -> None:
    # to_json is written by hand for speed: it must stay what dataclasses.asdict gives, field for field.
    import dataclasses

    state = ConversationState(
        flow_id="f", node_id="n", run=2, history=["a"], answers={"q": ["x", {"k": [1]}], "t": "words", "s": None},
        picks=["p"], paused=True, profile={"band": "teen"},
    )
    data = state.to_json()
    assert data == dataclasses.asdict(state)
    assert list(data) == [f.name for f in dataclasses.fields(ConversationState)]
    twin = state.copy()
    assert twin == state
    twin.answers["q"][1]["k"].append(2)
    twin.answers["q"].append("y")
    twin.history.append("b")
    twin.picks.append("r")
    twin.profile["band"] = "junior"
    assert state.to_json() == data, "a copy must share no list or dict with the original"


@pytest.mark.parametrize(
    "text", ["  Yes please ", "3", "a\tb\nc", "caf\u0065\u0301", "hi\u200bthere\x07", "🙂 ok", "\x7fdel", ""]
)
def test_clean_ascii_fast_path_matches_the_full_rules(text: str) -> None:
    from bot.engine import text as text_mod

    def slow(t: str) -> str:  # the rules without the shortcut
        import unicodedata

        kept = [
            ch for ch in unicodedata.normalize("NFC", t)
            if ch in "\n\t" or not (unicodedata.category(ch) in ("Cc", "Cs", "Co")
                                    or unicodedata.category(ch) == "Cf" and ch not in text_mod._KEEP_FORMAT)
        ]
        return "".join(kept).strip()

    assert text_mod.clean(text) == slow(text)


def _carer(lib) -> Chat:
    chat = Chat(lib, topics=())
    chat.text("hello")
    chat.press("I'm a foster carer")
    assert "What would you like to do?" in chat.said
    return chat


def test_invitation_start_still_works_after_the_menu_and_another_flow(lib) -> None:
    # The invitation's ▶ Start is a carer menu token: pressed after the menu was sent straight after it, or from
    # inside another flow, it still starts the survey (it used to answer "That button belongs to an earlier message").
    from bot.features.carers import start_token

    token = start_token(lib, "carer_pulse")
    assert token is not None
    chat = _carer(lib)
    chat.press("🔒 My stuff")
    assert chat.state.flow_id == "my_stuff"
    chat.send("button", payload=token)
    assert "treated as a professional" in chat.said and "earlier message" not in chat.said
    assert chat.state.flow_id == "carer_pulse"


def test_start_again_reports_the_old_run_and_carry_on_keeps_it(lib) -> None:
    chat = _carer(lib)
    chat.press("📋 Annual carer survey")
    first_run = chat.state.run
    chat.press("3 to 5 years")
    chat.cmd("menu")
    assert chat.state.parked["carer_annual"]["run"] == first_run
    chat.press("📋 Annual carer survey")
    assert "▶ Carry on at question 2 of 27" in chat.buttons
    chat.press("▶ Carry on")
    assert chat.state.run == first_run and chat.state.flow_id == "carer_annual"
    assert chat.state.answers["years_fostering"] == "y3_5"
    chat.cmd("menu")
    chat.press("📋 Annual carer survey")
    result = chat.press("↺ Start again")
    assert result.restarted == [("carer_annual", first_run)]
    assert chat.state.run > first_run and chat.state.answers == {}
    assert "carer_annual" not in chat.state.parked


def test_mood_is_reused_within_a_session_and_asked_again_after_a_gap(lib) -> None:
    from datetime import timedelta

    chat = Chat(lib)
    onboard(chat)
    chat.press("🎉")
    chat.press("🙂 Good")
    chat.cmd("menu")
    result = chat.press("🗣")
    assert "How are you feeling" not in chat.said
    assert [(a.question_id, a.value) for a in result.answers] == [("feeling", 4)]  # reused, stored for this topic
    later = step(lib, chat.state, Inbound("test", "p1", "m", "command", command="menu"),
                 now=fixed_now() + timedelta(hours=3), context=chat.ctx)
    assert later.state.mood is None
