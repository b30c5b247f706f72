"""axe-core on the staff admin in headless Chromium (issue 23 acceptance): the sign-in page, the dashboard and a
list page have no serious or critical WCAG 2.2 A/AA violations, at laptop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from admin.actions.staff import add_first_account
from bot.runtime import build_app, build_runtime
from storage import alerts as alert_store
from storage import participants as people
from storage.db import session
from tests.browser import free_port, require_chromium, serve
from tests.conftest import make_settings
from tests.web.axe import serious_violations

pytestmark = pytest.mark.browser
PASSWORD = "axe test password, long enough 42"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from storage.migrate import create_missing_tables, upgrade

    require_chromium()
    tmp = tmp_path_factory.mktemp("admin_axe")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    port = free_port()  # the admin checks that forms come from its own address, so it must know it
    rt = build_runtime(make_settings(url, tmp, port=port, public_url=f"http://127.0.0.1:{port}"))
    now = datetime.now(UTC)
    with session(rt.engine) as s:
        add_first_account(s, username="mgr", role="participation_manager", districts=(), password=PASSWORD, now=now)
        p, _ = people.create(s, key_hash="axe1", channel="web", address_enc=None, now=now, band="teen",
                             district="east", council="ocypc")
        alert_store.create(s, alert_ref="AL-AXE", participant_id=p.id, case_ref=p.case_ref, channel="web",
                           categories=["self_harm"], text_enc=rt.keyring.encrypt("words"), now=now, notified=True)
    with serve(build_app(rt), port) as base:
        yield base
    rt.engine.dispose()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["1280x900", "390x844"])
def test_admin_sign_in_dashboard_and_a_list_have_no_serious_problems(
    served: str, browser: Any, viewport: dict[str, int]
) -> None:
    page = browser.new_context(viewport=viewport).new_page()
    found: dict[str, list[str]] = {}
    page.goto(served + "/admin/")
    page.get_by_label("Username").wait_for()
    found["sign-in"] = serious_violations(page)
    page.get_by_label("Username").fill("mgr")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    found["dashboard"] = serious_violations(page)
    page.goto(served + "/admin/alerts")
    page.get_by_role("link", name="AL-AXE").wait_for()  # the list has a row in it
    found["alerts list"] = serious_violations(page)
    page.goto(served + "/admin/cards")  # its table scrolls sideways on a phone: it must be reachable by keyboard
    page.get_by_role("heading", name="Challenge cards").wait_for()
    found["cards list"] = serious_violations(page)
    page.context.close()
    assert found == {"sign-in": [], "dashboard": [], "alerts list": [], "cards list": []}


def test_the_axe_check_finds_a_serious_problem_when_there_is_one(browser: Any) -> None:
    """The check itself can fail: a nameless button and an image without alt text are reported."""
    page = browser.new_context().new_page()
    page.set_content('<html lang="en"><title>t</title><main><button></button><img src="data:,"></main></html>')
    found = " ".join(serious_violations(page))
    page.context.close()
    assert "button-name" in found and "image-alt" in found


def test_every_page_in_the_admin_menu_has_no_serious_problems(served: str, browser: Any) -> None:
    """Issue 23 acceptance, all admin pages a manager can reach from the menu (not just a sample): each one
    signed in, at laptop width, has no serious or critical axe violation. The menu is read from the page, so a
    page added to it later is checked too."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(served + "/admin/")
    page.get_by_label("Username").fill("mgr")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    links = page.evaluate(
        "[...new Set([...document.querySelectorAll('nav a[href^=\"/admin\"]')].map(a => a.getAttribute('href')))]"
    )
    assert len(links) >= 8, links  # the manager's menu: dashboard, alerts, cards, topics, surveys, staff, ...
    found: dict[str, list[str]] = {}
    for href in links:
        if href.rstrip("/") in ("/admin", "/admin/alerts", "/admin/cards"):
            continue  # checked at both widths above
        response = page.goto(served + href)
        assert response is not None and response.status == 200, f"{href}: {response and response.status}"
        found[href] = serious_violations(page)
    page.context.close()
    print(f"axe: {len(found)} more admin pages: {sorted(found)}")
    assert {k: v for k, v in found.items() if v} == {}
