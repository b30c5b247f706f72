"""Example invite codes people are shown are codes that could exist (issue 23: the no-code page asked a child to
type `/start AB12CD34`, an example with a character codes never contain, so copying its shape could never work).

Scans every piece of content and the web chat's own page for anything shaped like a code (eight letters and digits,
perhaps split 4-4 by a dash) and checks it against the alphabet and length codes are made from."""

from __future__ import annotations

import re
from pathlib import Path

from bot.identity import ALPHABET, CODE_LENGTH

ROOT = Path(__file__).resolve().parents[2]
PLACES = [*sorted((ROOT / "content").rglob("*.yaml")), *sorted((ROOT / "bot" / "channels" / "web_static").glob("*"))]
SKIP = ("safeguarding",)  # labelled messages people wrote, not wording we show
CODE_SHAPE = re.compile(r"(?<![\w-])([A-Z0-9]{4})-?([A-Z0-9]{4})(?![\w-])")


def example_codes(text: str) -> list[str]:
    """Code-shaped words with at least one letter and one digit (so years, '2026-2027' and words are left out)."""
    found = []
    for m in CODE_SHAPE.finditer(text):
        code = m.group(1) + m.group(2)
        if re.search(r"[A-Z]", code) and re.search(r"\d", code):
            found.append(m.group(0))
    return found


def test_the_scan_finds_a_bad_example() -> None:
    assert example_codes('Type "/start AB12CD34" or ABCD-2345, not 2026-2027 or HELLO-THERE') == ["AB12CD34", "ABCD-2345"]
    assert not set("AB12CD34") <= set(ALPHABET)


def test_every_example_code_shown_is_a_possible_code() -> None:
    seen: dict[str, list[str]] = {}
    for path in PLACES:
        if any(part in SKIP for part in path.relative_to(ROOT).parts):
            continue
        for code in example_codes(path.read_text(encoding="utf-8")):
            seen.setdefault(code, []).append(str(path.relative_to(ROOT)))
    assert seen, "no example codes found at all: the scan is not looking at the right files"
    bad = {code: where for code, where in seen.items()
           if len(code.replace("-", "")) != CODE_LENGTH or not set(code.replace("-", "")) <= set(ALPHABET)}
    assert bad == {}
