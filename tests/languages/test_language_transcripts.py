"""A transcript per offered language (issue 24 item 6): onboarding, one topic and a disclosure (the safe reply
in that language, an alert naming the language), plus a language the bot does not offer (never passed silently).

Steps are as in tests/test_transcripts.py (send, press, command; expect, expect_not, buttons, replies), plus:
    lang: "ar"                       # every reply (other than a safe reply) is marked with this language
    alert: ["physical_abuse", ...]   # this step raised exactly one alert with these categories ([] = none)
Run with the demo setting that shows draft languages (no language is reviewed yet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.runtime import build_runtime
from storage.db import session
from storage.models import Alert
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person

TRANSCRIPTS = sorted((Path(__file__).parent.parent / "transcripts" / "languages").glob("*.yaml"))
OFFERED = ("ar", "ps", "fa-AF", "ti", "ckb", "sq", "vi")


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _alerts(rt) -> list[list[str]]:
    with session(rt.engine) as s:
        return [a.categories.split(",") for a in s.execute(select(Alert).order_by(Alert.id)).scalars()]


def test_every_offered_language_has_a_transcript() -> None:
    assert {p.stem for p in TRANSCRIPTS} >= set(OFFERED)
    assert any("not_offered" in p.stem for p in TRANSCRIPTS)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_language_transcript(path: Path, sqlite_url: str, tmp_path: Path) -> None:
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))
    rt = build_runtime(make_settings(sqlite_url, tmp_path, show_draft_languages=True))
    p = Person(rt.dispatcher, f"lang-{path.stem}", now=fixed_now())
    disclosures = 0
    try:
        for i, step in enumerate(steps, start=1):
            where = f"{path.name} step {i}"
            before = len(_alerts(rt))
            if "send" in step:
                p.text(str(step["send"]))
            elif "press" in step:
                p.press(str(step["press"]))
            else:
                name, _, args = str(step["command"]).partition(" ")
                p.command(name, args)
            said = "\n".join(r.text for r in p.last)
            buttons = [c.label for r in p.last for c in r.choices]
            for text in _as_list(step.get("expect", [])):
                assert text in said, f"{where}: expected {text!r} in:\n{said}"
            for label in _as_list(step.get("buttons", [])):
                assert any(b.startswith(label) for b in buttons), f"{where}: no button {label!r} in {buttons}"
            if "replies" in step:
                assert len(p.last) == int(step["replies"]), f"{where}: replies:\n{said}"
            if "lang" in step:
                marked = [r.meta.get("lang") for r in p.last if r.meta.get("kind") != "safe_reply"]
                assert marked and set(marked) == {step["lang"]}, f"{where}: lang {marked}"
            if "alert" in step:
                after = _alerts(rt)
                if step["alert"]:
                    assert len(after) == before + 1, f"{where}: expected an alert"
                    assert sorted(after[-1]) == sorted(step["alert"]), f"{where}: {after[-1]}"
                    assert p.last[0].meta.get("kind") == "safe_reply"
                    disclosures += 1
                else:
                    assert len(after) == before, f"{where}: no alert expected, got {after[before:]}"
    finally:
        rt.engine.dispose()
    assert disclosures, f"{path.name}: a language transcript must include a disclosure"
