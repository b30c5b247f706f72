"""The product's own words as known everyday messages for the risk model: every button and question in content/.

People type a button's words back instead of tapping it ("Here in this chat", "Things that worry or scare me"), and
quote the question they are answering. These are not disclosures, yet an early model scored some of them high,
because they share words with harm ("scare", "safe", "worry"). Rather than copying them by hand into a labelled
file (where they go stale as the content changes), they are read from the content on every training run, in a
fixed order, so the same content always gives the same examples and `ourvoice content check` reports the model
stale when a button or question changes.

Kept out on purpose: wording the lexicon itself flags (a button such as "I need help now" must keep alerting, and
a question that names danger is not taught as harmless) and long explanations (the privacy notice), which nobody
types back. Only English: the model reads English; other languages go to their own lexicons or a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.risk_model import WINDOW, tokens, windows

SOURCE = "content/ (buttons and questions, generated)"
"""The examples' source name: one group in cross-validation, like one labelled file."""
FLOW_FOLDERS = ("flows", "topics", "surveys")
QUESTION_TYPES = frozenset({"choice", "multi", "scale", "yesno", "text", "menu"})
MAX_CHARS = 240
"""Longer texts are explanations the bot gives, not words anyone sends back."""
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_SPACES = re.compile(r"\s+")


def _texts(value: Any) -> Iterator[str]:
    """A content text is one string, or wording per age band."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for band in sorted(value):
            if isinstance(value[band], str):
                yield value[band]


def _flow_texts(flow: dict[str, Any]) -> Iterator[str]:
    for node in flow.get("nodes") or ():
        if not isinstance(node, dict):
            continue
        for option in list(node.get("choices") or ()) + list(node.get("options") or ()):
            if isinstance(option, dict):
                yield from _texts(option.get("label"))
        for key in ("low", "high"):
            yield from _texts(node.get(key))
        for label in node.get("labels") or ():
            yield from _texts(label)
        if node.get("type") in QUESTION_TYPES:
            yield from _texts(node.get("text"))


def _string_texts(messages: dict[str, Any]) -> Iterator[str]:
    """Buttons among the system strings: `*_label` keys, and the words of the mood and scale buttons."""
    for key in sorted(messages):
        if key.startswith(("help_now", "safe_")):
            continue  # the help button and the safe reply: never taught as harmless
        if key.endswith("_label"):
            yield from _texts(messages[key])
        elif key.endswith("_words"):
            for text in _texts(messages[key]):
                yield from text.split("|")


def raw_texts(content_root: Path) -> list[str]:
    """Every English button and question in the content under `content_root`, tidied, unique, sorted."""
    found: set[str] = set()
    for folder in FLOW_FOLDERS:
        for path in sorted((content_root / folder).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                found.update(_flow_texts(data))
    strings = content_root / "strings" / "en.yaml"
    if strings.exists():
        data = yaml.safe_load(strings.read_text(encoding="utf-8")) or {}
        found.update(_string_texts(data.get("messages") or {}))
    tidy = {_SPACES.sub(" ", _PLACEHOLDER.sub("", t)).strip() for t in found}
    return sorted(t for t in tidy if t and len(t) <= MAX_CHARS)


def everyday_texts(content_root: Path, flags: Callable[[str], bool]) -> list[str]:
    """The content's buttons and questions that `flags` (the lexicon) does not flag, in a fixed order. A question
    longer than the model's window is given as its windows, as the live check scores it (bot/risk_model.windows):
    trained whole, its windows still scored high."""
    out: list[str] = []
    for text in raw_texts(content_root):
        if flags(text):
            continue
        words = tokens(text)
        if len(words) <= WINDOW:
            out.append(text)
        else:
            out.extend(" ".join(part) for part in windows(words))
    return list(dict.fromkeys(out))
