"""The web chat in Arabic and Tigrinya (issue 24 item 4), in headless Chromium at phone size (390x844): the page
and each message carry lang and dir, Arabic runs right to left with numbers isolated, Ethiopic renders, a draft
translation is marked, and no text overflows its bubble. Screenshots go to test-output/webchat-languages/ for a
person to look at (they are kept as CI artefacts with the other web chat screenshots)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import build_app, build_runtime
from tests.browser import require_chromium, serve
from tests.conftest import make_settings

pytestmark = pytest.mark.browser
OUT = Path("test-output") / "webchat-languages"
PHONE = {"width": 390, "height": 844}

NO_OVERFLOW = """() => [...document.querySelectorAll('#log .bubble')].flatMap((b) => {
  const box = b.getBoundingClientRect();
  return [...b.querySelectorAll('.text, .draft, .progress')].filter((t) => {
    const r = t.getBoundingClientRect();
    return t.scrollWidth > t.clientWidth + 1 || r.left < box.left - 1 || r.right > box.right + 1;
  }).map((t) => t.textContent.slice(0, 40));
})"""

# Where each group of a phone number is drawn in the newest reply: true only when the whole number is on one line
# with each group left of the next (reading order for digits). Numbers in right-to-left text are kept whole with
# no-break spaces; a number split across lines, or drawn right to left, reads as a different number.
GROUPS_IN_ORDER = """(number) => {
  const el = [...document.querySelectorAll('#log .text')].pop();
  const kept = number.replace(/ /g, '\\u00a0');
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let node, at = -1;
  while ((node = walker.nextNode())) { at = node.data.indexOf(kept); if (at >= 0) break; }
  if (at < 0) return false;
  const boxes = [];
  let offset = at;
  for (const group of number.split(' ')) {
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, offset + group.length);
    boxes.push(range.getBoundingClientRect());
    offset += group.length + 1;
  }
  return boxes.slice(1).every((b, i) => Math.abs(boxes[i].top - b.top) < 1 && boxes[i].right <= b.left + 0.5);
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from storage.migrate import create_missing_tables, upgrade

    require_chromium()
    tmp = tmp_path_factory.mktemp("webchat-languages")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = build_runtime(make_settings(url, tmp, show_draft_languages=True))
    with serve(build_app(rt)) as base:
        yield base
    rt.engine.dispose()


def settle(page: Any) -> None:
    page.wait_for_selector('#log-region[aria-busy="false"]', state="attached")


def newest(page: Any) -> Any:
    return page.locator("#log > li.bot").last


def press(page: Any, name: str | re.Pattern[str]) -> None:
    newest(page).get_by_role("button", name=name).first.click()
    settle(page)


@pytest.mark.parametrize(
    ("own_name", "lang", "direction", "have_your_say", "disclosure", "thanks"),
    [
        ("العربية", "ar", "rtl", "قل رأيك", "زوج أمي يضربني كل ليلة", "شكراً لأنك أخبرتني"),
        ("ትግርኛ", "ti", "ltr", "ሓሳብካ ግለጽ", "ኣቦይ ብዙሕ ይወቕዓኒ", "ስለ ዝነገርካኒ የቐንየለይ"),
    ],
    ids=["arabic", "tigrinya"],
)
def test_the_chat_in_another_language_at_phone_size(
    served: str, browser: Any, own_name: str, lang: str, direction: str, have_your_say: str, disclosure: str,
    thanks: str,
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport=PHONE).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served + "/")
    settle(page)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["en", "ltr"]
    press(page, re.compile("11 to 16"))
    page.locator(".tools").get_by_role("button", name=re.compile("My stuff")).click()
    settle(page)
    press(page, re.compile("Language"))
    press(page, re.compile(f"^{own_name}"))
    page.locator(".tools").get_by_role("button", name=re.compile("Menu")).click()
    settle(page)
    menu = newest(page)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [lang, direction]
    assert menu.get_attribute("lang") == lang and menu.get_attribute("dir") == direction
    assert menu.locator(".draft").inner_text() == "Draft translation"
    page.screenshot(path=str(OUT / f"{lang}-390x844-menu.png"))
    press(page, re.compile(have_your_say))
    press(page, re.compile("🙂|Good"))
    topic = newest(page)
    assert topic.get_attribute("lang") == lang
    page.screenshot(path=str(OUT / f"{lang}-390x844-topic.png"))
    page.locator("#composer-text").fill(disclosure)
    page.locator("#send").click()
    settle(page)
    safe = newest(page)
    assert thanks in safe.inner_text()
    assert safe.get_attribute("dir") == direction
    if direction == "rtl":  # numbers inside Arabic text sit in left-to-right isolates (U+2066 ... U+2069)
        assert "\u2066999\u2069" in page.evaluate("[...document.querySelectorAll('#log .text')].pop().textContent")
        # ... and are drawn in reading order: each group of digits left of the next (or on a later line)
        for number in ("03000 41 11 11", "03000 41 91 91", "0800 1111"):
            assert page.evaluate(GROUPS_IN_ORDER, number) is True, f"{number} is drawn with its groups out of order"
        # the duty team is named in Arabic, not in English inside the Arabic
        assert "duty team" not in safe.inner_text()
    # what the person typed follows its own direction
    mine = page.locator("#log > li.me .text").last
    assert mine.get_attribute("dir") == "auto"
    assert page.evaluate("getComputedStyle(document.querySelectorAll('#log > li.me .text')[document.querySelectorAll('#log > li.me .text').length - 1]).direction") == direction
    page.screenshot(path=str(OUT / f"{lang}-390x844-safe-reply.png"))
    assert page.evaluate(NO_OVERFLOW) == []
    # the bubble sits on the reading side: right for right-to-left, left otherwise
    box = safe.locator(".bubble").bounding_box()
    assert box is not None
    if direction == "rtl":
        assert box["x"] + box["width"] > PHONE["width"] - 40
    else:
        assert box["x"] < 40
    assert errors == []
