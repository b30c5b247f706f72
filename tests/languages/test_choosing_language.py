"""Choosing a language (issue 24 item 3): the picker (each language in its own name, drafts marked, only
languages on offer), the first message's language, and replies marked with lang for the channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime import build_runtime
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person


@pytest.fixture
def rt_drafts(sqlite_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(sqlite_url, tmp_path, show_draft_languages=True))
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def rt_live(sqlite_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(sqlite_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def _labels(p: Person) -> list[str]:
    return [c.label for r in p.last for c in r.choices]


def test_the_picker_lists_draft_languages_in_their_own_names_only_in_a_demo(rt_drafts, rt_live) -> None:
    demo = Person(rt_drafts.dispatcher, "dee", now=fixed_now())
    demo.text("hello")
    demo.press("I'm 11 to 16")
    demo.command("language")
    labels = _labels(demo)
    for own in ("English", "العربية", "پښتو", "دری", "ትግርኛ", "کوردی", "Shqip", "Tiếng Việt"):
        assert any(label.startswith(own) for label in labels), own
    assert "العربية (draft translation)" in labels
    live = Person(rt_live.dispatcher, "liv", now=fixed_now())
    live.text("hello")
    live.press("I'm 11 to 16")
    live.command("language")
    picker = [lb for lb in _labels(live) if not lb.startswith(("Skip", "⬅", "🆘"))]
    assert picker == ["English"]  # nothing reviewed yet: no other language is offered to young people


def test_choosing_a_language_changes_the_replies_and_marks_them(rt_drafts) -> None:
    p = Person(rt_drafts.dispatcher, "tes", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    p.command("language")
    p.press("ትግርኛ")
    p.command("menu")
    assert all(r.meta.get("lang") == "ti" and r.meta.get("draft") == "draft translation" for r in p.last)
    p.command("language")
    p.press("English")
    p.command("menu")
    assert all("lang" not in r.meta for r in p.last)


def test_the_language_of_a_first_message_is_taken_as_the_persons_language(rt_drafts) -> None:
    p = Person(rt_drafts.dispatcher, "ali", now=fixed_now())
    result = p.text("Përshëndetje")  # hello in Albanian: an everyday word, so no safe reply
    assert not result.flagged and p.last
    assert all(r.meta.get("lang") == "sq" for r in p.last)


def test_choice_answers_are_stored_the_same_in_every_language(rt_drafts) -> None:
    """A choice is stored by its id, whatever language its button was in: reports count them together."""
    import json

    from sqlalchemy import select

    from storage.db import session
    from storage.models import Answer

    for sender, first, age, listens, done in (
        ("en-1", "hello", "I'm 11 to 16", "They listen", "Done"),
        ("ar-1", "مرحبا", "عمري من 11 إلى 16", "يستمعون إليّ", "تم"),
        ("vi-1", "Chào bạn", "Mình từ 11 đến 16 tuổi", "Họ lắng nghe mình", "Xong"),
    ):
        p = Person(rt_drafts.dispatcher, sender, now=fixed_now())
        p.text(first)
        p.press(age)
        p.press("🗣")
        p.press("🙂")
        p.press(listens)
        p.press(done)
    with session(rt_drafts.engine) as s:
        picked = [json.loads(a.value_json) for a in s.execute(select(Answer).where(Answer.question_id == "qualities"))
                  .scalars()]
    assert picked == [["listens"], ["listens"], ["listens"]]
