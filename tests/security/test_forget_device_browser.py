"""Issue 22 item 10 in headless Chromium: "Forget this device" on the web chat unlinks the browser (server and
cookie), the page clears the conversation, a stranger's view is all that is left, and the person's own invite
code brings them back to the same answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.runtime import build_app, build_runtime
from storage.db import session
from storage.models import ChannelIdentity, Participant
from tests.browser import browser_page, free_port, require_chromium, serve
from tests.conftest import make_settings
from tests.identity.util import invite

pytestmark = pytest.mark.browser


def test_forget_this_device_in_chromium(sqlite_url: str, tmp_path: Path) -> None:
    require_chromium()
    port = free_port()
    rt = build_runtime(
        make_settings(sqlite_url, tmp_path, invite_only=True, public_url=f"http://127.0.0.1:{port}")
    )
    code = invite(rt, datetime.now(UTC))[0]

    def linked() -> int:
        with session(rt.engine) as s:
            return int(s.execute(select(func.count()).select_from(ChannelIdentity)).scalar_one())

    with serve(build_app(rt), port=port) as base, browser_page() as page:
        page.goto(f"{base}/?start={code}")
        page.get_by_text("Tell me more").first.wait_for()  # joined: the privacy notice
        assert linked() == 1
        assert code not in page.url  # the invite link's code is taken out of the address (and so the history)
        before = {c["name"]: c for c in page.context.cookies()}["ov_chat"]
        assert before["httpOnly"] and before["sameSite"] == "Strict"
        days = (before["expires"] - datetime.now(UTC).timestamp()) / 86400
        assert 29.9 < days <= 30.0  # a month from now, not a year

        page.get_by_role("button", name="Forget this device").click()
        page.get_by_text("Forget this device?").wait_for()
        page.get_by_role("button", name="Yes, forget it").click()
        page.get_by_text("This browser has forgotten you").wait_for()
        assert "Tell me more" not in page.locator("#log").inner_text()  # the conversation is off the screen
        after = {c["name"]: c for c in page.context.cookies()}["ov_chat"]
        assert after["value"].split(".")[0] != before["value"].split(".")[0]
        assert linked() == 0

        page.reload()  # nothing of theirs comes back on this browser, and the code is no longer in the address
        page.get_by_text("invited by the council's participation team").first.wait_for()
        page.fill("#composer-text", code)
        page.keyboard.press("Enter")
        page.get_by_text("Welcome back").wait_for()
    assert linked() == 1
    with session(rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Participant)).scalar_one() == 1
    rt.engine.dispose()
