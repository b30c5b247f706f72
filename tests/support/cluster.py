"""Several `ourvoice run` processes on one PostgreSQL database behind a round-robin proxy, under SIGKILL (issue 26).

`run_cluster(plan, work)` makes a fresh schema with invites, starts the loopback fake Bot API (tests/fakes), the
proxy (tests/support/proxy.py) and `plan.processes` real processes (webhook mode for Telegram, the web chat in every
process, the scheduler in every process with a one-second probe job: tests/multiprocess/tick.py). Simulated people
talk through the proxy: Telegram people as Telegram does (an update is POSTed to the webhook and sent again until it
is answered 200), web chat people as the page does (the same message id again until an answer comes). Each person
waits for the reply to each message, thinks a moment, then sends the next. Meanwhile a process chosen by a seeded
schedule is SIGKILLed every few seconds and started again. At the end everything is read back and `Outcome` says:

- messages acknowledged, kills;
- lost (acknowledged but not in the inbound ledger) and stored twice (one message id in the ledger more than once);
- replies sent twice, out of order, marked sent but never delivered, still pending; sent twice is split by whether
  the row was marked "in doubt" (its send had started when its process was killed: Telegram cannot be asked whether
  it arrived, so it is sent again) or not (a real fault);
- job slots run twice (from the probe's own file, not the claim table);
- the most sendMessage calls the fake accepted in any one-second window, against the limit.

Shared by tests/multiprocess/test_three_processes.py (small, in CI) and bench/multiprocess_bench.py (longer).
The pure checks (`max_per_window`, `match_deliveries`, `order_faults`) are tested on their own, so each can fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import OurvoiceProcess
from tests.support.proxy import RoundRobinProxy

# After /start CODE and "OK, let's go", round the sample topic (the kill loop's script, bench/kill_loop.py).
SCRIPT = ["1", "/menu", "1", "4", "1", "done", "5", "done", "2", "Kind and patient", "yes"]
SECRET = "multiprocess-test-secret"
WEBHOOK = "/telegram/webhook"


@dataclass(frozen=True)
class Plan:
    """What to run: people, messages each (the /start with the invite code is the first), the Telegram limit, the
    kill schedule (seeded), and the processes' settings."""

    telegram_people: int = 40
    web_people: int = 40
    messages: int = 5
    limit: int = 15  # OURVOICE_TELEGRAM_GLOBAL_PER_SECOND; the fake counts what it accepts against it
    # OURVOICE_TELEGRAM_RATE_JITTER: how late a send may reach the platform after its slot. 0.05 s (the default)
    # held on a quiet machine, not on the shared 2-core one at load average 6-10 (16 in a second at a limit of 15).
    jitter: float = 0.2
    processes: int = 3
    kill_gap: tuple[float, float] = (2.5, 4.5)  # seconds between kills
    down: tuple[float, float] = (0.0, 0.5)  # seconds a killed process stays down before its restart
    think: tuple[float, float] = (0.2, 0.8)  # a person's pause before the next message
    max_kills: int = 1000
    patience: float = 90.0  # a person gives up waiting for a reply after this long (then counted as none)
    seed: int = 26
    settle: float = 60.0  # at most this long for the last replies to leave after the last message


@dataclass
class Sent:
    """One message a person sent (Telegram: key is the update's ledger id u<update_id>; web: the message id)."""

    channel: str
    person: int
    key: str
    tries: int = 0
    acked: bool = False
    replied: bool = False


@dataclass
class Outcome:
    messages: int = 0
    acknowledged: int = 0
    telegram_messages: int = 0
    web_messages: int = 0
    kills: int = 0
    restarts: int = 0
    lost: int = 0
    stored_twice: int = 0
    no_reply: int = 0
    replies: int = 0  # Telegram reply rows
    deliveries: int = 0  # sendMessage calls accepted by the fake
    replies_sent_twice: int = 0
    sent_twice_in_doubt: int = 0  # of those, rows marked in doubt (killed mid-send): Telegram cannot say
    sent_twice_not_in_doubt: int = 0  # a fault: a row sent twice with no kill in the middle of its send
    in_doubt_rows: int = 0
    out_of_order: int = 0
    unmatched_deliveries: int = 0
    sent_never_delivered: int = 0
    still_pending: int = 0
    job_slots: int = 0
    job_slots_run_twice: int = 0
    job_processes: int = 0  # how many process ids ran some slot (every process runs the scheduler)
    max_sends_in_a_second: int = 0
    limit: int = 0
    per_chat_under_1s: int = 0  # two sends to one chat within a second (Telegram would answer 429: retried)
    web_duplicate_answers: int = 0  # a web message sent again after its answer was lost: answered from the ledger
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"messages {self.messages} (acknowledged {self.acknowledged}; Telegram {self.telegram_messages}, web "
            f"{self.web_messages}), kills {self.kills}, lost {self.lost}, duplicated {self.stored_twice}, replies "
            f"sent twice {self.replies_sent_twice} (in doubt {self.sent_twice_in_doubt}, not in doubt "
            f"{self.sent_twice_not_in_doubt}), out-of-order {self.out_of_order}, no reply {self.no_reply}, "
            f"job slots {self.job_slots} run twice {self.job_slots_run_twice} (by {self.job_processes} processes), "
            f"max sends in any second {self.max_sends_in_a_second} (limit {self.limit}), {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the pure checks -----------------------------------------------------------------------------------------


def max_per_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any half-open window [t, t + window) (the platform's count of a one-second window)."""
    ts = sorted(times)
    most, lo = 0, 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - window:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


def match_deliveries(rows: Sequence[str], texts: Sequence[str], separator: str, most: int) -> tuple[list[list[int]], int]:
    """For one chat: which deliveries (indexes into `texts`) carried each row, and how many matched no row.

    A delivery is one row's text or up to `most` consecutive rows joined by `separator` (the sender merges queued
    replies); it is matched forward from the first row not yet delivered, else backward (a repeat after a kill)."""
    carried: list[list[int]] = [[] for _ in rows]
    unmatched, nxt = 0, 0

    def fits(k: int, text: str) -> int:
        for n in range(1, most + 1):
            if k + n <= len(rows) and separator.join(rows[k : k + n]) == text:
                return n
        return 0

    for i, text in enumerate(texts):
        found = None
        for k in [*range(nxt, min(nxt + most + 2, len(rows))), *range(nxt - 1, max(-1, nxt - 50), -1)]:
            n = fits(k, text)
            if n:
                found = (k, n)
                break
        if found is None:
            unmatched += 1
            continue
        k, n = found
        for r in range(k, k + n):
            carried[r].append(i)
        nxt = max(nxt, k + n)
    return carried, unmatched


def order_faults(carried: Sequence[Sequence[int]]) -> int:
    """Rows (in the chat's row order) that first arrived before an earlier row first did: out of order."""
    faults, latest = 0, -1
    for deliveries in carried:
        if not deliveries:
            continue
        first = min(deliveries)
        if first < latest:
            faults += 1
        latest = max(latest, first)
    return faults


def twice_run(lines: Sequence[str]) -> tuple[int, int, int]:
    """From the probe job's file ("slot pid" lines): slots, slots run more than once, distinct process ids."""
    slots: Counter[str] = Counter()
    pids: set[str] = set()
    for line in lines:
        slot, _, pid = line.strip().partition(" ")
        if slot:
            slots[slot] += 1
            pids.add(pid)
    return len(slots), sum(1 for n in slots.values() if n > 1), len(pids)


# -- the database ----------------------------------------------------------------------------------------------


def fresh_schema(base: str) -> tuple[str, str]:
    """A new schema on the PostgreSQL server at `base`: (its URL, its name)."""
    import psycopg

    schema = "mp_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def prepare(url: str, hash_key: str, fernet_key: str, count: int) -> list[str]:
    """Migrate, and make `count` young people's invites as staff would; their codes."""
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
                council=None, expires_days=30, count=count, public_url="http://127.0.0.1", bot_username="",
                created_by="multiprocess-test", now=datetime.now(UTC),
            )
            return [inv.code for inv in invites]
    finally:
        engine.dispose()


@dataclass
class Stored:
    ledger: Counter[tuple[str, str]]  # (channel, message id as sent) -> rows in the inbound ledger
    rows: dict[int, list[tuple[str, str, bool]]]  # Telegram chat -> (rendered text, status, in doubt) in id order


def read_back(url: str, hash_key: str, fernet_key: str) -> Stored:
    from sqlalchemy import text

    from bot.channels.telegram.render import render
    from bot.crypto import Keyring
    from bot.messages import Outbound
    from storage.db import make_engine, session
    from storage.outbox import IN_DOUBT

    keyring = Keyring(hash_key, [fernet_key])
    engine = make_engine(url)
    try:
        with session(engine) as s:
            ledger: Counter[tuple[str, str]] = Counter()
            for channel, mid, n in s.execute(text(
                "SELECT channel, message_id, count(*) FROM inbound_event GROUP BY channel, message_id"
            )):
                # Web ids the page chose are stored behind a keyed hash of the sender ("hash:id").
                key = str(mid).rpartition(":")[2] if channel == "web" else str(mid)
                ledger[(str(channel), key)] += int(n)
            rows: dict[int, list[tuple[str, str, bool]]] = {}
            for address_enc, payload, status, error in s.execute(text(
                "SELECT address_enc, payload_json, status, error FROM outbox_message WHERE channel = 'telegram' "
                "ORDER BY id"
            )):
                if address_enc is None:
                    continue
                chat = int(keyring.decrypt(bytes(address_enc)))
                rendered = render(Outbound.from_json(json.loads(payload)))[0]
                rows.setdefault(chat, []).append((rendered, str(status), error == IN_DOUBT))
        return Stored(ledger, rows)
    finally:
        engine.dispose()


# -- the run ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Crowd:
    """The people: each sends their messages one at a time through the proxy, waiting for each reply."""

    def __init__(self, plan: Plan, tg: Any, proxy_url: str, codes: list[str], rng: random.Random) -> None:
        self.plan = plan
        self.tg = tg
        self.url = proxy_url
        self.codes = codes
        self.rng = rng
        self.sent: list[Sent] = []
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.web_duplicates = 0
        self.client = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_keepalive_connections=0))

    def script(self, code: str) -> list[str]:
        steps = [f"/start {code}"]
        while len(steps) < self.plan.messages:
            steps += SCRIPT
        return steps[: self.plan.messages]

    def delivered(self, chat: int, _message: dict[str, Any]) -> None:
        fut = self.waiting.pop(chat, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _post(self, record: Sent, path: str, **kw: Any) -> httpx.Response | None:
        """POST until answered 200 (Telegram and the chat page both send again after an error), or give up."""
        deadline = time.monotonic() + self.plan.patience
        while time.monotonic() < deadline:
            record.tries += 1
            try:
                resp = await self.client.post(self.url + path, **kw)
            except httpx.HTTPError:
                resp = None
            if resp is not None and resp.status_code == 200:
                return resp
            if resp is not None and resp.status_code in (400, 403, 413, 422):
                return None  # refused for good: not a delivery failure
            await asyncio.sleep(0.2 + self.rng.random() * 0.3)
        return None

    async def telegram_person(self, n: int, chat: int) -> None:
        loop = asyncio.get_running_loop()
        for text in self.script(self.codes[n]):
            if text.startswith("/"):
                command, _, args = text[1:].partition(" ")
                update = self.tg.command_update(chat, command, args)
            else:
                update = self.tg.text_update(chat, text)
            record = Sent("telegram", n, f"u{update['update_id']}")
            self.sent.append(record)
            reply: asyncio.Future[None] = loop.create_future()
            self.waiting[chat] = reply  # before the POST: the reply may arrive before the 200 does
            resp = await self._post(record, WEBHOOK, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            record.acked = resp is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reply, self.plan.patience)
                record.replied = True
            await asyncio.sleep(self.rng.uniform(*self.plan.think))

    async def web_person(self, n: int) -> None:
        # One address per person, as their own devices would have (the proxy is trusted to say so).
        forwarded = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.1"}
        cookie = ""
        while not cookie:
            with contextlib.suppress(httpx.HTTPError):
                cookie = (await self.client.get(self.url + "/", headers=forwarded)).cookies.get("ov_chat") or ""
            if not cookie:
                await asyncio.sleep(0.3)
        for i, text in enumerate(self.script(self.codes[n])):
            record = Sent("web", n, f"mp{n}-{i}-{uuid.uuid4().hex[:6]}")
            self.sent.append(record)
            while True:
                resp = await self._post(record, "/api/chat", json={"message_id": record.key, "text": text},
                                        headers={**forwarded, "Cookie": f"ov_chat={cookie}"})
                body = resp.json() if resp is not None else {}
                if resp is None or not body.get("retry"):
                    break
                await asyncio.sleep(0.5)  # the database was not reachable: the page sends it again
            record.acked = resp is not None and bool(body.get("stored") or body.get("duplicate"))
            record.replied = bool(body.get("replies"))
            self.web_duplicates += int(bool(body.get("duplicate")))
            if resp is not None:
                cookie = resp.cookies.get("ov_chat") or cookie
            await asyncio.sleep(self.rng.uniform(*self.plan.think))


async def run_cluster(plan: Plan, work: Path, *, base_url: str) -> Outcome:
    """Run the plan against the PostgreSQL server at `base_url` (a fresh schema, dropped after)."""
    from cryptography.fernet import Fernet

    from tests.support.telegram_process import FakeBotAPIProcess

    rng = random.Random(plan.seed)
    people = plan.telegram_people + plan.web_people
    url, schema = fresh_schema(base_url)
    hash_key, fernet_key = "mp-" + uuid.uuid4().hex, Fernet.generate_key().decode()
    tick_file = work / "ticks.txt"
    started = time.monotonic()
    outcome = Outcome(limit=plan.limit)
    procs: list[OurvoiceProcess] = []
    try:
        codes = await asyncio.to_thread(prepare, url, hash_key, fernet_key, people)
        # The fake Bot API runs in a quiet process of its own, so it stamps arrivals as Telegram would, not when a
        # busy test process gets round to them (tests/support/telegram_process.py).
        async with FakeBotAPIProcess() as tg:
            ports = [_free_port() for _ in range(plan.processes)]
            async with RoundRobinProxy(ports) as proxy:
                env = {
                    **os.environ,
                    "OURVOICE_DATABASE_URL": url,
                    "OURVOICE_ID_HASH_KEY": hash_key,
                    "OURVOICE_ENCRYPTION_KEYS": fernet_key,
                    "OURVOICE_INVITE_ONLY": "true",
                    "OURVOICE_DEMO": "true",
                    "OURVOICE_PUBLIC_URL": proxy.url,
                    "OURVOICE_TRUSTED_PROXIES": "127.0.0.1",
                    "OURVOICE_ALERT_SPOOL_DIR": str(work / "spool"),
                    "OURVOICE_AUDIT_ANCHOR_FILE": str(work / "audit-anchors.log"),
                    "OURVOICE_TELEGRAM_TOKEN": tg.token,
                    "OURVOICE_TELEGRAM_API_BASE_URL": tg.bot_base_url,
                    "OURVOICE_TELEGRAM_WEBHOOK_URL": proxy.url + WEBHOOK,
                    "OURVOICE_TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "OURVOICE_TELEGRAM_GLOBAL_PER_SECOND": str(plan.limit),
                    "OURVOICE_TELEGRAM_RATE_JITTER": str(plan.jitter),
                    "OURVOICE_TEST_TICK_FILE": str(tick_file),
                }
                procs = [OurvoiceProcess(f"p{i}", port, env, work, ["--channel", "telegram"],
                                         module="tests.multiprocess.serve") for i, port in enumerate(ports)]
                for p in procs:
                    await p.start()
                await asyncio.gather(*(p.wait_ready() for p in procs))
                crowd = Crowd(plan, tg, proxy.url, codes, rng)
                tg.on_delivered = crowd.delivered
                chats = [810_000 + i for i in range(plan.telegram_people)]
                talking = asyncio.gather(
                    *(crowd.telegram_person(i, chat) for i, chat in enumerate(chats)),
                    *(crowd.web_person(plan.telegram_people + i) for i in range(plan.web_people)),
                )
                restarts: list[asyncio.Task[None]] = []
                kill_rng = random.Random(plan.seed + 1)  # the schedule does not depend on the people's timing
                while not talking.done() and outcome.kills < plan.max_kills:
                    gap, victim, down = kill_rng.uniform(*plan.kill_gap), kill_rng.randrange(len(procs)), \
                        kill_rng.uniform(*plan.down)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(talking), gap)
                    if talking.done():
                        break
                    # Never the last one answering: a kill waits until two are up (a restart may be slow).
                    while sum(q.ready for q in procs) < 2 and not talking.done():  # noqa: ASYNC110 - polls processes
                        await asyncio.sleep(0.1)
                    if talking.done():
                        break
                    # The scheduled victim, or the next one up if it is still starting after its last kill.
                    p = next(procs[(victim + k) % len(procs)] for k in range(len(procs))
                             if procs[(victim + k) % len(procs)].ready)
                    await p.kill()
                    outcome.kills += 1

                    async def restart(p: OurvoiceProcess = p, down: float = down) -> None:
                        await asyncio.sleep(down)
                        await p.start()
                        await p.wait_ready()

                    restarts.append(asyncio.create_task(restart()))
                await talking
                await asyncio.gather(*restarts)
                outcome.restarts = len(restarts)
                await _settle(tg, url, plan.settle)
                await crowd.client.aclose()
                await asyncio.gather(*(p.stop() for p in procs))
                await tg.collect()
                sends = [c for c in tg.calls_to("sendMessage") if c.status == 200]
        stored = await asyncio.to_thread(read_back, url, hash_key, fernet_key)
    finally:
        for p in procs:
            await p.kill()
        drop_schema(base_url, schema)
    outcome.seconds = time.monotonic() - started
    _judge(outcome, crowd.sent, crowd.web_duplicates, stored, sends, tick_file)
    return outcome


async def _settle(tg: Any, url: str, seconds: float) -> None:
    """Until no Telegram reply is pending in the database and none was delivered for a second (bounded)."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    deadline = time.monotonic() + seconds

    def pending() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM outbox_message WHERE channel = 'telegram' AND status = 'pending'"
            )).scalar_one())

    try:
        while time.monotonic() < deadline:
            last = max((c.at for c in tg.calls_to("sendMessage")), default=0.0)
            if await asyncio.to_thread(pending) == 0 and time.monotonic() - last > 1.0:
                return
            await asyncio.sleep(0.2)
    finally:
        engine.dispose()


def _judge(out: Outcome, sent: list[Sent], web_duplicates: int, stored: Stored, sends: list[Any],
           tick_file: Path) -> None:
    from bot.outbox import MAX_MERGED, MERGE_SEPARATOR

    out.messages = len(sent)
    acked = [s for s in sent if s.acked]
    out.acknowledged = len(acked)
    out.telegram_messages = sum(1 for s in sent if s.channel == "telegram")
    out.web_messages = sum(1 for s in sent if s.channel == "web")
    out.lost = sum(1 for s in acked if stored.ledger[(s.channel, s.key)] == 0)
    out.stored_twice = sum(1 for n in stored.ledger.values() if n > 1)
    out.no_reply = sum(1 for s in sent if not s.replied)
    out.web_duplicate_answers = web_duplicates
    out.deliveries = len(sends)
    out.max_sends_in_a_second = max_per_window([c.at for c in sends])
    by_chat: dict[int, list[Any]] = {}
    for c in sends:
        by_chat.setdefault(int(c.params["chat_id"]), []).append(c)
    for calls in by_chat.values():
        out.per_chat_under_1s += sum(1 for a, b in zip(calls, calls[1:], strict=False) if b.at - a.at < 1.0)
    for chat in set(by_chat) | set(stored.rows):
        rows = stored.rows.get(chat, [])
        texts = [str(c.params.get("text", "")) for c in by_chat.get(chat, [])]
        carried, unmatched = match_deliveries([r[0] for r in rows], texts, MERGE_SEPARATOR, MAX_MERGED)
        out.unmatched_deliveries += unmatched
        out.out_of_order += order_faults(carried)
        out.replies += len(rows)
        for (_, status, doubt), got in zip(rows, carried, strict=True):
            out.in_doubt_rows += int(doubt)
            out.still_pending += int(status == "pending")
            out.sent_never_delivered += int(status == "sent" and not got)
            if len(got) > 1:
                out.replies_sent_twice += 1
                out.sent_twice_in_doubt += int(doubt)
                out.sent_twice_not_in_doubt += int(not doubt)
    lines = tick_file.read_text().splitlines() if tick_file.exists() else []
    out.job_slots, out.job_slots_run_twice, out.job_processes = twice_run(lines)
