"""The web chat as a chat app, in headless Chromium (issue 23, part 1): at phone and desktop size a whole topic is
answered while the composer, the newest message and its buttons stay on screen after every reply; focus moves to
the next thing to do; a lasting button (an invitation's Start) outlives later messages; the typing indicator shows
while a reply is on its way; axe-core finds no serious or critical problems on the chat.

Screenshots of every step are kept under test-output/webchat/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.messages import Choice, Outbound
from bot.runtime import build_app, build_runtime
from storage import outbox
from storage.db import session
from storage.models import Participant
from tests.browser import require_chromium, serve
from tests.conftest import make_settings
from tests.web.axe import serious_violations

pytestmark = pytest.mark.browser
OUT = Path("test-output") / "webchat"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HAVE_YOUR_SAY = re.compile("Have your say|Tell us what you think")  # the menu's topic button, by band
MAX_STEPS = 30  # a topic is about a dozen replies; more means the page is stuck


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from storage.migrate import create_missing_tables, upgrade

    require_chromium()
    tmp = tmp_path_factory.mktemp("webchat")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = build_runtime(make_settings(url, tmp))
    with serve(build_app(rt)) as base:
        yield base, rt
    rt.engine.dispose()


def open_chat(browser: Any, base: str, viewport: dict[str, int]) -> Any:
    """A fresh person (new cookie) on the chat page, after the page's own first reply. Console errors (a script
    failing, or anything the Content-Security-Policy blocked) are collected in `page.errors`."""
    page = browser.new_context(viewport=viewport).new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(f"{m.text} {m.location.get('url', '')}") if m.type == "error"
            else None)
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(base + "/")
    settle(page)
    return page


def settle(page: Any) -> None:
    """Wait until no reply is on its way (the page marks the conversation aria-busy while one is)."""
    page.wait_for_selector('#log-region[aria-busy="false"]', state="attached")


def newest(page: Any) -> Any:
    return page.locator("#log > li.bot").last


def box_within(page: Any, locator: Any, what: str) -> None:
    """The element is wholly inside the window (not below the fold, not under anything fixed)."""
    vp = page.viewport_size
    box = locator.bounding_box()
    assert box is not None, what
    assert box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] + 0.5, f"{what} is off screen: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= vp["width"] + 0.5, f"{what} is off screen: {box}"


def assert_in_view(page: Any, label: str) -> None:
    """Composer, newest message and each of its buttons on screen; the page itself never scrolls."""
    box_within(page, page.locator("#composer"), f"{label}: composer")
    box_within(page, page.locator(".tools"), f"{label}: tool bar")
    last = newest(page)
    box_within(page, last, f"{label}: newest message")
    buttons = last.locator(".choices button")
    for i in range(buttons.count()):
        box_within(page, buttons.nth(i), f"{label}: button {i + 1} of the newest message")
        size = buttons.nth(i).bounding_box()
        assert size["height"] >= 44 and size["width"] >= 44, f"{label}: tap target too small {size}"
    page_scroll = page.evaluate("[document.scrollingElement.scrollTop, document.scrollingElement.scrollHeight]")
    assert page_scroll[0] == 0 and page_scroll[1] <= page.viewport_size["height"], f"{label}: the page scrolled"


def focus_is_next_step(page: Any, label: str) -> None:
    """After a reply, focus is on the text box for a free-text question, else on the newest message's first button."""
    free_text = page.evaluate(
        "() => { const li = [...document.querySelectorAll('#log > li.bot')].pop(); return Boolean(li.reply &&"
        " (li.reply.free_text || !(li.reply.choices || []).some(c => !['skip','back','done'].includes(c.token)))); }"
    )
    focused = page.evaluate(
        "() => { const a = document.activeElement; return a.id || (a.closest('#log > li') ===  "
        "[...document.querySelectorAll('#log > li.bot')].pop() && a.matches('.choices button:first-child') "
        "? 'first-button' : a.tagName); }"
    )
    assert focused == ("composer-text" if free_text else "first-button"), f"{label}: focus on {focused}"


def one_back(page: Any, label: str) -> None:
    """One Back on screen, the tool bar's: the engine's own Back button (sent with every question after the
    first, for channels without a tool bar) is not repeated under the question."""
    backs = page.get_by_role("button", name=re.compile(r"^\W*Back\b"))
    visible = [backs.nth(i) for i in range(backs.count()) if backs.nth(i).is_visible()]
    assert len(visible) == 1, f"{label}: {len(visible)} Back buttons"
    assert visible[0].evaluate("b => b.closest('.tools') !== null"), f"{label}: the Back shown is not the tool bar's"


def answer_newest(page: Any, step: int, out: Path) -> str:
    """Do what the newest message asks, the way a person would; returns what was done."""
    last = newest(page)
    if last.locator(".choices button.done").count():  # a multi-select: pick one, then Done
        bubbles = page.locator("#log > li").count()
        first = last.locator(".choices button").first
        token = first.get_attribute("data-token")
        first.click()
        settle(page)
        if first.get_attribute("aria-pressed") is None:
            newest(page).locator(".choices button.done").click()
            return "picked and Done"
        # A toggle: pressed in place, with no new message and focus still on it.
        assert first.get_attribute("aria-pressed") == "true"
        assert page.locator("#log > li").count() == bubbles
        assert page.evaluate("document.activeElement.dataset.token") == token
        page.screenshot(path=str(out / f"{step:02d}b-toggled.png"))
        newest(page).locator(".choices button.done").click()
        return "toggled and Done"
    if page.evaluate("document.activeElement.id") == "composer-text":
        page.keyboard.type("Someone who is patient and makes pancakes")
        page.keyboard.press("Enter")
        return "typed"
    if page.evaluate("document.activeElement.closest('.choices') !== null"):
        page.keyboard.press("Enter")  # keyboard only: focus is already on the first answer
        return "Enter on the first button"
    last.locator(".choices button:not([data-token=skip])").first.click()
    return "tapped"


@pytest.mark.parametrize(("viewport", "band"), [(PHONE, "I'm 7 to 11"), (DESKTOP, "I'm 11 to 16")],
                         ids=["390x844", "1280x900"])
def test_a_whole_topic_keeps_the_composer_and_the_newest_buttons_in_view(
    served: tuple[str, Any], browser: Any, viewport: dict[str, int], band: str
) -> None:
    base, _ = served
    out = OUT / f"{viewport['width']}x{viewport['height']}"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    page = open_chat(browser, base, viewport)
    assert_in_view(page, "first screen")
    page.screenshot(path=str(out / "00-welcome.png"))
    page.locator("#choices").get_by_role("button", name=band).click()
    settle(page)
    page.locator("#choices").get_by_role("button", name=HAVE_YOUR_SAY).click()
    settle(page)
    topic_started = newest(page).inner_text()
    done: list[str] = []
    for step in range(1, MAX_STEPS):
        label = f"step {step}"
        assert_in_view(page, label)
        focus_is_next_step(page, label)
        one_back(page, label)
        page.screenshot(path=str(out / f"{step:02d}.png"))
        if "What would you like to do" in newest(page).inner_text():
            break  # the topic is over and the menu is back
        done.append(answer_newest(page, step, out))
        settle(page)
    else:
        pytest.fail(f"the topic did not finish in {MAX_STEPS} replies: {done}")
    assert topic_started and "typed" in done and "Enter on the first button" in done
    # Progress within the flow: every question says "Question n of m", n never going back, m the same throughout.
    shown = [t.strip() for t in page.locator("#log > li.bot .progress").all_inner_texts()]
    numbers = [tuple(map(int, re.fullmatch(r"Question (\d+) of (\d+)", t).groups())) for t in shown]  # type: ignore[union-attr]
    assert len(numbers) >= 5 and len({m for _, m in numbers}) == 1, shown
    assert [n for n, _ in numbers] == sorted(n for n, _ in numbers) and numbers[-1][0] <= numbers[-1][1], shown
    assert "toggled and Done" in done  # multi-select choices are toggles (aria-pressed), asked once
    # Every face on a scale is also said in words, on screen (no emoji font needed to know what it means).
    faces = page.locator(".choices.scale button .face")
    for i in range(faces.count()):
        assert faces.nth(i).locator("xpath=..").locator(".words").inner_text().strip()
    # No slash commands anywhere the person can read: the tool bar and buttons do their jobs.
    shown = page.locator("body").inner_text()
    assert not re.search(r"(^|[\s(\"“'])/[a-z]", shown), re.search(r".{0,40}(^|\s)/[a-z].{0,40}", shown)
    # Spent buttons went with their questions: only the newest message still has any.
    assert page.locator("#log .choices").count() == 1
    # Clear sides: what the person said is on the right, the bot's words on the left, each named for screen readers.
    me = page.locator("#log > li.me .bubble").last.bounding_box()
    bot = newest(page).locator(".bubble").bounding_box()
    assert me["x"] + me["width"] > bot["x"] + bot["width"] and me["x"] > bot["x"]
    assert page.locator("#log > li.me .visually-hidden").first.inner_text().strip() == "You said:"
    assert page.locator("#log > li.bot .visually-hidden").first.inner_text().strip() == "ourvoice said:"
    assert page.errors == []  # no script error, nothing refused by the Content-Security-Policy
    page.context.close()


def test_the_chat_mid_topic_has_no_serious_accessibility_problems(served: tuple[str, Any], browser: Any) -> None:
    base, _ = served
    page = open_chat(browser, base, PHONE)
    problems = serious_violations(page)
    assert not problems, problems
    page.locator("#choices").get_by_role("button", name="I'm 7 to 11").click()
    settle(page)
    page.locator("#choices").get_by_role("button", name=HAVE_YOUR_SAY).click()
    settle(page)
    assert newest(page).locator(".choices button").count() >= 2  # joined and mid-topic, answers on screen
    problems = serious_violations(page)
    assert not problems, problems
    # Reflow (WCAG 1.4.10): at 320 CSS px nothing scrolls sideways and no button's words spill out of it.
    page.set_viewport_size({"width": 320, "height": 568})
    spilled = page.evaluate(
        "[...document.querySelectorAll('button')].filter(b => b.offsetParent && b.scrollWidth > b.clientWidth + 1)"
        ".map(b => b.textContent)"
    )
    assert spilled == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 320
    assert_in_view(page, "320x568")
    page.context.close()


def _participant_for(rt: Any, before: set[int]) -> int:
    with session(rt.engine) as s:
        ids = set(s.execute(select(Participant.id)).scalars())
    (new,) = ids - before
    return new


def test_a_lasting_button_outlives_later_messages_and_still_works(served: tuple[str, Any], browser: Any) -> None:
    """A notice whose button the server marks lasting (like a survey invitation's Start) keeps it when the menu
    arrives straight after; tapping it later still works. Ordinary buttons of earlier replies are spent."""
    base, rt = served
    with session(rt.engine) as s:
        before = set(s.execute(select(Participant.id)).scalars())
    page = open_chat(browser, base, PHONE)
    page.locator("#choices").get_by_role("button", name="I'm 11 to 16").click()
    settle(page)
    have_your_say = page.locator("#choices").get_by_role("button", name="Have your say")
    token = have_your_say.get_attribute("data-token")
    pid = _participant_for(rt, before)
    invite = Outbound("A new topic is open. Tap Start whenever suits you.", (Choice(token, "▶ Start"),), "buttons",
                      lasting=True)
    with session(rt.engine) as s:
        outbox.add(s, channel="web", payload_json=json.dumps(invite.to_json()), now=datetime.now(UTC),
                   participant_id=pid, kind="notice")
    page.locator(".tools").get_by_role("button", name="Menu").click()
    settle(page)
    notice = page.locator("#log > li.bot", has_text="A new topic is open")
    assert notice.get_by_role("button", name="Start").is_visible()
    assert page.locator("#log .choices").count() == 2  # the invitation's Start and the new menu; the old menu spent
    focus_is_next_step(page, "after the menu")
    notice.get_by_role("button", name="Start").click()
    settle(page)
    assert "foster carers" in page.locator("#log").inner_text()  # the topic began
    assert notice.get_by_role("button", name="Start").count() == 1  # lasting: still there
    page.context.close()


def test_typing_indicator_shows_while_a_reply_is_on_its_way(served: tuple[str, Any], browser: Any) -> None:
    base, _ = served
    page = open_chat(browser, base, PHONE)
    held: list[Any] = []
    page.route("**/api/chat", lambda route: held.append(route))
    page.locator("#choices").get_by_role("button", name="I'm 11 to 16").click()
    page.wait_for_function("document.querySelector('#typing.on') !== null")
    assert page.locator("#typing").inner_text().strip() == "ourvoice is typing…"
    box_within(page, page.locator("#typing"), "typing indicator")
    assert held, "the reply was not held"
    held[0].continue_()
    settle(page)
    assert page.locator("#typing.on").count() == 0
    assert page.locator("#typing").inner_text().strip() == ""
    page.context.close()


def test_every_tool_bar_button_gets_an_answer_with_no_slash_command(served: tuple[str, Any], browser: Any) -> None:
    """Menu, Back, Take a break, My stuff and Help do what the typed commands did, and what comes back never
    tells anyone to type one."""
    base, _ = served
    page = open_chat(browser, base, PHONE)
    page.locator("#choices").get_by_role("button", name="I'm 11 to 16").click()
    settle(page)
    for tool in ("Help", "Back", "My stuff", "Take a break", "Menu"):
        before = page.locator("#log > li.bot").count()
        page.locator(".tools").get_by_role("button", name=tool, exact=True).click()
        settle(page)
        assert page.locator("#log > li.bot").count() > before, f"{tool}: no answer"
        assert page.locator("#log > li.me").last.inner_text().endswith(tool)
        said = newest(page).inner_text()
        assert not re.search(r"(^|[\s(\"“'])/[a-z]", said), f"{tool}: {said}"
        assert_in_view(page, tool)
        if tool == "My stuff":
            assert newest(page).get_by_role("button", name="Delete everything", exact=False).count() == 1
        if tool == "Menu":
            assert newest(page).get_by_role("button", name=HAVE_YOUR_SAY).count() == 1
    page.context.close()


def test_a_real_survey_invitations_start_still_works_below_later_messages(
    served: tuple[str, Any], browser: Any
) -> None:
    """The invitation a wave really sends (bot/features/carers.invitation, by the notice job) keeps its ▶ Start
    when the carer's later messages bring buttons of their own, and tapping it days later starts the survey."""
    from admin.jobs.carer_reminders import send_notices
    from bot.features.carers import WaveSettings
    from tests.carers.conftest import open_wave

    base, rt = served
    rt.wave_settings = WaveSettings(_env_file=None)  # type: ignore[call-arg]
    page = open_chat(browser, base, PHONE)
    page.locator("#choices").get_by_role("button", name="I'm a foster carer").click()
    settle(page)
    today = datetime.now(UTC)
    open_wave(rt, opens=today.date().isoformat(), closes=(today + timedelta(days=40)).date().isoformat())
    assert "invite=1" in send_notices(rt, now=today.replace(hour=10, minute=0))
    page.locator(".tools").get_by_role("button", name="Menu").click()  # the invitation arrives with this reply
    settle(page)
    invite = page.locator("#log > li.bot", has_text="survey is open")
    assert invite.get_by_role("button", name="Start").is_visible()
    for tool in ("My stuff", "Menu"):  # later replies, each with buttons of its own
        page.locator(".tools").get_by_role("button", name=tool, exact=True).click()
        settle(page)
    assert invite.get_by_role("button", name="Start").is_enabled()
    invite.get_by_role("button", name="Start").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "invitation-start-after-later-messages.png"))
    invite.get_by_role("button", name="Start").click()
    settle(page)
    assert "Part 1 of 9" in newest(page).inner_text() or "Part 1 of 9" in page.locator("#log").inner_text()
    assert "How long have you been a foster carer?" in newest(page).inner_text()
    assert_in_view(page, "after Start")
    page.context.close()
