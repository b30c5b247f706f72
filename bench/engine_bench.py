"""Inbound events/s through the dispatcher with durable SQLite commits, against a plain-sqlite3 floor.

The floor parses the same events and writes one row per answer with sqlite3, one transaction per
event, with the same durability pragmas (WAL, synchronous=FULL): the least any bot must do.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bot.messages import Inbound
from bot.runtime import build_runtime
from bot.settings import BotSettings
from storage.migrate import upgrade

# One person's path through onboarding and the sample topic, as (kind, value) events.
SCRIPT: list[tuple[str, str]] = [
    ("text", "hello"),
    ("label", "I'm 11 to 16"),
    ("label", "🗣"),
    ("label", "🙂"),
    ("label", "They listen"),
    ("label", "Done"),
    ("label", "Whether they have pets"),
    ("label", "Done"),
    ("label", "A meal I like"),
    ("text", "Someone kind who listens to me"),
    ("label", "Yes"),
]


def _dispatch_all(people: int, workdir: Path) -> tuple[int, float]:
    url = f"sqlite:///{workdir / 'engine.db'}"
    upgrade(url)
    settings = BotSettings(
        _env_file=None,
        database_url=url,
        id_hash_key="bench",
        encryption_keys=Fernet.generate_key().decode(),
        alert_spool_dir=str(workdir / "spool"),
        invite_only=False,
    )  # type: ignore[call-arg]
    rt = build_runtime(settings)
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    events = 0
    last: dict[str, list] = {}
    start = time.perf_counter()
    for step_no, (kind, value) in enumerate(SCRIPT):
        for person in range(people):
            sender = f"p{person}"
            mid = f"{sender}-{step_no}"
            if kind == "text":
                msg = Inbound("web", sender, mid, "text", text=value)
            else:
                token = next(c.token for r in last[sender] for c in r.choices if c.label.startswith(value))
                msg = Inbound("web", sender, mid, "button", payload=token)
            last[sender] = rt.dispatcher.handle(msg, now=now).replies
            events += 1
    elapsed = time.perf_counter() - start
    rt.engine.dispose()
    return events, elapsed


def _floor(events: int, workdir: Path) -> float:
    conn = sqlite3.connect(workdir / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE answer (id INTEGER PRIMARY KEY, sender TEXT, msg TEXT, value TEXT)")
    raw = [json.dumps({"sender": f"p{i % 997}", "message_id": f"m{i}", "text": "value"}) for i in range(events)]
    start = time.perf_counter()
    for line in raw:
        ev = json.loads(line)
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO answer (sender, msg, value) VALUES (?, ?, ?)", (ev["sender"], ev["message_id"], ev["text"])
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(people: int = 200) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        events, engine_s = _dispatch_all(people, work)
        floor_s = _floor(events, work)
    engine_rate = events / engine_s
    floor_rate = events / floor_s
    return {
        "events": events,
        "engine_events_per_s": round(engine_rate, 1),
        "floor_events_per_s": round(floor_rate, 1),
        "ratio_engine_to_floor": round(engine_rate / floor_rate, 3),
    }
