"""Socket Mode through Bolt's AsyncSocketModeHandler against a loopback websocket, and the acceptance runs:
`ourvoice run --channel slack` (HTTP) and `--channel slack --socket-mode` in their own processes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.runtime import Runtime, build_app
from bot.slack_service import SlackService
from storage import inbound
from storage.db import session
from tests.conftest import fixed_now
from tests.fakes.slack_api import (
    block_actions_payload,
    dm_message_event,
    event_callback,
    json_body,
    sign_slack_request,
    slash_command_form,
)
from tests.slack.conftest import APP_TOKEN, SECRET, TOKEN, SlackFake, buttons_of, slack_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def socket_service(rt: Runtime, fake: SlackFake) -> AsyncIterator[SlackService]:
    rt.channel, rt.socket_mode, rt.clock = "slack", True, fixed_now
    rt.slack_settings = slack_settings(fake, signing_secret="")
    app = build_app(rt)
    assert "/slack/events" not in {getattr(r, "path", "") for r in app.routes}  # nothing to expose
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(fake.connected.wait(), timeout=10)
        yield rt.running["slack"]


async def test_socket_mode_events_are_stored_then_acknowledged(rt: Runtime, fake: SlackFake,
                                                               socket_service: SlackService) -> None:
    (opened,) = fake.calls_to("apps.connections.open")  # with the xapp- token, on our fake
    assert opened.status == 200
    envelope = event_callback(dm_message_event("U0SOCK001", "hello"), event_id="Ev0SOCKET1")
    first = await fake.push_envelope(envelope)
    await fake.wait_for(lambda: fake.acked(first))
    await socket_service.wait_idle()
    with session(rt.engine) as s:
        assert inbound.count(s) == 1
    replies = fake.posted_messages("DU0SOCK001")
    assert len(replies) == 2 and "I'm a foster carer" in str(replies[1]["blocks"])
    # Slack redelivering the same event over the socket is acknowledged and processed once.
    again = await fake.push_envelope(envelope, retry=1)
    await fake.wait_for(lambda: fake.acked(again))
    await socket_service.wait_idle()
    assert len(fake.posted_messages("DU0SOCK001")) == 2

    # A button and a slash command over the socket too.
    message = replies[1]
    (carer,) = [b for b in buttons_of(message) if "foster carer" in b["text"]["text"]]
    press = block_actions_payload("U0SOCK001", carer["action_id"], carer["value"], channel="DU0SOCK001",
                                  message_ts=message["_ts"])
    pressed = await fake.push_envelope(press, kind="interactive")
    await fake.wait_for(lambda: fake.acked(pressed))
    command = await fake.push_envelope(slash_command_form("U0SOCK001", text="help"), kind="slash_commands")
    await fake.wait_for(lambda: fake.acked(command))
    await socket_service.wait_idle()
    with session(rt.engine) as s:
        assert inbound.count(s) == 3
    assert fake.calls_to("chat.update")[0].params["ts"] == message["_ts"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(fake: SlackFake, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "OURVOICE_SLACK_BOT_TOKEN": TOKEN,
        "OURVOICE_SLACK_API_BASE_URL": fake.api_url,
        "OURVOICE_SLACK_PER_CHANNEL_INTERVAL": "0.05",
        "OURVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'ourvoice.db'}",
        "OURVOICE_ID_HASH_KEY": "cli-test-key",
        "OURVOICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OURVOICE_INVITE_ONLY": "false",
        "OURVOICE_ALERT_SPOOL_DIR": str(tmp_path / "spool"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def run_cli(args: list[str], env: dict[str, str], tmp_path: Path) -> asyncio.subprocess.Process:
    cmd = [sys.executable, "-m", "bot", "run", "--channel", "slack", "--no-scheduler", *args]
    return await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT)


async def stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    return out.decode()


async def test_ourvoice_run_channel_slack_http(fake: SlackFake, tmp_path: Path) -> None:
    port = free_port()
    proc = await run_cli(["--port", str(port)], cli_env(fake, tmp_path, OURVOICE_SLACK_SIGNING_SECRET=SECRET),
                         tmp_path)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            body = json_body(event_callback(dm_message_event("U0CLI0001", "my secret words")))
            unsigned = await client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
            assert unsigned.status_code == 401
            resp = await client.post("/slack/events", content=body,
                                     headers={"Content-Type": "application/json", **sign_slack_request(SECRET, body)})
            assert resp.status_code == 200
        await fake.wait_for(lambda: len(fake.posted_messages("DU0CLI0001")) == 2, timeout=30)
    finally:
        log = await stop(proc)
    assert proc.returncode == 0, log[-2000:]
    assert "slack: events at" in log
    assert TOKEN not in log and SECRET not in log and "my secret words" not in log


async def test_ourvoice_run_channel_slack_socket_mode(fake: SlackFake, tmp_path: Path) -> None:
    proc = await run_cli(["--socket-mode", "--port", str(free_port())],
                         cli_env(fake, tmp_path, OURVOICE_SLACK_APP_TOKEN=APP_TOKEN), tmp_path)
    try:
        await asyncio.wait_for(fake.connected.wait(), timeout=60)
        envelope_id = await fake.push_envelope(event_callback(dm_message_event("U0CLI0002", "hello there")))
        await fake.wait_for(lambda: fake.acked(envelope_id), timeout=30)
        await fake.wait_for(lambda: len(fake.posted_messages("DU0CLI0002")) == 2, timeout=30)
    finally:
        log = await stop(proc)
    assert proc.returncode == 0, log[-2000:]
    assert "slack: Socket Mode" in log
    assert APP_TOKEN not in log and TOKEN not in log and "hello there" not in log


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--socket-mode"], {}, "OURVOICE_SLACK_APP_TOKEN is not set"),
    ([], {}, "OURVOICE_SLACK_SIGNING_SECRET is not set"),
    ([], {"OURVOICE_SLACK_STAFF_USER_MAP": "jdoe"}, "invalid setting OURVOICE_SLACK_STAFF_USER_MAP"),
])
async def test_run_refuses_to_start_with_one_clear_line(fake: SlackFake, tmp_path: Path, args: list[str],
                                                       env: dict[str, Any], says: str) -> None:
    proc = await run_cli(args, cli_env(fake, tmp_path, **env), tmp_path)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)  # it stops by itself
    log = out.decode()
    assert proc.returncode == 2, log[-2000:]
    assert says in log and "Traceback" not in log
