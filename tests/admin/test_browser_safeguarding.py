"""Issue 18 in headless Chromium: a safeguarding lead works the "To read" queue (risk-first, read one, raise
an alert from another), then on an alert breaks glass for the council case reference and replies to the
young person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from admin.actions.staff import password_hasher
from bot.identity import IdentitySettings, create_invites, invite_onboarding
from bot.runtime import build_app, build_runtime
from storage import alerts as alert_store
from storage import audit
from storage import staff as staff_store
from storage.db import session
from storage.models import OutboxMessage, ToRead
from tests.browser import browser_page, free_port, require_chromium, serve
from tests.conftest import make_settings
from tests.helpers import Person

pytestmark = pytest.mark.browser
PASSWORD = "browser test password"
CASE_REF = "LCS-9902117"
FLAGGED = "my stepdad hits me when mum is at work"


def _young_person(rt: Any, sender: str, now: datetime) -> Person:
    with session(rt.engine) as s:
        _, made = create_invites(
            s, rt.keyring, role="young_person", age_band="11-16", district="east", council="ocypc",
            expires_days=30, count=1, public_url=rt.settings.public_url, bot_username="", created_by="pat",
            now=now, council_ref=CASE_REF,
        )
    p = Person(rt.dispatcher, sender, now=now)
    p.command("start", made[0].code)
    return p


def _good_news(p: Person, words: str) -> Any:
    if not any(b.startswith("🎉") for b in p.buttons):
        p.command("menu")
    p.press("🎉")
    p.press("😀")
    return p.text(words)


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    require_chromium()
    port = free_port()  # the admin accepts forms only from its configured URLs: http://127.0.0.1:<port> is one
    rt = build_runtime(make_settings(sqlite_url, tmp_path, port=port))
    rt.dispatcher.onboarding = invite_onboarding(
        rt.keyring, rt.settings, rt.library, identity=IdentitySettings(_env_file=None)  # type: ignore[call-arg]
    )
    now = datetime.now(UTC)
    with session(rt.engine) as s:
        staff_store.create(
            s, username="lead", role="safeguarding_lead", districts=(),
            password_hash=password_hasher().hash(PASSWORD), now=now,
        )
    p = _young_person(rt, "yp-browser", now)
    _good_news(p, "I got a part in the school play")
    assert p.text(FLAGGED).flagged  # answers "What's it about?" with a disclosure: alert and queue entry
    q = _young_person(rt, "yp-browser-2", now)
    _good_news(q, "Nobody at home talks to me any more and I stay in my room")
    with session(rt.engine) as s:
        entries = {r.id: r for r in s.execute(select(ToRead)).scalars()}
        alert_ref = next(
            a.alert_ref for a in alert_store.open_alerts(s) if a.text_enc and rt.keyring.decrypt(a.text_enc) == FLAGGED
        )
    ids = {"calm": min(entries), "worrying": max(entries), "alert": alert_ref}
    flagged = [i for i, r in entries.items() if r.flagged]
    ids["flagged"] = flagged[0] if flagged else None
    with serve(build_app(rt), port) as base:
        yield base, rt, ids
    rt.engine.dispose()


def test_to_read_break_glass_and_reply_in_chromium(served: tuple[str, Any, dict[str, Any]]) -> None:
    base, rt, ids = served
    with browser_page() as page:
        page.goto(base + "/admin/")
        page.get_by_label("Username").fill("lead")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="To read").click()
        page.get_by_role("heading", name="To read").wait_for()
        links = page.get_by_role("link", name="Read message").all_inner_texts()
        if ids["flagged"] is not None:
            assert links[0] == f"Read message {ids['flagged']}"  # risk first
        assert "school play" not in page.content()  # the list shows no words

        page.get_by_role("link", name=f"Read message {ids['calm']}", exact=True).click()
        assert page.get_by_text("I got a part in the school play").is_visible()
        page.get_by_role("button", name="Mark as read").click()
        page.get_by_role("status").filter(has_text="Marked as read").wait_for()

        page.get_by_role("link", name=f"Read message {ids['worrying']}", exact=True).click()
        page.get_by_role("button", name="This worries me").click()
        page.get_by_role("status").filter(has_text="Safeguarding alert raised").wait_for()

        page.goto(f"{base}/admin/alerts/{ids['alert']}")
        assert CASE_REF not in page.content()
        assert page.get_by_text("pat on").count() == 1  # who issued the invite
        page.get_by_label("Why you need it").fill("Strategy discussion with the police this afternoon")
        page.locator("#reveal-password").fill(PASSWORD)
        page.get_by_role("button", name="Break glass").click()
        page.locator("#council-ref").wait_for()
        assert page.locator("#council-ref").inner_text() == CASE_REF

        page.get_by_label("Your message").fill("Thank you for telling us. Sam will call you at 4pm today.")
        page.get_by_role("button", name="Send to the young person").click()
        page.get_by_role("status").filter(has_text="on its way").wait_for()

    with session(rt.engine) as s:
        actions = sorted((e.id, e.action) for e in audit.entries(s) if e.actor == "lead")
        notices = list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars())
        worrying = s.get(ToRead, ids["worrying"])
        assert audit.verify(s) == []
    assert [a for _, a in actions if "login" not in a] == [
        "toread.view", "toread.read", "toread.view", "toread.alert", "alert.reveal_case_ref", "alert.reply",
    ]
    assert worrying is not None and worrying.alert_ref
    assert any("Sam will call you at 4pm" in n.payload_json for n in notices)
