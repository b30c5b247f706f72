"""Kill loop: `ourvoice run --channel telegram` SIGKILLed again and again while young people are mid-topic.

Runs the shipping process for real (a subprocess on a fresh SQLite file, or a fresh schema on the PostgreSQL
server named by OURVOICE_TEST_POSTGRES_URL) against the loopback fake Bot API (tests/fakes/telegram_api.py),
served in this driver process. `--chats` people join with invite codes, then go round a topic again and
again, each answering a moment after the bot's reply reaches them. Every few seconds (`--gap`, measured
from the process's first poll) the process is killed with SIGKILL, reaped, and started again after a short
pause (`--down`), `--kills` times; the last process is then stopped cleanly once every chat has its reply.

Reported, from the fake's records and the database (it never changes either):
- updates sent / confirmed (acknowledged by a getUpdates offset) / lost (confirmed but not stored);
- stored twice (one update id in the inbound ledger more than once);
- replies sent twice: an outbox row whose text reached its chat more than once (rows sent merged are
  matched as the same merge the sender makes), and deliveries that match no row;
- stuck chats (the chat's last update never got a reply) and updates that never got one;
- reply latency (update's arrival at the fake -> first message delivered to that chat): after a restart
  (updates sent while the process was down or within 10 s of its first poll) and in steady state;
- restart to first poll (process start -> its first getUpdates) and to first send.

It prints one summary line and then the JSON. The suite does not run it (a real kill test is in
tests/test_recovery.py); `python -m bench.kill_loop --kills 40 --db sqlite` takes about six minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
AFTER_RESTART = 10.0  # seconds after a process's first poll that still count as "just after a restart"
# After joining (/start CODE, then "OK, let's go"), round the sample topic again and again: /menu (so a
# person whose script slipped is back in step), Have your say, then the topic's answers.
JOIN = ["1"]
ROUND = ["/menu", "1", "4", "1", "done", "5", "done", "2", "Kind and patient", "yes"]


@dataclass
class Sent:
    """One update a person sent, and when its first reply reached them (monotonic seconds)."""

    uid: int
    chat: int
    pushed_at: float
    reply_at: float | None = None


@dataclass
class Life:
    """One `ourvoice run` process from start to kill."""

    index: int
    pid: int
    started_at: float
    first_poll_at: float | None = None
    cpu_to_first_poll: float | None = None  # the process's own CPU seconds by then (less sensitive to load)
    first_send_at: float | None = None
    killed_at: float | None = None
    exit_code: int | None = None


@dataclass
class Delivery:
    chat: int
    text: str
    at: float


@dataclass
class People:
    """The simulated young people: each sends their next message a moment after a reply reaches them."""

    tg: Any
    codes: dict[int, str]
    rng: random.Random
    think: tuple[float, float]
    sent: list[Sent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    waiting: dict[int, Sent] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)
    stopping: bool = False

    def start(self) -> None:
        self.tg.on_delivered = self.delivered
        for chat in self.codes:
            self.say(chat)

    def script(self, chat: int, n: int) -> str:
        if n == 0:
            return f"/start {self.codes[chat]}"
        if n <= len(JOIN):
            return JOIN[n - 1]
        return ROUND[(n - 1 - len(JOIN)) % len(ROUND)]

    def say(self, chat: int) -> None:
        if self.stopping or chat in self.waiting:
            return
        n = self.steps.get(chat, 0)
        self.steps[chat] = n + 1
        text = self.script(chat, n)
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            update = self.tg.command_update(chat, command, args)
        else:
            update = self.tg.text_update(chat, text)
        uid = self.tg.push_update(update)
        self.waiting[chat] = record = Sent(uid, chat, time.monotonic())
        self.sent.append(record)

    def delivered(self, chat: int, message: dict[str, Any]) -> None:
        now = time.monotonic()
        self.deliveries.append(Delivery(chat, str(message.get("text", "")), now))
        record = self.waiting.pop(chat, None)
        if record is None:
            return  # a second message for the same update (or a repeat): the person is not waiting for it
        record.reply_at = now
        if not self.stopping:
            asyncio.get_running_loop().call_later(self.rng.uniform(*self.think), self.say, chat)


# -- the database ------------------------------------------------------------------------------------------


def fresh_database(db: str, work: Path) -> tuple[str, str | None]:
    """The database URL to use, and the PostgreSQL schema to drop afterwards (None on SQLite)."""
    if db == "sqlite":
        return f"sqlite:///{work / 'ourvoice.db'}", None
    base = os.environ.get("OURVOICE_TEST_POSTGRES_URL", "")
    if not base:
        raise SystemExit("--db postgres needs OURVOICE_TEST_POSTGRES_URL (a server this tool may add a schema to)")
    import psycopg

    schema = "killloop_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    import psycopg

    base = os.environ["OURVOICE_TEST_POSTGRES_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def invite_codes(url: str, hash_key: str, fernet_key: str, chats: list[int]) -> dict[int, str]:
    """Migrate the database and make one young person's invite per chat (as staff would)."""
    from bot.crypto import Keyring
    from bot.identity import create_invites
    from storage.db import make_engine, session
    from storage.migrate import upgrade

    upgrade(url, "head")
    engine = make_engine(url)
    try:
        with session(engine) as s:
            _, invites = create_invites(
                s, Keyring(hash_key, [fernet_key]), role="young_person", age_band="11-16", district="east",
                council=None, expires_days=30, count=len(chats), public_url="http://127.0.0.1:8000",
                bot_username="", created_by="kill-loop", now=datetime.now(UTC),
            )
            return {chat: inv.code for chat, inv in zip(chats, invites, strict=True)}
    finally:
        engine.dispose()


def read_back(url: str, hash_key: str, fernet_key: str) -> tuple[dict[str, int], dict[int, list[tuple[str, str]]]]:
    """The inbound ledger (update message id -> rows) and each chat's outbox rows in id order (its rendered
    Telegram text, status)."""
    from sqlalchemy import text

    from bot.channels.telegram import render
    from bot.crypto import Keyring
    from bot.messages import Outbound
    from storage.db import make_engine, session

    keyring = Keyring(hash_key, [fernet_key])
    engine = make_engine(url)
    try:
        with session(engine) as s:
            ledger = {
                str(mid): int(n) for mid, n in s.execute(text(
                    "SELECT message_id, count(*) FROM inbound_event WHERE channel = 'telegram' GROUP BY message_id"
                ))
            }
            rows: dict[int, list[tuple[str, str]]] = {}
            for address_enc, payload, status in s.execute(text(
                "SELECT address_enc, payload_json, status FROM outbox_message WHERE channel = 'telegram' "
                "ORDER BY id"
            )):
                if address_enc is None:
                    continue
                chat = int(keyring.decrypt(bytes(address_enc)))
                message = Outbound.from_json(json.loads(payload))
                rows.setdefault(chat, []).append((render(message)[0], str(status)))
        return ledger, rows
    finally:
        engine.dispose()


def match_deliveries(rows: list[tuple[str, str]], texts: list[str]) -> tuple[list[int], int]:
    """How many times each outbox row reached the chat, and how many deliveries match no row (the matching is
    the three-process test's, tests/support/cluster.match_deliveries: merged rows, repeats after a restart)."""
    from bot.outbox import MAX_MERGED, MERGE_SEPARATOR
    from tests.support.cluster import match_deliveries as carried_by

    carried, unmatched = carried_by([t for t, _ in rows], texts, MERGE_SEPARATOR, MAX_MERGED)
    return [len(c) for c in carried], unmatched


# -- the loop ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a running process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 3)


def _spread(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_s": _pct(values, 50), "p95_s": _pct(values, 95),
            "max_s": round(max(values), 3) if values else None}


async def kill_loop(
    *, kills: int, db: str, chats: int, gap: tuple[float, float], down: tuple[float, float], seed: int,
    think: tuple[float, float], scheduler: bool, work: Path, settle: float = 120.0,
) -> dict[str, Any]:
    from tests.fakes.smtp_sink import SmtpSink
    from tests.fakes.telegram_api import FakeBotAPI

    rng = random.Random(seed)
    url, schema = fresh_database(db, work)
    hash_key, fernet_key = "kill-loop-" + uuid.uuid4().hex, Fernet.generate_key().decode()
    chat_ids = [700_000 + i for i in range(chats)]
    lives: list[Life] = []
    try:
        codes = invite_codes(url, hash_key, fernet_key, chat_ids)
        async with FakeBotAPI() as tg:
            tg.max_long_poll = 25.0  # as Telegram: the bot's own long-poll timeout (default 25 s) applies
            people = People(tg, codes, rng, think)
            with SmtpSink() as smtp:
                env = {
                    **os.environ,
                    "OURVOICE_TELEGRAM_TOKEN": tg.token,
                    "OURVOICE_TELEGRAM_API_BASE_URL": tg.bot_base_url,
                    "OURVOICE_DATABASE_URL": url,
                    "OURVOICE_ID_HASH_KEY": hash_key,
                    "OURVOICE_ENCRYPTION_KEYS": fernet_key,
                    "OURVOICE_INVITE_ONLY": "true",
                    "OURVOICE_DEMO": "false",
                    "OURVOICE_ALERT_SPOOL_DIR": str(work / "spool"),
                    "OURVOICE_ALERT_EMAIL_TO": "safeguarding@example.org",
                    "OURVOICE_SMTP_HOST": smtp.host,
                    "OURVOICE_SMTP_PORT": str(smtp.port),
                    "PYTHONPATH": str(ROOT),
                }
                cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram", "--port", str(_free_port())]
                if not scheduler:
                    cmd.append("--no-scheduler")

                async def start() -> tuple[asyncio.subprocess.Process, Life]:
                    polls = len(tg.calls_to("getUpdates"))
                    out = (work / f"life-{len(lives):03d}.log").open("wb")
                    started = time.monotonic()
                    proc = await asyncio.create_subprocess_exec(
                        *cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                    out.close()
                    life = Life(len(lives), proc.pid, started)
                    lives.append(life)
                    deadline = started + 180  # a guard against a hang, not a speed target
                    while life.first_poll_at is None:
                        calls = tg.calls_to("getUpdates")
                        if len(calls) > polls:
                            life.first_poll_at = calls[polls].at
                            life.cpu_to_first_poll = cpu_seconds(proc.pid)
                            break
                        if proc.returncode is not None or time.monotonic() > deadline:
                            tail = (work / f"life-{life.index:03d}.log").read_text(errors="replace")[-3000:]
                            raise RuntimeError(f"ourvoice did not start polling (life {life.index}):\n{tail}")
                        await asyncio.sleep(0.005)
                    return proc, life

                proc, life = await start()
                people.start()
                for _ in range(kills):
                    await asyncio.sleep(rng.uniform(*gap))
                    if proc.returncode is not None:
                        life.exit_code = proc.returncode  # died on its own: recorded, and restarted
                    else:
                        proc.send_signal(signal.SIGKILL)
                        life.killed_at = time.monotonic()
                        await proc.wait()
                        life.exit_code = proc.returncode
                    await asyncio.sleep(rng.uniform(*down))
                    proc, life = await start()
                # Let every chat have its reply, then stop the last process cleanly (it confirms its offset).
                await asyncio.sleep(AFTER_RESTART)
                people.stopping = True
                deadline = time.monotonic() + settle
                while (people.waiting or tg.pending_updates()) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
                quiet_from = time.monotonic()
                while time.monotonic() - max(quiet_from, people.deliveries[-1].at) < 3.0:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)  # any reply still queued goes out
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
                life.exit_code = proc.returncode
                offsets = [int(c.params["offset"]) for c in tg.calls_to("getUpdates")
                           if isinstance(c.params.get("offset"), int)]
                confirmed_below = max(offsets, default=0)
                sends = [d.at for d in people.deliveries]
                for x in lives:
                    x.first_send_at = next((at for at in sends if at >= x.started_at and
                                            (x.killed_at is None or at < x.killed_at)), None)
                pending = [int(u["update_id"]) for u in tg.pending_updates()]
        ledger, rows = read_back(url, hash_key, fernet_key)
    finally:
        if schema is not None:
            drop_schema(schema)
    return report(kills=kills, db=db, chats=chats, people=people, lives=lives, ledger=ledger, rows=rows,
                  confirmed_below=confirmed_below, pending=pending)


def report(
    *, kills: int, db: str, chats: int, people: People, lives: list[Life], ledger: dict[str, int],
    rows: dict[int, list[tuple[str, str]]], confirmed_below: int, pending: list[int],
) -> dict[str, Any]:
    """Everything the loop measured, as one JSON-ready dict."""
    confirmed = [s for s in people.sent if s.uid < confirmed_below]
    lost = [s.uid for s in confirmed if f"u{s.uid}" not in ledger]
    twice_stored = sum(1 for n in ledger.values() if n > 1)
    by_chat: dict[int, list[str]] = {}
    for d in people.deliveries:
        by_chat.setdefault(d.chat, []).append(d.text)
    rows_twice = extra = unmatched = never = 0
    for chat in set(by_chat) | set(rows):
        counts, stray = match_deliveries(rows.get(chat, []), by_chat.get(chat, []))
        unmatched += stray
        rows_twice += sum(1 for c in counts if c > 1)
        extra += sum(c - 1 for c in counts if c > 1)
        statuses = [status for _, status in rows.get(chat, [])]
        never += sum(1 for c, status in zip(counts, statuses, strict=True) if c == 0 and status == "sent")
    last: dict[int, Sent] = {}
    for s in people.sent:
        last[s.chat] = s
    stuck = sorted(chat for chat, s in last.items() if s.reply_at is None)
    # Windows "after a restart": from a kill to the next first poll, and AFTER_RESTART seconds beyond it.
    windows = [(prev.killed_at, nxt.first_poll_at + AFTER_RESTART) for prev, nxt in zip(lives, lives[1:], strict=False)
               if prev.killed_at is not None and nxt.first_poll_at is not None]
    outages = [(prev.killed_at, nxt.first_poll_at) for prev, nxt in zip(lives, lives[1:], strict=False)
               if prev.killed_at is not None and nxt.first_poll_at is not None]
    after, down, steady = [], [], []
    for s in people.sent:
        if s.reply_at is None:
            continue
        latency = s.reply_at - s.pushed_at
        (after if any(a <= s.pushed_at <= b for a, b in windows) else steady).append(latency)
        if any(a <= s.pushed_at <= b for a, b in outages):
            down.append(latency)
    restarted = lives[1:]
    to_poll = [x.first_poll_at - x.started_at for x in restarted if x.first_poll_at is not None]
    to_send = [x.first_send_at - x.started_at for x in restarted if x.first_send_at is not None]
    cpu = [x.cpu_to_first_poll for x in restarted if x.cpu_to_first_poll is not None]
    statuses: dict[str, int] = {}
    for chat_rows in rows.values():
        for _, status in chat_rows:
            statuses[status] = statuses.get(status, 0) + 1
    return {
        "db": db,
        "kills": sum(1 for x in lives if x.killed_at is not None),
        "kills_asked": kills,
        "exited_on_their_own": sum(1 for x in lives[:-1] if x.killed_at is None),
        "chats": chats,
        "updates_sent": len(people.sent),
        "updates_confirmed": len(confirmed),
        "updates_pending_at_end": len(pending),
        "lost": len(lost),
        "stored_twice": twice_stored,
        "replies_delivered": len(people.deliveries),
        "outbox_rows": statuses,
        "rows_delivered_twice": rows_twice,
        "extra_deliveries": extra,
        "deliveries_matching_no_row": unmatched,
        "rows_marked_sent_never_delivered": never,
        "updates_without_reply": sum(1 for s in people.sent if s.reply_at is None),
        "stuck_chats": len(stuck),
        "latency_after_restart": _spread(after),
        "latency_sent_while_down": _spread(down),
        "latency_steady": _spread(steady),
        "restart_to_first_poll": _spread(to_poll),
        "restart_to_first_send": _spread(to_send),
        "cpu_seconds_to_first_poll": _spread(cpu),
    }


def summary(r: dict[str, Any]) -> str:
    a, d, p = r["latency_after_restart"], r["latency_sent_while_down"], r["restart_to_first_poll"]
    return (
        f"kill loop {r['db']}: {r['kills']} kills, {r['updates_sent']} updates sent, {r['updates_confirmed']} "
        f"confirmed, {r['lost']} lost, {r['stored_twice']} stored twice, {r['rows_delivered_twice']} replies "
        f"sent twice, {r['stuck_chats']} stuck chats; reply after restart p50 {a['p50_s']} s p95 {a['p95_s']} s "
        f"max {a['max_s']} s (sent while down: p50 {d['p50_s']} s max {d['max_s']} s); "
        f"restart to first poll p50 {p['p50_s']} s max {p['max_s']} s "
        f"({r['cpu_seconds_to_first_poll']['p50_s']} CPU s)"
    )


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_loop", description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--gap", type=_pair, default=(3.0, 8.0), help="seconds from first poll to the kill: LOW-HIGH")
    parser.add_argument("--down", type=_pair, default=(0.0, 1.0), help="seconds dead before the restart: LOW-HIGH")
    parser.add_argument("--think", type=_pair, default=(0.2, 1.5), help="a person's pause before answering: LOW-HIGH")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--no-scheduler", action="store_true", help="run ourvoice with --no-scheduler")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (process logs, SQLite file)")
    parser.add_argument("--json-out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    # A request cut off by the kill is logged by aiohttp with a traceback; the loop expects those.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    base = ROOT / "var" if (ROOT / "var").is_dir() else None
    work = Path(tempfile.mkdtemp(prefix="ourvoice-killloop-", dir=base))
    try:
        result = asyncio.run(kill_loop(
            kills=args.kills, db=args.db, chats=args.chats, gap=args.gap, down=args.down, seed=args.seed,
            think=args.think, scheduler=not args.no_scheduler, work=work,
        ))
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory: {work}", file=sys.stderr)
    result["command"] = "python -m bench.kill_loop " + " ".join(argv if argv is not None else sys.argv[1:])
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(summary(result))
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
