"""The web chat in headless Chromium: complete the sample flow by tapping and typing, on a phone-sized screen.

One browser for the module; each test has its own context (its own cookie, so its own participant)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import build_app, build_runtime
from storage.db import session
from storage.models import Answer, Submission
from tests.browser import serve
from tests.conftest import make_settings

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_complete_sample_flow_in_chromium(sqlite_url: str, tmp_path: Path, browser: Any) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    out = Path("test-output")
    out.mkdir(exist_ok=True)
    with serve(build_app(rt)) as base, browser.new_context(viewport=PHONE) as context:
        page = context.new_page()
        page.goto(base + "/")
        choices = page.locator("#choices")

        def tap(label: str) -> None:
            choices.get_by_role("button", name=label, exact=False).first.click()

        choices.get_by_role("button", name="I'm 11 to 16").wait_for()
        tap("I'm 11 to 16")
        tap("Have your say")
        tap("🙂")
        tap("They listen")
        tap("Done")
        tap("Whether they have pets")
        tap("Done")
        tap("A meal I like")
        page.get_by_text("Only the participation team reads this").last.wait_for()
        page.fill("#composer-text", "Someone who is patient 🐢")
        page.keyboard.press("Enter")
        choices.get_by_role("button", name="Yes").wait_for()
        # Keyboard only: focus the first choice with Tab and press it (accessible without a mouse).
        choices.get_by_role("button", name="Yes").focus()
        page.keyboard.press("Enter")
        page.get_by_text("We'll share what everyone said").wait_for()
        page.screenshot(path=str(out / "webchat-complete.png"), full_page=True)
        sizes = choices.get_by_role("button").first.bounding_box()
        assert sizes is not None and sizes["height"] >= 44  # large tap targets
    with session(rt.engine) as s:
        sub = s.execute(select(Submission).where(Submission.flow_id == "good_foster_carer")).scalar_one()
        assert sub.status == "completed"
        answers = list(s.execute(select(Answer).where(Answer.submission_id == sub.id)).scalars())
        texts = [rt.keyring.decrypt(a.text_enc) for a in answers if a.text_enc]  # free text is stored sealed
    assert "Someone who is patient 🐢" in texts
    assert all(a.text_value is None for a in answers if a.text_enc)
    rt.engine.dispose()


def test_a_message_too_big_to_read_is_explained_and_the_chat_carries_on(
    sqlite_url: str, tmp_path: Path, browser: Any
) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    with serve(build_app(rt)) as base, browser.new_context(viewport=PHONE) as context:
        page = context.new_page()
        page.goto(base + "/")
        choices = page.locator("#choices")
        choices.get_by_role("button", name="I'm 11 to 16").wait_for()
        # Pasted text far beyond anything the bot reads: refused once, with a reason, not retried forever.
        # Sent through the page's own submit handler with the box hidden while it holds 2 MB: laying out that much
        # text took Chromium half a minute, and it is the request, not the text box, that is under test. (Sending
        # clears the box, so it is shown again empty.)
        page.evaluate("""() => {
            const input = document.querySelector('#composer-text');
            input.style.display = 'none';
            input.value = 'z'.repeat(2100000);
            document.querySelector('#composer').requestSubmit();
            input.style.display = '';
        }""")
        page.get_by_text("far longer than I can read").wait_for()
        assert "Trying again" not in page.locator("body").inner_text()
        choices.get_by_role("button", name="I'm 11 to 16").first.click()  # the next message still goes
        choices.get_by_role("button", name="Have your say", exact=False).first.wait_for()
    rt.engine.dispose()
