"""ASVS V5.3 (output encoding): a young person's words shown on an admin page are escaped, and the web chat draws
every message as text, never as HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.web import STATIC
from content.loader import load_library
from storage import challenges
from storage import participants as people
from tests.admin.conftest import Admin, fresh_db, make_admin

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Admin]:
    from storage.migrate import create_missing_tables, upgrade

    template = tmp_path / "template" / "ourvoice.db"
    template.parent.mkdir()
    upgrade(f"sqlite:///{template}")
    create_missing_tables(f"sqlite:///{template}")
    a = make_admin(fresh_db(template, tmp_path), tmp_path, load_library())
    yield a
    a.client.close()
    a.rt.engine.dispose()


def test_a_card_in_a_young_persons_words_is_escaped_on_the_admin_page(admin: Admin) -> None:
    now = admin.clock.now
    with admin.db() as s:
        raiser, _ = people.create(s, key_hash="r", channel="web", address_enc=None, now=now, council="ocypc")
        card: Any = challenges.create(
            s, raised_by=raiser.id, council="ocypc", challenge=ATTACK, why=ATTACK, who_for=[], personal=False,
            quarantined=False, submission_id=None, now=now,
        )
    admin.add_staff("mgr", "participation_manager")
    client, _ = admin.client_for("mgr")
    page = client.get(f"/admin/cards/{card.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    client.close()


def test_the_chat_page_never_turns_a_message_into_html() -> None:
    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
