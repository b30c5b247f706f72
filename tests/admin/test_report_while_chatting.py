"""Reads do not block conversations: a report download draws its document after its transaction has ended, so
a young person's step commits while the document is still being rendered (issue 21).

The real admin route, the real report builder and the real dispatcher on one SQLite file; the render is held
open with a threading.Event. With the render inside the transaction, the step would wait for SQLite's write
lock until the configured busy timeout and come back as an outage.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from admin.reports import registry
from bot.messages import Inbound
from tests.admin.conftest import PASSWORD, fresh_db, make_admin

BUSY_TIMEOUT = 2.0  # seconds a writer waits for SQLite's lock before the step reports an outage
HOLD = 120.0  # the render waits at most this long to be released (never reached when the test passes)


def test_a_conversation_step_commits_while_a_report_renders(
    _template_db: Path, _shared_content: Any, tmp_path: Path, monkeypatch: Any  # noqa: PT019 - their values are used
) -> None:
    db = fresh_db(_template_db, tmp_path)
    admin = make_admin(db, tmp_path, _shared_content, db_busy_timeout=BUSY_TIMEOUT)
    try:
        admin.add_staff("mgr", "participation_manager", password=PASSWORD)
        client, csrf = admin.client_for("mgr")
        rendering, release = threading.Event(), threading.Event()
        real_render = registry.render

        def held_render(*args: Any, **kwargs: Any) -> bytes:
            rendering.set()
            release.wait(HOLD)
            return real_render(*args, **kwargs)

        monkeypatch.setattr(registry, "render", held_render)
        answer: dict[str, Any] = {}

        def download() -> None:
            answer["response"] = client.post(
                "/admin/reports/download",
                data={"report": "ocypc", "fmt": "md", "since": "2026-10-01", "until": "2026-10-31",
                      "csrf_token": csrf},
            )

        worker = threading.Thread(target=download)
        worker.start()
        try:
            assert rendering.wait(HOLD), "the report never started rendering"
            hello = Inbound("web", "reader-1", "m-1", "command", command="start", address="reader-1")
            result = admin.rt.dispatcher.handle(hello, now=admin.clock.now)
            still_rendering = not release.is_set() and worker.is_alive()
        finally:
            release.set()
            worker.join(HOLD)
        assert still_rendering  # the step finished while the document was being drawn
        assert result.stored and not result.unavailable  # ...and committed, without waiting for the lock
        assert answer["response"].status_code == 200
        assert answer["response"].content  # the report itself still arrived
    finally:
        admin.client.close()
        admin.rt.engine.dispose()
