"""Pings in headless Chromium (issue 25 item 1 acceptance): a young person opens the chat, joins, reads the plain
explanation and says yes; the real service worker registers from the chat's origin; a card they raised is moved on
by a participation manager (the staff action itself, admin.actions.cards.move_card), and that update is pushed through
the loopback push service stand-in, which decrypts exactly "You have a new message from ourvoice"; handed to the
worker, that push shows a notification with only the neutral words; after "Turn pings off" nothing is pushed.

Headless Chromium cannot reach a real push service, so `PushManager.subscribe` is the one browser part stood in
for: an init script makes it return a subscription the test made with the stand-in (endpoint on loopback, keys
the test holds), after checking the page asked with the server's VAPID key. Everything else is the real page,
push.js, sw.js, server, pywebpush and push_send job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from admin.actions.cards import move_card
from admin.actions.policy import Actor
from admin.jobs.push import send as push_job
from bot.push import BODY, PushSettings, new_vapid_key
from bot.runtime import build_app, build_runtime
from storage import challenges
from storage.db import session
from tests.browser import require_chromium, serve
from tests.conftest import make_settings
from tests.fakes.push_service import PushStandIn
from tests.web.axe import serious_violations

pytestmark = pytest.mark.browser
OUT = Path("test-output") / "pings"  # screenshots for a person to look at (gitignored)
SECRET = "Later bedtimes at weekends"  # the card's own words: never in a push
MANAGER = Actor("manager", "participation_manager", ())

# The browser's push service is the one part stood in for (see the module docstring).
STUB_PUSH_MANAGER = """
(() => {
  let current = null;
  const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.subscribe = async function (options) {
    window.__askedWithKey = b64url(options.applicationServerKey);
    const json = window.__standInSubscription;
    current = { endpoint: json.endpoint, options, toJSON: () => json,
                unsubscribe: async () => { current = null; return true; } };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""

# In the worker: record each showNotification call (and still make it).
RECORD_NOTIFICATIONS = """
() => {
  self.__shown = [];
  const real = self.registration.showNotification.bind(self.registration);
  self.registration.showNotification = (title, options) => {
    self.__shown.push({ title, options });
    return real(title, options).catch(() => undefined);
  };
  return true;
}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, PushStandIn]]:
    from storage.migrate import create_missing_tables, upgrade

    require_chromium()
    tmp = tmp_path_factory.mktemp("pings")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = build_runtime(make_settings(url, tmp))
    rt.push_settings = PushSettings(_env_file=None, vapid_private_key=new_vapid_key(),  # type: ignore[call-arg]
                                    vapid_subject="mailto:participation@example.org")
    with PushStandIn() as stand_in, serve(build_app(rt)) as base:
        yield base, rt, stand_in
    rt.engine.dispose()


def wait_for(check: Any, what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def subscribed_count(rt: Any) -> int:
    from sqlalchemy import func, select

    from storage.models import PushSubscription

    with session(rt.engine) as s:
        return int(s.execute(select(func.count()).select_from(PushSubscription)).scalar_one())


def test_opt_in_ping_for_a_card_update_then_opt_out(served: tuple[str, Any, PushStandIn], browser: Any) -> None:
    base, rt, stand_in = served
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(STUB_PUSH_MANAGER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    page.wait_for_selector('#log-region[aria-busy="false"]', state="attached")
    page.locator("#choices").get_by_role("button", name="I'm 11 to 16").click()
    page.wait_for_selector('#log-region[aria-busy="false"]', state="attached")
    with session(rt.engine) as s:
        from sqlalchemy import func, select

        from storage.models import Participant
        pid = s.execute(select(func.max(Participant.id))).scalar_one()

    # The offer, in plain words, only after the person presses "Pings".
    pings = page.get_by_role("button", name="Pings")
    pings.wait_for(state="visible")
    assert not page.locator("#pings-panel").is_visible()
    pings.click()
    panel = page.locator("#pings-panel")
    assert panel.is_visible() and "never says what the message is" in panel.inner_text()
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "offer-390x844.png"))
    yes = page.get_by_role("button", name="Yes, ping me").bounding_box()
    assert yes is not None and yes["height"] >= 44 and yes["y"] >= 0 and yes["y"] + yes["height"] <= 844
    problems = serious_violations(page)
    assert not problems, problems
    sub = stand_in.subscription(rt.push_settings.public_key)
    page.evaluate("s => { window.__standInSubscription = s; }", sub)
    with context.expect_event("serviceworker") as registered:
        page.get_by_role("button", name="Yes, ping me").click()
    worker = registered.value
    assert worker.url == base + "/sw.js"
    page.locator("#pings-said", has_text="Pings are on").wait_for()
    assert page.evaluate("window.__askedWithKey") == rt.push_settings.public_key
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == base + "/"

    # A card update: the card this young person raised is moved on by staff, and one push goes, which the stand-in
    # decrypts to the neutral sentence only. The move and the job run at tomorrow noon, not the wall clock, so quiet
    # hours (which hold a notice until morning) never decide the outcome; tests/web/test_push.py covers them.
    noon = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    with session(rt.engine) as s:
        card = challenges.create(s, raised_by=pid, council="ocypc", challenge=SECRET, why=None, who_for=(),
                                 personal=False, quarantined=False, submission_id=None, now=noon - timedelta(days=2))
        moved = move_card(s, rt.library, MANAGER, card.id, "discussed_at_council", now=noon,
                          reach=rt.reach_settings)
        assert moved.notices == 1
    before = len(stand_in.received)
    ran = push_job(rt, now=noon)
    assert ran == "sent=1", ran
    (got,) = stand_in.received[before:]
    assert got.body == BODY

    # The worker, handed that push (as a push event with the decrypted data, and as a message from the page),
    # shows only the neutral words.
    assert worker.evaluate(RECORD_NOTIFICATIONS)
    worker.evaluate("""data => { try { self.dispatchEvent(new PushEvent("push", { data })); } catch (e) {} }""",
                    got.body + " " + SECRET)
    page.evaluate("b => navigator.serviceWorker.ready.then(r => r.active.postMessage({ type: 'push', data: b }))",
                  got.body)
    shown = wait_for(lambda: (lambda v: v if len(v) >= 2 else None)(worker.evaluate("self.__shown")),
                     "two notifications")
    for note in shown:
        assert note["title"] == "ourvoice" and note["options"]["body"] == BODY
        assert "bedtimes" not in json.dumps(note) and "card" not in json.dumps(note).lower()

    # Turn pings off: the server forgets the subscription and the next card update is not pushed.
    if not panel.is_visible():
        pings.click()
    page.get_by_role("button", name="Turn pings off").click()
    page.locator("#pings-said", has_text="Pings are off").wait_for()
    with session(rt.engine) as s:
        later = noon + timedelta(minutes=1)
        assert move_card(s, rt.library, MANAGER, card.id, "taken_to_senior_officers", now=later,
                         reach=rt.reach_settings).notices == 1
    asked = stand_in.requests
    assert push_job(rt, now=noon) == "nothing due"
    assert stand_in.requests == asked

    # "Forget this device" turns this device's pings off too.
    page.get_by_role("button", name="Yes, ping me").click()
    page.locator("#pings-said", has_text="Pings are on").wait_for()
    assert subscribed_count(rt) == 1
    page.get_by_role("button", name="Forget this device").click()
    page.get_by_role("button", name="Yes, forget it").click()
    wait_for(lambda: subscribed_count(rt) == 0, "the subscription to be forgotten")
    assert errors == []
    context.close()
