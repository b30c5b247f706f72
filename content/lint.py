"""Content lint: wording and wiring mistakes that load fine but trip people up (issue 23 item 5, 21 item 8).

Owns the checks `ourvoice content check` runs after the loader: `action:` nodes with no handler,
unknown age-band keys, sentence case and unexplained acronyms in young people's text, question counts
that do not match the flow or are typed by hand instead of `{questions}`, slash commands in web-visible text,
Skip offered on non-questions, and a mood check-in node with wording of its own (it is worded from the strings).
Each problem is a ContentError (`file:line: reason`). Must not import bot, admin or storage: the caller
passes in the action names the runtime knows.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path

from content.loader import FLOW_FOLDERS, ContentError, LineDict, LineList, read_yaml
from content.schema import AUDIENCES, BANDS, QUESTION_TYPES, YOUNG_BANDS

BAND_KEYS = frozenset(("default", *BANDS))
# Acronyms young people know, or that are never spelled out; anything else needs "Full Name (ACR)" in the same text.
# SHOUT is the name of a texting service ("text SHOUT to 85258"), not an acronym.
ACRONYM_ALLOW = frozenset({"OK", "TV", "UK", "PIN", "ID", "PDF", "URL", "QR", "NHS", "GP", "DM", "SHOUT"})
# Words that are written in lower case on purpose, even at the start of a sentence.
LOWERCASE_OK = ("ourvoice", "e.g.", "i.e.", "etc")
# Keys of strings shown only on one channel (the only place a slash command may appear).
CHANNEL_KEY = re.compile(r"telegram|slack")
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\W*?([A-Za-z][\w.']*)", re.UNICODE)
_ACRONYM = re.compile(r"(?<![\w{-])([A-Z]{2,})(?![\w}-])")  # not codes like ABCD-2345
_SLASH = re.compile(r"(?<![\w/:.<])/([a-z]+)\b")
_COUNT = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:\w+\s+)?questions\b", re.IGNORECASE)
_OF = re.compile(r"\bquestion\s+(\d+)\s+of\s+(\d+)\b", re.IGNORECASE)
# The closing "send my answers" step of a survey is not counted as a question (as bot/features/carers.py counts).
SUBMIT_NODE = "submit"
_SKIP_WORD = re.compile(r"\bskip\b", re.IGNORECASE)


def _texts(value: object, line: int) -> Iterator[tuple[str | None, str, int]]:
    """(band key or None, wording, line) for one Text value in raw YAML."""
    if isinstance(value, str):
        yield None, value, line
    elif isinstance(value, LineDict):
        for key, text in value.items():
            if isinstance(text, str):
                yield str(key), text, value.line_of(key)


def _is_young(band: str | None, young_shared: bool) -> bool:
    if band is None or band == "default":
        return young_shared
    return band in YOUNG_BANDS


def is_fragment(text: str) -> bool:
    """A piece of a sentence the code slots into another (\"the Super Council\", \"within 30 minutes\")."""
    return not re.search(r"[.!?:]\W*$", text.strip())


def sentence_case_problems(text: str, fragment: bool = False) -> list[str]:
    """Words that start a sentence in lower case (a fragment's first word is not a sentence start)."""
    bad = []
    for m in _SENTENCE_START.finditer(text):
        if fragment and m.start() == 0:
            continue
        word = m.group(1)
        before = text[: m.start(1)].rstrip()
        if before.endswith("/") or before.endswith("{") or before[-4:].lower() in ("e.g.", "i.e."):
            continue
        if word[0].islower() and not word.lower().startswith(LOWERCASE_OK):
            bad.append(word)
    return bad


def unexplained_acronyms(text: str) -> list[str]:
    """Acronyms not in the allow-list and not explained in brackets in the same text."""
    found = []
    for m in _ACRONYM.finditer(text):
        acr = m.group(1)
        explained = re.search(rf"\({acr}\b", text) is not None or text[m.end():].startswith(" (")
        if acr in ACRONYM_ALLOW or explained or acr in found:
            continue
        found.append(acr)
    return found


def slash_commands(text: str) -> list[str]:
    return [f"/{m.group(1)}" for m in _SLASH.finditer(text)]


class _Linter:
    def __init__(self, known_actions: set[str] | None) -> None:
        self.known_actions = known_actions
        self.errors: list[ContentError] = []

    def add(self, rel: str, line: int, reason: str) -> None:
        self.errors.append(ContentError(rel, line, reason))

    def words(
        self, rel: str, where: str, value: object, line: int, young_shared: bool, web: bool = True, part: bool = False
    ) -> None:
        if isinstance(value, LineDict):
            for key in value:
                if key not in BAND_KEYS:
                    known = ", ".join(sorted(BAND_KEYS))
                    self.add(rel, value.line_of(key), f"{where}: unknown age band '{key}' (known: {known})")
        for band, text, at in _texts(value, line):
            if band is not None and band not in BAND_KEYS:
                continue
            if web:
                for cmd in slash_commands(text):
                    reason = f"{where}: slash command '{cmd}' in text the web chat shows (name the button instead)"
                    self.add(rel, at, reason)
            if not _is_young(band, young_shared):
                continue
            for word in sentence_case_problems(text, fragment=part and is_fragment(text)):
                self.add(rel, at, f"{where}: sentence starts in lower case ('{word}')")
            for acr in unexplained_acronyms(text):
                self.add(rel, at, f"{where}: acronym '{acr}' is not explained (write 'Full name ({acr})')")

    def flow(self, raw: LineDict, rel: str) -> None:
        audience = raw.get("audience") or list(AUDIENCES)
        bands = raw.get("bands") or list(BANDS)
        young_shared = "young_person" in audience and any(b in YOUNG_BANDS for b in bands)
        self.words(rel, "title", raw.get("title", ""), raw.line_of("title"), young_shared)
        nodes = raw.get("nodes") or LineList()
        questions = sum(
            1 for n in nodes
            if isinstance(n, LineDict) and n.get("type") in _QUESTION_TAGS and n.get("id") != SUBMIT_NODE
        )
        for node in nodes:
            if not isinstance(node, LineDict):
                continue
            nid, kind = node.get("id"), node.get("type")
            if kind == "action" and self.known_actions is not None and node.get("action") not in self.known_actions:
                self.add(rel, node.line_of("action"), f"node '{nid}' action '{node.get('action')}' has no handler")
            for key in ("text", "low", "high"):
                if key in node:
                    self.words(rel, f"node '{nid}' {key}", node[key], node.line_of(key), young_shared)
                    self.counts(rel, nid, node[key], node.line_of(key), questions)
            if kind == "scale" and node.get("mood") is True and node.get("text"):
                reason = f"node '{nid}' is the mood check-in: its wording comes from strings 'mood_question' (no text)"
                self.add(rel, node.line_of("text"), reason)
            for list_key in ("choices", "options"):
                items = node.get(list_key) or []
                for opt in items:
                    if not isinstance(opt, LineDict):
                        continue
                    oid = opt.get("id")
                    label = opt.get("label", "")
                    self.words(rel, f"node '{nid}' label of '{oid}'", label, opt.line_of("label"), young_shared)
                    if oid == "skip" or any(_SKIP_WORD.match(t.strip()) for _, t, _ in _texts(label, 0)):
                        reason = f"node '{nid}' offers Skip itself (Skip is added to questions automatically)"
                        self.add(rel, opt.line, reason)
            if kind not in _QUESTION_TAGS and kind != "branch":
                for _, text, at in _texts(node.get("text", ""), node.line_of("text")):
                    if re.search(r"\btap skip\b|\bskip (?:this|it)\b", text, re.IGNORECASE):
                        self.add(rel, at, f"node '{nid}' ({kind}) offers Skip but is not a question")
            if kind in _QUESTION_TAGS and node.get("skip") is False:
                for j, other in enumerate(nodes):
                    if isinstance(other, LineDict) and other.get("type") == "branch":
                        for rule in other.get("rules") or []:
                            if isinstance(rule, dict) and "skip" in (rule.get("if") or {}).get(nid, []):
                                reason = f"branch on '{nid}' uses 'skip' but it offers no Skip"
                                self.add(rel, nodes.item_lines[j], reason)

    def counts(self, rel: str, nid: object, value: object, line: int, questions: int) -> None:
        for _, text, at in _texts(value, line):
            for m in _COUNT.finditer(text):
                word = m.group(1).lower()
                n = int(word) if word.isdigit() else NUMBER_WORDS[word]
                if n != questions:
                    self.add(rel, at, f"node '{nid}' says {m.group(0)!r} but the flow has {questions} questions")
                else:
                    self.add(rel, at, f"node '{nid}' says {m.group(0)!r}: write '{{questions}}' so the count "
                                      "follows the flow")
            for m in _OF.finditer(text):
                if int(m.group(2)) != questions:
                    self.add(rel, at, f"node '{nid}' says {m.group(0)!r} but the flow has {questions} questions")

    def strings(self, raw: object, rel: str) -> None:
        if not isinstance(raw, LineDict) or not isinstance(raw.get("messages"), LineDict):
            return
        messages: LineDict = raw["messages"]
        for key, value in messages.items():
            web = not CHANNEL_KEY.search(str(key))
            self.words(rel, f"string '{key}'", value, messages.line_of(key), True, web=web, part=True)


_QUESTION_TAGS: frozenset[str] = frozenset(
    typing.get_args(t.model_fields["type"].annotation)[0] for t in QUESTION_TYPES
)


def lint(root: Path, known_actions: set[str] | None = None) -> list[ContentError]:
    """Every wording and wiring problem in the content under `root` (empty list when clean).

    `known_actions` is the set of action names the runtime has handlers for; None skips that check."""
    linter = _Linter(known_actions)
    for folder in FLOW_FOLDERS:
        for path in sorted((root / folder).glob("*.yaml")):
            rel = str(path.relative_to(root.parent))
            raw = read_yaml(path)
            if isinstance(raw, LineDict):
                linter.flow(raw, rel)
    strings_path = root / "strings" / "en.yaml"
    if strings_path.exists():
        linter.strings(read_yaml(strings_path), str(strings_path.relative_to(root.parent)))
    return linter.errors
