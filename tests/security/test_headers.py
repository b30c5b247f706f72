"""Issue 22, item 11: web chat answers repeat a young person's words, so they are never cached or sniffed;
every response carries HSTS when the public URL is https (and none over plain http)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.runtime import build_app, build_runtime
from tests.conftest import make_settings


def _client(url: str, tmp_path: Path, public_url: str) -> TestClient:
    rt = build_runtime(make_settings(url, tmp_path, public_url=public_url))
    return TestClient(build_app(rt), base_url=public_url)


@pytest.mark.parametrize("public_url", ["https://chat.example.org", "http://127.0.0.1:8000"])
def test_chat_page_and_answers_are_not_cached_or_sniffed(sqlite_url: str, tmp_path: Path, public_url: str) -> None:
    https = public_url.startswith("https")
    with _client(sqlite_url, tmp_path, public_url) as c:
        page = c.get("/")
        said = c.post("/api/chat", json={"text": "hello there", "message_id": uuid.uuid4().hex})
        asset = c.get("/static/chat/chat.js")
        health = c.get("/healthz")
        admin = c.get("/admin/login")
    for resp in (page, said):
        assert resp.status_code == 200, resp.text[:200]
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["cache-control"] == "no-store"
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in asset.headers.get("cache-control", "")  # a fixed file: no personal content
    for resp in (page, said, asset, health, admin):
        if https:
            assert resp.headers["strict-transport-security"].startswith("max-age=31536000")
        else:
            assert "strict-transport-security" not in resp.headers
