"""Staff dashboard latency with N seeded responses (answers), through the ASGI app in process.

Seeds a fresh SQLite file with the reports' synthetic generator (storage.bulk underneath), runs the
`dashboard_refresh` job once (timed: it is the slow count, every 5 minutes in production), signs a manager in
and times GET /admin/ 50 times. Also times requests that find the snapshot stale and recount it themselves
(what happens if the scheduler is not running). Reports p50/p95 in milliseconds.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from admin.actions.staff import add_first_account
from admin.reports import synthetic
from bot.runtime import build_app, build_runtime
from bot.settings import BotSettings
from storage.db import session
from storage.migrate import create_missing_tables, upgrade

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PASSWORD = "a long password for timing"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[k], 1)


def _timed(client: TestClient, n: int, before=None) -> list[float]:
    out = []
    for _ in range(n):
        if before:
            before()
        t = time.perf_counter()
        resp = client.get("/admin/?period=90")
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, resp.status_code
    return out


def run(responses: int = 1_000_000, requests: int = 50) -> dict:
    """Seed `responses` answers, refresh the snapshot, then time the dashboard as served and when stale."""
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ourvoice-admin-") as tmp:
        path = Path(tmp) / "admin.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        create_missing_tables(url)
        settings = BotSettings(
            _env_file=None,
            database_url=url,
            id_hash_key="bench-key",  # type: ignore[call-arg]
            encryption_keys=Fernet.generate_key().decode(),
            alert_spool_dir=f"{tmp}/spool",
        )
        rt = build_runtime(settings)
        rt.clock = lambda: NOW
        specs = synthetic.specs_from_library(rt.library)
        t = time.perf_counter()
        with session(rt.engine) as s:
            seeded = synthetic.seed(
                s,
                specs,
                people=10_000_000,
                seed=11,
                since=NOW - timedelta(days=180),
                until=NOW,
                now=NOW,
                max_answers=responses,
            )
            add_first_account(
                s,
                username="bench",
                role="participation_manager",
                districts=(),
                password=PASSWORD,
                now=NOW,
            )
        seed_s = time.perf_counter() - t
        with sqlite3.connect(path) as con:
            con.execute("ANALYZE")
        app = build_app(rt)
        web = app.state.ourvoice_admin
        client = TestClient(app)
        with session(rt.engine) as s:
            raw = web.auth.start(s, 1, now=NOW)
        client.cookies.set("ov_admin", raw, domain="testserver.local", path="/admin")
        from admin.jobs.dashboard import refresh

        t = time.perf_counter()
        refresh(rt, now=NOW)
        refresh_s = time.perf_counter() - t
        first = _timed(client, 1)[0]
        warm = _timed(client, requests)
        clock = {"now": NOW}
        rt.clock = lambda: clock["now"]

        def stale() -> None:  # 16 minutes later each time: the snapshot is too old, the request recounts
            clock["now"] += timedelta(minutes=16)

        cold = _timed(client, max(5, requests // 10), before=stale)
        client.close()
        rt.engine.dispose()
    return {
        "responses": seeded.answers,
        "submissions": seeded.submissions,
        "people": seeded.participants,
        "seed_s": round(seed_s, 1),
        "refresh_job_s": round(refresh_s, 2),
        "first_request_ms": round(first, 1),
        "dashboard_p50_ms": _pct(warm, 50),
        "dashboard_p95_ms": _pct(warm, 95),
        "requests": requests,
        "stale_recount_p50_ms": _pct(cold, 50),
        "stale_recount_mean_ms": round(statistics.fmean(cold), 1),
        "stale_requests": len(cold),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000), indent=2))
