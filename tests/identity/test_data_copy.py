"""Issue 22, item 17: "a copy of my data" is a short readable summary in the chat plus a one-time link (15 minutes,
audited) to a tidy JSON file served by the web app; never a raw table dump split across chat bubbles."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.runtime import build_app
from storage.db import session
from storage.models import AuditEntry, DataCopyLink
from tests.conftest import fixed_now
from tests.identity.util import Who, invite, make_rt

NOW = fixed_now()


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path):
    runtime = make_rt(sqlite_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def _ask_for_a_copy(rt, sender: str) -> Who:
    me = Who(rt.dispatcher, sender, now=NOW)
    me.command("start", invite(rt, NOW)[0])
    me.press("OK, let's go")
    me.command("menu")
    me.press("🎉")
    me.press("😀")
    me.text("I passed my swimming badge today")
    me.press("🏆")
    me.press("Yes")
    me.command("mystuff")
    me.press("📋")
    me.press("Yes, send me a copy")
    return me


def _link(me: Who) -> str:
    m = re.search(r"https://chat\.example\.org(/my-data/[A-Za-z0-9_-]+)", me.said)
    assert m, me.said
    return m.group(1)


def _actions(rt) -> list[str]:
    with session(rt.engine) as s:
        return [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_the_chat_gets_one_short_readable_message_with_a_link(rt) -> None:
    me = _ask_for_a_copy(rt, "copy-1")
    replies = me.last
    assert len(replies) <= 2  # the summary with its link (and what comes next), not six JSON bubbles
    assert "{" not in me.said and '"participant"' not in me.said
    assert "1 answer" in me.said or "answer(s)" in me.said
    assert "works once" in me.said and "15 minutes" in me.said
    assert _actions(rt)[-1] == "data_copy.link"
    with session(rt.engine) as s:
        stored = s.execute(select(DataCopyLink)).scalar_one()
    assert _link(me).rsplit("/", 1)[1] not in stored.token_hash  # only a keyed hash of the token is kept


def test_the_link_downloads_a_tidy_json_file_once_and_each_download_is_audited(rt) -> None:
    me = _ask_for_a_copy(rt, "copy-2")
    path = _link(me)
    rt.clock = lambda: NOW + timedelta(minutes=14)
    with TestClient(build_app(rt)) as c:
        got = c.get(path)
        again = c.get(path)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/json")
    assert "attachment" in got.headers["content-disposition"]
    assert got.headers["cache-control"] == "no-store"
    data = json.loads(got.text)
    assert list(data)[:4] == ["about", "made_at", "you", "your_answers"]
    said = [a["answer"] for a in data["your_answers"]]
    assert "I passed my swimming badge today" in said
    assert data["all_records"]["participant"][0]["case_ref"] == data["you"]["code"]
    assert again.status_code == 410
    assert "swimming badge" not in again.text
    assert _actions(rt).count("data_copy.download") == 1


def test_the_link_expires_after_15_minutes(rt) -> None:
    me = _ask_for_a_copy(rt, "copy-3")
    rt.clock = lambda: NOW + timedelta(minutes=15, seconds=1)
    with TestClient(build_app(rt)) as c:
        late = c.get(_link(me))
        made_up = c.get("/my-data/not-a-real-token")
    assert late.status_code == 410
    assert made_up.status_code == 410
    assert "data_copy.download" not in _actions(rt)
