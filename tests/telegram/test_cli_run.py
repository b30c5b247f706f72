"""Acceptance: `ourvoice run --channel telegram` in its own process, pointed at the loopback fake Bot API by
settings alone, and the sample flow completed by a client that only speaks the Bot API. It is one process:
it starts no child processes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.telegram_api import FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[str]:
    """The process ids of `pid`'s children right now (Linux /proc)."""
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += (task / "children").read_text().split()
        except OSError:
            continue
    return found


async def test_ourvoice_run_channel_telegram(tg: FakeBotAPI, tmp_path: Path) -> None:
    with SmtpSink() as smtp:
        await run_and_chat(tg, tmp_path, smtp)


async def run_and_chat(tg: FakeBotAPI, tmp_path: Path, smtp: SmtpSink) -> None:
    env = {
        **os.environ,
        "OURVOICE_TELEGRAM_TOKEN": tg.token,
        "OURVOICE_TELEGRAM_API_BASE_URL": tg.bot_base_url,
        "OURVOICE_TELEGRAM_PER_CHAT_INTERVAL": "0.05",
        "OURVOICE_TELEGRAM_POLL_TIMEOUT": "1",
        "OURVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'ourvoice.db'}",
        "OURVOICE_ID_HASH_KEY": "cli-test-key",
        "OURVOICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OURVOICE_INVITE_ONLY": "false",
        "OURVOICE_ALERT_SPOOL_DIR": str(tmp_path / "spool"),
        "OURVOICE_ALERT_EMAIL_TO": "safeguarding@example.org",  # the start check wants a working alert route
        "OURVOICE_SMTP_HOST": smtp.host,
        "OURVOICE_SMTP_PORT": str(smtp.port),
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram", "--port", str(free_port())]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=60)
        assert [c["command"] for c in tg.commands][:2] == ["start", "menu"]
        chat = 4711
        for text in ("/start", "3", "1", "4", "1", "done", "5", "done", "2", "Kind and patient", "yes"):
            if text.startswith("/"):
                tg.push_update(tg.command_update(chat, text))
            else:
                tg.push_update(tg.text_update(chat, text))
        await tg.wait_for(
            lambda: any(m["text"].startswith("Thanks, that's really useful") for m in tg.sent_messages(chat)),
            timeout=60,
        )
        await tg.wait_for(lambda: tg.sent_messages(chat)[-1]["text"].endswith("What would you like to do today?"))
        assert children(proc.pid) == []  # dispatcher and sender run inside this one process
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = out.decode()
    assert proc.returncode == 0, log[-2000:]
    assert "telegram: long polling" in log
    assert tg.token not in log  # no token in the logs (httpx would print request URLs)
    assert "Kind and patient" not in log  # nor anything anyone wrote
