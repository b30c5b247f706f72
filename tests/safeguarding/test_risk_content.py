"""The product's own buttons and questions train the risk model as everyday messages (admin/risk_content.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from admin import risk_content
from admin.risk_training import Example, labelled_dir, load_labelled, stale_reason
from bot.risk_model import WINDOW, cached_model, default_model_path, tokens
from bot.safeguarding import Lexicon, assess, assess_lexicon, default_lexicon_path

CONTENT = labelled_dir().parents[1]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


@pytest.fixture(scope="module")
def generated(lexicon: Lexicon) -> list[Example]:
    return [ex for ex in load_labelled(None, lexicon) if ex.source == risk_content.SOURCE]


def test_every_button_and_question_is_an_everyday_example(generated: list[Example], lexicon: Lexicon) -> None:
    texts = {ex.text for ex in generated}
    assert all(not ex.flag for ex in generated)
    assert "🙋 Talk to a worker" in texts and "💬 Here in this chat" in texts  # a menu button, a choice
    assert "Do you trust the grown-ups you live with?" in texts  # a question
    # Everything the content has, less what the lexicon flags, and nothing else.
    expected = [t for t in risk_content.raw_texts(CONTENT) if not assess_lexicon(t, lexicon).flagged]
    short = [t for t in expected if len(tokens(t)) <= WINDOW]
    assert [ex.text for ex in generated if ex.text in set(short)] == short
    assert len(generated) > len(short)  # the long questions, as the windows the live check scores


def test_the_help_button_is_never_taught_as_harmless(generated: list[Example], lexicon: Lexicon) -> None:
    texts = {ex.text for ex in generated}
    assert "🆘 I need help now" not in texts
    assert not any(t.startswith("🆘") for t in texts)
    assert assess("I need help now", lexicon).flagged


def test_the_live_check_does_not_alarm_on_the_products_own_words(generated: list[Example], lexicon: Lexicon) -> None:
    """People type a button's words back; none of them may raise an alert."""
    model = cached_model()
    texts = risk_content.raw_texts(CONTENT)
    fired = [t for t in texts if not assess_lexicon(t, lexicon).flagged and assess(t, lexicon, model).flagged]
    assert fired == []


def test_a_changed_button_makes_the_stored_model_stale(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("__pycache__"))
    model = root / "safeguarding" / "model.json"
    assert stale_reason(model, root / "safeguarding" / "labelled") is None
    menu = root / "flows" / "menu_young_person.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("🙋 Talk to a worker", "🙋 Chat to a worker"), "utf-8")
    reason = stale_reason(model, root / "safeguarding" / "labelled")
    assert reason is not None and "stale" in reason
    assert default_model_path().exists()
