"""GET /healthz (issue 26): the database answers and this process says what it does; a down database is 503."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from bot.runtime import build_app, build_runtime
from storage.db import make_engine
from storage.health import database_ok
from tests.conftest import make_settings


def test_health_reports_the_database_and_the_process_role(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    with TestClient(build_app(rt)) as c:
        body = c.get("/healthz")
    assert body.status_code == 200
    data = body.json()
    assert data["status"] == "ok" and data["pid"] == os.getpid()
    assert {"polling", "senders", "scheduler"} <= set(data)


def test_a_database_that_does_not_answer_is_not_ok() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")  # nothing listens on 9
    try:
        assert database_ok(engine) is False
    finally:
        engine.dispose()
