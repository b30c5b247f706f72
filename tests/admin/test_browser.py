"""The staff admin in headless Chromium: sign in, publish a topic, take challenge cards through every state,
acknowledge an alert, download a PDF report; dashboard screenshots on a laptop and a tablet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from admin.actions.staff import add_first_account
from bot.runtime import build_app, build_runtime
from storage import alerts as alert_store
from storage import challenges, submissions
from storage import participants as people
from storage import topics as topic_store
from storage.db import session
from storage.models import AuditEntry
from tests.browser import free_port, require_chromium, serve
from tests.conftest import make_settings

pytestmark = pytest.mark.browser
OUT = Path("test-output")
PASSWORD = "browser test password"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _seed(rt: Any) -> dict[str, int]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with session(rt.engine) as s:
        add_first_account(
            s,
            username="mgr",
            role="participation_manager",
            districts=(),
            password=PASSWORD,
            now=now,
        )
        for i, (district, council, band) in enumerate(
            [("east", "ocypc", "teen")] * 7
            + [("thanet", "yac", "young_adult")] * 6
            + [("west", "super_council", "junior")] * 2
        ):
            p, _ = people.create(
                s,
                key_hash=f"b{i}",
                channel="web",
                address_enc=None,
                now=now,
                band=band,
                district=district,
                council=council,
            )
            sub = submissions.get_or_start(s, p, "wellbeing", 1, now=now)
            submissions.put_answer(
                s, sub, "feel_safe", 2 + i % 4, skipped=False, free_text=False, quarantined=False, now=now
            )
        alert_store.create(
            s,
            alert_ref="AL-BROWSER",
            participant_id=p.id,
            case_ref=p.case_ref,
            channel="web",
            categories=["self_harm"],
            text_enc=rt.keyring.encrypt("words"),
            now=now,
            notified=True,
        )
        ids = {}
        for key, text in (
            ("main", "Every care leaver gets a rent guarantor"),
            ("personal", "My own placement"),
            ("decline", "Later bedtimes"),
        ):
            ids[key] = challenges.create(
                s,
                raised_by=None,
                council="yac",
                challenge=text,
                why=None,
                who_for=[],
                personal=key == "personal",
                quarantined=False,
                submission_id=None,
                now=now,
            ).id
        topic_store.publish(s, "good_foster_carer", now=now, status="closed")
    return ids


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Any, dict[str, int]]]:
    require_chromium()
    port = free_port()  # the admin accepts forms only from its configured URLs: http://127.0.0.1:<port> is one
    rt = build_runtime(make_settings(sqlite_url, tmp_path, port=port))
    ids = _seed(rt)
    with serve(build_app(rt), port) as base:
        yield base, rt, ids
    rt.engine.dispose()


def _sign_in(page: Any, base: str) -> None:
    page.goto(base + "/admin/")
    page.get_by_label("Username").fill("mgr")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def _move(page: Any, state: str, owner: str = "", note: str = "") -> None:
    page.get_by_label(state.replace("_", " "), exact=False).first.check()
    if owner:
        page.get_by_role("textbox", name="Owner").fill(owner)
    if note:
        page.get_by_role("textbox", name="Note").fill(note)
    page.get_by_role("button", name="Move card").click()
    page.get_by_role("status").filter(has_text="Card").wait_for()


def test_staff_workflow_in_chromium(served: tuple[str, Any, dict[str, int]], browser: Any) -> None:
    base, rt, ids = served
    OUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, base)
    assert page.get_by_role("cell", name="not shown").count() >= 1  # west's 2 people are hidden
    page.screenshot(path=str(OUT / "admin-dashboard-laptop.png"), full_page=True)

    # Publish a topic to two districts with dates.
    page.get_by_role("link", name="Topics").click()
    page.get_by_role("link", name="What makes a good foster carer?").click()
    page.get_by_label("Opens on").fill("2026-12-01")
    page.get_by_label("Closes on").fill("2027-02-28")
    page.get_by_label("East Kent").check()
    page.get_by_label("Thanet").check()
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("status").filter(has_text="published").wait_for()
    assert page.get_by_text("East Kent, Thanet").count() >= 1

    # One card through the whole lifecycle; one routed to a worker; one declined.
    page.goto(f"{base}/admin/cards/{ids['main']}")
    _move(page, "discussed_at_council")
    _move(page, "taken_to_senior_officers")
    _move(page, "presented_to_panel")
    _move(page, "accepted", owner="Corporate Director", note="A guarantor pilot starts in April")
    _move(page, "progress_update", note="Twelve young people in the pilot so far")
    _move(page, "closed")
    assert page.get_by_text("This card is finished.").is_visible()
    page.goto(f"{base}/admin/cards/{ids['personal']}")
    _move(page, "routed_to_worker", owner="Leaving care worker")
    _move(page, "closed")
    page.goto(f"{base}/admin/cards/{ids['decline']}")
    _move(page, "declined", note="The council explained why at the meeting")
    with session(rt.engine) as s:
        states = {c.id: c.state for c in challenges.list_cards(s)}
        moves = [e for e in s.execute(select(AuditEntry).where(AuditEntry.action == "card.move")).scalars()]
    assert states == {ids["main"]: "closed", ids["personal"]: "closed", ids["decline"]: "declined"}
    assert len(moves) == 9

    # Acknowledge the alert.
    page.get_by_role("link", name="Alerts").click()
    page.get_by_role("link", name="AL-BROWSER").click()
    page.get_by_role("button", name="I'm dealing with this").click()
    page.get_by_role("status").filter(has_text="acknowledged").wait_for()
    with session(rt.engine) as s:
        assert alert_store.get(s, "AL-BROWSER").status == "acknowledged"

    # Download the Panel update as a PDF.
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Format").select_option("pdf")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Make and download").click()
    download = info.value
    target = OUT / "admin-report.pdf"
    download.save_as(str(target))
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")
    import pypdfium2

    assert len(pypdfium2.PdfDocument(data)) >= 1

    # The dashboard on a tablet, after the work above.
    tablet = browser.new_context(viewport=TABLET)
    tab = tablet.new_page()
    _sign_in(tab, base)
    tab.screenshot(path=str(OUT / "admin-dashboard-tablet.png"), full_page=True)
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]  # nothing forces sideways scrolling on a tablet
    # Keyboard: the skip link is the first thing Tab reaches.
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    context.close()
    tablet.close()
