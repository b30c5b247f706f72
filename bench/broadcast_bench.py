"""Broadcast at the platform's limit (issue 26 item 3): "you said, we did" to 10,000 people from three processes.

A fresh PostgreSQL database (on the server named by OURVOICE_TEST_POSTGRES_URL) gets `people` young people who took
part in a topic before yesterday's Corporate Parenting Panel, each with a Telegram chat (bulk insert through
storage.bulk). Staff record one "you said, we did" line (admin.actions.reports.add_you_said, as `ourvoice report
action add` does) and the `you_said_we_did` job runs once (admin.scheduler.run_job, as `ourvoice jobs run` does),
which queues one notice per person under the one rule for messages sent first (bot/reach.py; quiet hours are
switched off for the bench so the time of day does not matter). Nothing here writes outbox rows itself.

Three real `ourvoice run --channel telegram --no-scheduler` processes, already running on that database, send
them. The fake Bot API runs in a process of its own (tests/fakes/telegram_api.py with `enforce_limits()`): at most
`limit` messages in any one-second window and one a second per chat, 429 with retry_after beyond that; and once
`storm_at` of the messages have arrived it answers every sendMessage with 429 retry_after=`retry_after` for
`storm_seconds` (a 429 storm the senders must wait out, in every process, without dropping a message).

Telegram's limit is 30 a second, so 10,000 messages take at least 333 s. The bench may scale the limit up (the
default 300/s: floor 33 s) and reports the time against the floor N/limit as a ratio (goal <= 1.05). Reported:
sent, dropped, twice, the 429s of the storm and any the limit itself caused, the most messages the fake accepted
in any one-second window, the wall time from the job's commit to the last delivery (and the first to the last
delivery), the floor, the ratio, and the same floor with the storm's unavoidable wait added.

    python -m bench broadcast                        # 10,000 people at 300/s
    python -m bench.broadcast_bench --people 10000 --limit 30   # the real limit: about six minutes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
CHAT0 = 900_000  # chat ids: CHAT0 + i
BANDS = (("junior", "super_council"), ("teen", "ocypc"), ("young_adult", "yac"))
TZ = "Europe/London"


# -- the fake Bot API in its own process --------------------------------------------------------------------------


def _serve(limit: int, storm_after: int, storm_seconds: float, retry_after: int, conn: Connection) -> None:
    """Child process: the fake with Telegram's limits and a 429 storm; answers "stats" and "final" on the pipe."""
    from tests.fakes.telegram_api import FakeBotAPI, _ApiError

    class StormyBotAPI(FakeBotAPI):
        """Refuses every sendMessage with 429 for `storm_seconds` once `storm_after` messages were delivered."""

        storm_from: float | None = None
        storm_429s = 0

        def _check_limits(self, chat_id: int) -> None:
            now = time.monotonic()
            if self.storm_from is None and storm_seconds > 0 and self.delivered >= storm_after:
                self.storm_from = now
            if self.storm_from is not None and now < self.storm_from + storm_seconds:
                self.storm_429s += 1
                raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
            super()._check_limits(chat_id)

    async def main() -> None:
        async with StormyBotAPI() as tg:
            tg.enforce_limits(per_second=limit, per_chat_interval=1.0)
            times: list[float] = []
            chats: dict[int, int] = {}

            def delivered(chat: int, _message: dict[str, Any]) -> None:
                times.append(time.monotonic())
                chats[chat] = chats.get(chat, 0) + 1

            tg.on_delivered = delivered
            conn.send((tg.bot_base_url, tg.token))
            loop = asyncio.get_running_loop()
            while (ask := await loop.run_in_executor(None, conn.recv)) != "stop":
                stats: dict[str, Any] = {"delivered": tg.delivered, "storm_429s": tg.storm_429s,
                                         "over_limit": tg.over_limit, "storm_from": tg.storm_from}
                if ask == "final":
                    stats |= {"times": times, "chats": chats}
                conn.send(stats)

    asyncio.run(main())


class FakeTelegram:
    """Context manager around the child process; `stats()` is cheap, `final()` brings every delivery time."""

    def __init__(self, limit: int, storm_after: int, storm_seconds: float, retry_after: int) -> None:
        self.args = (limit, storm_after, storm_seconds, retry_after)
        self.bot_base_url = self.token = ""
        self._conn: Connection | None = None
        self._proc: Any = None

    def __enter__(self) -> FakeTelegram:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(*self.args, child), daemon=True)
        self._proc.start()
        if not parent.poll(60):
            self._proc.kill()
            raise RuntimeError("fake Bot API process did not start")
        self.bot_base_url, self.token = parent.recv()
        self._conn = parent
        return self

    def _ask(self, what: str) -> dict[str, Any]:
        assert self._conn is not None
        self._conn.send(what)
        return dict(self._conn.recv())

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    def final(self) -> dict[str, Any]:
        return self._ask("final")

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.send("stop")
        if self._proc is not None:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()


# -- the database ------------------------------------------------------------------------------------------------


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def fresh_database() -> tuple[str, str]:
    """A new, empty database on the configured server: (its URL, its name)."""
    import psycopg

    base = os.environ.get("OURVOICE_TEST_POSTGRES_URL", "")
    if not base.startswith("postgresql"):
        raise SystemExit("the broadcast bench needs OURVOICE_TEST_POSTGRES_URL (a server it may add a database to)")
    name = "ourvoice_broadcast_" + uuid.uuid4().hex[:10]
    with psycopg.connect(_plain(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, tail = base.partition("?")
    url = head.rsplit("/", 1)[0] + "/" + name + (f"?{tail}" if tail else "")
    return url, name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(_plain(os.environ["OURVOICE_TEST_POSTGRES_URL"]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, hash_key: str, fernet_key: str, people: int, *, now: datetime, took_part_at: datetime) -> str:
    """Migrate, then bulk-insert `people` young people with a Telegram chat each who completed a topic at
    `took_part_at`; returns the topic's id."""
    from bot.crypto import Keyring
    from bot.features.young_people import taking_part_flows
    from content.loader import load_library
    from storage import bulk
    from storage.db import make_engine, session
    from storage.migrate import upgrade

    upgrade(url, "head")
    library = load_library(None)
    topic = next(f for f in taking_part_flows(library) if library.flows.get(f) is not None
                 and library.flows[f].kind == "topic")
    keyring = Keyring(hash_key, [fernet_key])
    engine = make_engine(url)
    try:
        with session(engine) as s:
            ids = bulk.next_ids(s)
            p0, i0, s0 = ids["participant"], ids["channel_identity"], ids["submission"]
            who = [BANDS[i % len(BANDS)] for i in range(people)]
            bulk.insert_many(s, "participant", (
                {"id": p0 + i, "case_ref": f"BC{i:08d}", "audience": "young_person", "band": band,
                 "district": "north", "council": council, "status": "active", "created_at": took_part_at}
                for i, (band, council) in enumerate(who)
            ))
            bulk.insert_many(s, "channel_identity", (
                {"id": i0 + i, "participant_id": p0 + i, "channel": "telegram",
                 "key_hash": keyring.identity_hash("telegram", str(CHAT0 + i)),
                 "address_enc": keyring.encrypt(str(CHAT0 + i)), "created_at": took_part_at}
                for i in range(people)
            ))
            bulk.insert_many(s, "submission", (
                {"id": s0 + i, "participant_id": p0 + i, "flow_id": topic, "run": 0, "status": "completed",
                 "mode": "chat", "audience": "young_person", "band": band, "district": "north",
                 "council": council, "shared_with_worker": False, "started_at": took_part_at,
                 "completed_at": took_part_at}
                for i, (band, council) in enumerate(who)
            ))
    finally:
        engine.dispose()
    return str(topic)


def queue_broadcast(url: str, hash_key: str, fernet_key: str, work: Path, *, panel_day: str, now: datetime,
                    said_at: datetime) -> str:
    """What staff do: one "you said, we did" line, then the job that tells everyone (it commits the notices)."""
    from admin.actions.policy import Actor
    from admin.actions.reports import add_you_said
    from admin.scheduler import JOBS, run_job
    from bot.features.young_people import PanelSettings
    from bot.reach import ReachSettings
    from bot.runtime import build_runtime
    from bot.settings import BotSettings
    from storage.db import session

    settings = BotSettings(
        _env_file=None, database_url=url, id_hash_key=hash_key, encryption_keys=fernet_key,  # type: ignore[call-arg]
        alert_spool_dir=str(work / "spool"), audit_anchor_file=str(work / "audit-anchors.log"), demo=True,
    )
    rt = build_runtime(
        settings,
        panel_settings=PanelSettings(_env_file=None, panel_dates=panel_day),  # type: ignore[call-arg]
        reach_settings=ReachSettings(_env_file=None, quiet_hours_young_person="", timezone=TZ),  # type: ignore[call-arg]
    )
    try:
        with session(rt.engine) as s:
            add_you_said(s, Actor("bench", "participation_manager"), said="The Wi-Fi in homes is too slow",
                         did="Every home now has faster broadband", now=said_at)
        job = next(j for j in JOBS if j.name == "you_said_we_did")
        return str(run_job(rt, job, now=now))
    finally:
        rt.engine.dispose()


def read_back(url: str) -> dict[str, Any]:
    """The notices' statuses, how many were marked in doubt, and how many each process sent."""
    from sqlalchemy import func, select

    from storage.db import make_engine, session
    from storage.models import OutboxMessage
    from storage.outbox import IN_DOUBT

    engine = make_engine(url)
    try:
        with session(engine) as s:
            notices = OutboxMessage.kind == "notice"  # type: ignore[arg-type]
            statuses = dict(s.execute(select(OutboxMessage.status, func.count()).where(notices)
                                      .group_by(OutboxMessage.status)).all())
            doubt = s.execute(select(func.count()).where(notices, OutboxMessage.error == IN_DOUBT)).scalar_one()
            holders = s.execute(select(OutboxMessage.claimed_by, func.count()).where(
                notices, OutboxMessage.status == "sent").group_by(OutboxMessage.claimed_by)).all()
    finally:
        engine.dispose()
    return {"statuses": {str(k): int(v) for k, v in statuses.items()}, "in_doubt": int(doubt),
            "per_holder": {str(h): int(n) for h, n in holders}}


# -- measuring ---------------------------------------------------------------------------------------------------


def most_in_a_second(times: list[float]) -> int:
    """The most deliveries in any one-second window [t, t + 1)."""
    ordered = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _broadcast(*, people: int, limit: int, processes: int, storm_at: float, storm_seconds: float,
                     retry_after: int, work: Path) -> dict[str, Any]:
    from tests.fakes.smtp_sink import SmtpSink

    url, dbname = fresh_database()
    hash_key, fernet_key = "broadcast-" + uuid.uuid4().hex, Fernet.generate_key().decode()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(TZ)).date()
    panel_day = today - timedelta(days=1)
    procs: list[asyncio.subprocess.Process] = []
    try:
        t = time.monotonic()
        topic = seed(url, hash_key, fernet_key, people, now=now, took_part_at=now - timedelta(days=3))
        seed_s = time.monotonic() - t
        storm_after = int(people * storm_at)
        with FakeTelegram(limit, storm_after, storm_seconds, retry_after) as fake, SmtpSink() as smtp:
            env = {
                **os.environ,
                "OURVOICE_TELEGRAM_TOKEN": fake.token,
                "OURVOICE_TELEGRAM_API_BASE_URL": fake.bot_base_url,
                "OURVOICE_TELEGRAM_POLL_TIMEOUT": "1",
                "OURVOICE_TELEGRAM_GLOBAL_PER_SECOND": str(limit),
                "OURVOICE_DATABASE_URL": url,
                "OURVOICE_ID_HASH_KEY": hash_key,
                "OURVOICE_ENCRYPTION_KEYS": fernet_key,
                "OURVOICE_INVITE_ONLY": "true",
                "OURVOICE_DEMO": "false",
                "OURVOICE_ALERT_SPOOL_DIR": str(work / "spool"),
                "OURVOICE_AUDIT_ANCHOR_FILE": str(work / "audit-anchors.log"),
                "OURVOICE_ALERT_EMAIL_TO": "safeguarding@example.org",
                "OURVOICE_SMTP_HOST": smtp.host,
                "OURVOICE_SMTP_PORT": str(smtp.port),
                "PYTHONPATH": str(ROOT),
            }
            for i in range(processes):
                cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram", "--port", str(_free_port()),
                       "--no-scheduler"]
                with (work / f"bot-{i}.log").open("wb") as log:
                    procs.append(await asyncio.create_subprocess_exec(
                        *cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT))
            started = time.monotonic()
            for i, proc in enumerate(procs):
                while "telegram.started" not in (work / f"bot-{i}.log").read_text(errors="replace"):
                    if proc.returncode is not None or time.monotonic() - started > 180:
                        tail = (work / f"bot-{i}.log").read_text(errors="replace")[-3000:]
                        raise RuntimeError(f"ourvoice process {i} did not start:\n{tail}")
                    await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # every sender has made its first (empty) scan
            job_started = time.monotonic()
            job = await asyncio.to_thread(
                queue_broadcast, url, hash_key, fernet_key, work, panel_day=panel_day.isoformat(), now=now,
                said_at=now - timedelta(days=2),
            )
            committed = time.monotonic()
            deadline = committed + max(120.0, 5 * people / limit)  # a guard against a hang, not a target
            while fake.stats()["delivered"] < people:
                if time.monotonic() > deadline or any(p.returncode is not None for p in procs):
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(2.0)  # anything sent twice arrives too
            final = fake.final()
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGINT)
            for proc in procs:
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
        db = read_back(url)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        drop_database(dbname)
    times: list[float] = sorted(final["times"])
    chats: dict[int, int] = {int(k): int(v) for k, v in final["chats"].items()}
    wanted = {CHAT0 + i for i in range(people)}
    floor = people / limit
    wall = (times[-1] - committed) if times else float("nan")
    pids = {str(p.pid): i for i, p in enumerate(procs)}
    shares = {f"process_{pids.get(h.split(':')[1], '?')}": n for h, n in db["per_holder"].items() if h.count(":") >= 2}
    return {
        "people": people,
        "limit_per_second": limit,
        "scaled_from": 30,
        "processes": processes,
        "job": job,
        "topic": topic,
        "seed_s": round(seed_s, 1),
        "queue_job_s": round(committed - job_started, 1),
        "sent": len(wanted & set(chats)),
        "dropped": len(wanted - set(chats)),
        "twice": sum(n - 1 for n in chats.values() if n > 1),
        "strangers": len(set(chats) - wanted),
        "outbox": db["statuses"],
        "in_doubt": db["in_doubt"],
        "per_process": shares,
        "storm": {"after_deliveries": storm_after, "seconds": storm_seconds, "retry_after": retry_after,
                  "answered_429": final["storm_429s"]},
        "over_limit_429s": final["over_limit"],
        "max_in_one_second": most_in_a_second(times),
        "wall_s": round(wall, 2),
        "first_to_last_s": round(times[-1] - times[0], 2) if times else None,
        "commit_to_first_s": round(times[0] - committed, 2) if times else None,
        "floor_s": round(floor, 2),
        "ratio": round(wall / floor, 3),
        "floor_with_storm_s": round(floor + (retry_after if storm_seconds > 0 else 0), 2),
        "ratio_with_storm": round(wall / (floor + (retry_after if storm_seconds > 0 else 0)), 3),
    }


def run(people: int = 10_000, limit: int = 300, processes: int = 3, storm_at: float = 0.4,
        storm_seconds: float = 1.0, retry_after: int = 1) -> dict[str, Any]:
    """Run the broadcast once; returns what it measured (see the module docstring)."""
    base = ROOT / "var" if (ROOT / "var").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="ourvoice-broadcast-", dir=base) as tmp:
        result = asyncio.run(_broadcast(people=people, limit=limit, processes=processes, storm_at=storm_at,
                                        storm_seconds=storm_seconds, retry_after=retry_after, work=Path(tmp)))
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared
    return result


def summary(r: dict[str, Any]) -> str:
    return (
        f"broadcast: {r['people']} people, {r['processes']} processes, limit {r['limit_per_second']}/s: sent "
        f"{r['sent']}, dropped {r['dropped']}, twice {r['twice']}, max in one second {r['max_in_one_second']}, "
        f"429 storm {r['storm']['answered_429']} answered, over-limit 429s {r['over_limit_429s']}; wall "
        f"{r['wall_s']} s, floor {r['floor_s']} s, ratio {r['ratio']} ({r['ratio_with_storm']} against the floor "
        f"plus the storm's {r['storm']['retry_after']} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=300, help="messages a second overall (Telegram: 30)")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--storm-at", type=float, default=0.4, help="share of deliveries before the 429 storm")
    parser.add_argument("--storm-seconds", type=float, default=1.0, help="0: no storm")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    result = run(people=args.people, limit=args.limit, processes=args.processes, storm_at=args.storm_at,
                 storm_seconds=args.storm_seconds, retry_after=args.retry_after)
    print(summary(result))
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = result["dropped"] == 0 and result["twice"] == 0 and result["max_in_one_second"] <= result["limit_per_second"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
