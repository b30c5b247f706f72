"""A burst of young people answering a survey at once over Telegram, under Telegram's real limits.

`participants` people (3,000 by default: ten times a county's peak) each send /start and then answer ten
questions (age band, menu, then the sample topic by typed answers), each answering as soon as the bot's
reply reaches them. The bot is the shipping topology: ONE `ourvoice run --channel telegram` process (stock
python-telegram-bot, SQLite on disk with synchronous=FULL). The fake Bot API and the people run in another
process (bench/fake_telegram_process.py) that enforces 30 messages a second overall and one a second per
chat, answering 429 with retry_after beyond them.

Reported: p50/p95 time from a message's arrival at the (fake) Telegram to the bot's reply leaving, next to
the floor those limits impose on the same burst (`floor`: an ideal scheduler that spends no time at all
on a step), and the ratio. Goal: p95 within 1.2x the floor.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bench.fake_telegram_process import FakeBotAPIProcess
from tests.fakes.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
# /start, then ten answers: age band, menu choice, how they feel, two picks + done, one pick + done, a choice,
# a few words, and yes to sharing them.
SCRIPT = ["/start", "3", "1", "4", "1", "done", "5", "done", "2", "Kind and patient", "yes"]
PER_SECOND = 30
PER_CHAT = 1.0


def floor(
    people: int, messages: int, *, per_second: int = PER_SECOND, per_chat: float = PER_CHAT
) -> tuple[list[float], float]:
    """Latencies of an ideal scheduler under the limits: every step takes no time, each reply leaves as soon
    as the limits allow (oldest message first), and each person answers the moment a reply arrives.

    At most `per_second` replies in any one-second window, and one per `per_chat` seconds to a chat.
    Returns each message's latency and when the last reply left (the burst's shortest possible length)."""
    out: list[float] = []
    sent: deque[float] = deque()  # the last `per_second` send times
    later: list[tuple[float, float, int, int]] = []  # (may go at, arrived, chat, message no.): per-chat wait
    ready: list[tuple[float, int, int]] = []  # (arrived, chat, message no.): may go now, oldest first
    for chat in range(people):
        heapq.heappush(ready, (0.0, chat, 0))
    now = 0.0
    while ready or later:
        slot = sent[0] + 1.0 if len(sent) >= per_second else 0.0  # when the window next has room
        now = max(now, slot)
        if not ready:
            now = max(now, later[0][0])
        while later and later[0][0] <= now:
            _, arrived, chat, n = heapq.heappop(later)
            heapq.heappush(ready, (arrived, chat, n))
        arrived, chat, n = heapq.heappop(ready)
        out.append(now - arrived)
        sent.append(now)
        if len(sent) > per_second:
            sent.popleft()
        if n + 1 < messages:
            heapq.heappush(later, (now + per_chat, now, chat, n + 1))
    return out, now


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> int:
    """How many child processes `pid` has right now (Linux /proc)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += len((task / "children").read_text().split())
        except OSError:
            continue
    return total


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def _burst(participants: int, work: Path) -> dict[str, Any]:
    chats = [800_000 + i for i in range(participants)]
    expected = participants * len(SCRIPT)
    with FakeBotAPIProcess(chats, SCRIPT) as fake, SmtpSink() as smtp:
        env = {
            **os.environ,
            "OURVOICE_TELEGRAM_TOKEN": fake.token,
            "OURVOICE_TELEGRAM_API_BASE_URL": fake.bot_base_url,
            "OURVOICE_TELEGRAM_POLL_TIMEOUT": "1",
            "OURVOICE_DATABASE_URL": f"sqlite:///{work / 'ourvoice.db'}",  # on disk; synchronous=FULL
            "OURVOICE_ID_HASH_KEY": "bench-key",
            "OURVOICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "OURVOICE_INVITE_ONLY": "false",
            "OURVOICE_ALERT_SPOOL_DIR": str(work / "spool"),
            # The bot starts only with a working alert route: a loopback mail sink in this (driver) process.
            "OURVOICE_ALERT_EMAIL_TO": "safeguarding@example.org",
            "OURVOICE_SMTP_HOST": smtp.host,
            "OURVOICE_SMTP_PORT": str(smtp.port),
            "PYTHONPATH": str(ROOT),
        }
        cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram", "--port", str(_free_port())]
        with (work / "bot.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                *cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                started = time.monotonic()
                while "telegram.started" not in (work / "bot.log").read_text(errors="replace"):
                    if proc.returncode is not None or time.monotonic() - started > 120:
                        tail = (work / "bot.log").read_text(errors="replace")[-3000:]
                        raise RuntimeError("the bot did not start:\n" + tail)
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)  # polling has begun
                t0 = time.monotonic()
                fake.go()
                processes = 1
                while True:
                    await fake.wait_done(delivered=expected, timeout=5)
                    processes = max(processes, 1 + _children(proc.pid))
                    report = fake.report()
                    if report["left"] == 0:
                        break
                    if proc.returncode is not None:
                        tail = (work / "bot.log").read_text(errors="replace")[-3000:]
                        raise RuntimeError("the bot stopped during the burst:\n" + tail)
                took = time.monotonic() - t0
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        await asyncio.wait_for(proc.wait(), 60)
                    except TimeoutError:
                        proc.kill()
        alerts = len(smtp.messages)  # a message the risk check flags gets a safe reply and an alert email
    lat = report["latencies"]
    ideal, shortest = floor(participants, len(SCRIPT))
    return {
        "participants": participants,
        "messages_each": len(SCRIPT),
        "updates": len(lat),
        "replies_sent": report["delivered"],
        "extra_replies": report["extra"],
        "over_limit_429s": report["over_limit"],
        "alerts_emailed": alerts,
        "bot_processes": processes,
        "seconds": round(took, 1),
        "floor_seconds": round(shortest, 1),
        "p50_s": round(_pct(lat, 50), 2),
        "p95_s": round(_pct(lat, 95), 2),
        "floor_p50_s": round(_pct(ideal, 50), 2),
        "floor_p95_s": round(_pct(ideal, 95), 2),
        "ratio_p50": round(_pct(lat, 50) / _pct(ideal, 50), 3),
        "ratio_p95": round(_pct(lat, 95) / _pct(ideal, 95), 3),
    }


def run(participants: int = 3000) -> dict[str, Any]:
    """Run the burst once; returns the measured and floor latencies (seconds) and their ratios."""
    with tempfile.TemporaryDirectory(prefix="ourvoice-bench-", dir=str(ROOT / "var") if (ROOT / "var").is_dir()
                                     else None) as tmp:
        return asyncio.run(_burst(participants, Path(tmp)))


if __name__ == "__main__":
    import json

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    print(json.dumps(run(n)))
