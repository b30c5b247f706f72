"""Fixtures for driving the real slack-bolt AsyncApp against the loopback Slack Web API fake: a runtime on a
throwaway database, the shared ASGI app with /slack/events, signed requests, and a person in a Slack DM."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import WSMsgType, web
from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.channels.slack import SlackSettings
from bot.runtime import Runtime, build_app, build_runtime
from bot.slack_service import SlackService
from content.loader import Library, load_library
from storage import participants, submissions
from storage.db import session
from tests.conftest import fixed_now, make_settings
from tests.fakes.slack_api import (
    FakeSlackAPI,
    block_actions_payload,
    dm_message_event,
    event_callback,
    interactive_body,
    json_body,
    sign_slack_request,
    slash_command_form,
)
from tests.support.database import copy_migrated

SECRET = "slack-signing-secret-for-tests"
TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
STAFF_CHANNEL = "CSTAFF"
URL = "/slack/events"


class SlackFake(FakeSlackAPI):
    """The suite's fake plus two things it needs: each posted message's ts (so a test can press a button on
    exactly that message) and a Socket Mode endpoint (apps.connections.open + a loopback websocket)."""

    def __init__(self) -> None:
        super().__init__()
        self.socket_frames: list[dict[str, Any]] = []  # what the client sent back (envelope acks)
        self._sockets: set[web.WebSocketResponse] = set()
        self._ws_runner: web.AppRunner | None = None
        self.ws_port = 0
        self.connected = asyncio.Event()

    async def start(self) -> None:
        await super().start()
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._ws_runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._ws_runner.setup()
        site = web.TCPSite(self._ws_runner, "127.0.0.1", 0)
        await site.start()
        self.ws_port = self._ws_runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._ws_runner is not None:
            await self._ws_runner.cleanup()
        await super().stop()

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        handlers = super()._handlers()
        handlers["apps.connections.open"] = lambda _p: {"url": f"ws://127.0.0.1:{self.ws_port}/link"}
        return handlers

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        out = super()._post_message(params)
        params["_ts"] = out["ts"]  # the recorded params are this dict: tests read the ts back
        return out

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}, "connection_info": {"app_id": "A1"}})
        self.connected.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_frames.append(json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
        return ws

    async def push_envelope(self, payload: dict[str, Any], kind: str = "events_api", retry: int = 0) -> str:
        """Send one Socket Mode envelope to every connected client; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        frame = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False,
                 "retry_attempt": retry, "retry_reason": "timeout" if retry else ""}
        for ws in list(self._sockets):
            await ws.send_json(frame)
        return envelope_id

    def acked(self, envelope_id: str) -> bool:
        return any(f.get("envelope_id") == envelope_id for f in self.socket_frames)

    def messages_to(self, *channels: str) -> list[dict[str, Any]]:
        return [m for m in self.posted_messages() if m.get("channel") in channels]


@pytest.fixture
async def fake() -> AsyncIterator[SlackFake]:
    f = SlackFake()
    await f.start()
    try:
        yield f
    finally:
        await f.stop()


@pytest.fixture
def db_dir(tmp_path: Path) -> Iterator[Path]:
    """Where the test database lives: tmpfs when there is one (these tests check behaviour, not fsync)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="ourvoice-slack-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sqlite_url(db_dir: Path, _migrated_sqlite: Path) -> str:
    return copy_migrated(_migrated_sqlite, db_dir)


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(None)


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path, library: Library) -> Iterator[Runtime]:
    # The longest the safe reply may wait for the database (5 s, not 0.8): these tests send worrying messages and
    # expect them stored and acknowledged. Under CI's load (two test workers on two cores) a flagged message's
    # step once took longer than 0.8 s, so the safe reply went first and Slack was told to deliver again, as
    # designed (tests/alerts covers that path with a locked database).
    runtime = build_runtime(make_settings(sqlite_url, tmp_path, safe_reply_within=5.0), library=library)
    yield runtime
    runtime.notifier.stop()


def slack_settings(fake: FakeSlackAPI, **overrides: Any) -> SlackSettings:
    """Fast limits for tests unless a test asks for Slack's real ones."""
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "signing_secret": SECRET,
        "app_token": APP_TOKEN,
        "api_base_url": fake.api_url,
        "staff_channel": STAFF_CHANNEL,
        "per_channel_interval": 0.0,
        "global_per_second": 10_000,
    }
    values.update(overrides)
    return SlackSettings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running(rt: Runtime, fake: FakeSlackAPI, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, SlackService]]:
    """The shared ASGI app with Slack mounted (HTTP mode), its lifespan running, and an HTTP client for it."""
    rt.channel, rt.clock, rt.slack_settings = "slack", fixed_now, slack_settings(fake, **overrides)
    app = build_app(rt)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, rt.running["slack"]


@pytest.fixture
async def slack(rt: Runtime, fake: SlackFake) -> AsyncIterator[tuple[httpx.AsyncClient, SlackService]]:
    async with running(rt, fake) as pair:
        yield pair


def signed(body: bytes, content_type: str, **sign: Any) -> dict[str, str]:
    return {"Content-Type": content_type, **sign_slack_request(SECRET, body, **sign)}


async def post_event(client: httpx.AsyncClient, envelope: dict[str, Any], **headers: str) -> httpx.Response:
    body = json_body(envelope)
    return await client.post(URL, content=body, headers={**signed(body, "application/json"), **headers})


async def post_form(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    body = urlencode(form).encode()
    return await client.post(URL, content=body, headers=signed(body, "application/x-www-form-urlencoded"))


async def post_action(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    body = interactive_body(payload)
    return await client.post(URL, content=body, headers=signed(body, "application/x-www-form-urlencoded"))


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]


class SlackUser:
    """A person in a DM with the app, talking through signed requests to /slack/events."""

    def __init__(self, client: httpx.AsyncClient, service: SlackService, fake: SlackFake, user: str) -> None:
        self.client, self.service, self.fake, self.user = client, service, fake, user
        self.dm = f"D{user}"

    async def settle(self) -> None:
        await self.service.wait_idle()

    async def say(self, text: str) -> httpx.Response:
        resp = await post_event(self.client, event_callback(dm_message_event(self.user, text)))
        await self.settle()
        return resp

    async def slash(self, text: str = "") -> httpx.Response:
        resp = await post_form(self.client, slash_command_form(self.user, text=text))
        await self.settle()
        return resp

    def messages(self) -> list[dict[str, Any]]:
        return self.fake.messages_to(self.dm, self.user)

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages()]

    def keyboard_message(self) -> dict[str, Any]:
        for m in reversed(self.messages()):
            if buttons_of(m):
                return m
        raise AssertionError("no message with buttons in this DM")

    def buttons(self) -> list[str]:
        return [b["text"]["text"] for b in buttons_of(self.keyboard_message())]

    def action_payload(self, label: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """The block_actions payload Slack would send for pressing the button whose label contains `label`."""
        message = message or self.keyboard_message()
        for b in buttons_of(message):
            if label in b["text"]["text"]:
                payload = block_actions_payload(self.user, b["action_id"], b["value"], channel=self.dm,
                                                message_ts=message["_ts"])
                payload["message"].update(text=message["text"], blocks=message["blocks"])
                payload["actions"][0]["text"] = b["text"]
                return payload
        raise AssertionError(f"no button with {label!r}; have {self.buttons()}")

    async def press(self, label: str) -> httpx.Response:
        resp = await post_action(self.client, self.action_payload(label))
        await self.settle()
        return resp


def participant_answers(rt: Runtime, user: str, flow_id: str) -> tuple[dict[str, Any], bool]:
    """(question id -> stored value, completed?) for a Slack user's participant."""
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("slack", user))
        assert found is not None, f"no participant for {user}"
        rows = submissions.answers_of(s, found[0].id, flow_id)  # type: ignore[arg-type]
        answers = {
            a.question_id: None if a.skipped else (
                rt.keyring.decrypt(a.text_enc) if a.text_enc is not None and not a.quarantined  # stored encrypted
                else a.text_value if a.text_value is not None else json.loads(a.value_json)
            )
            for _, a in rows
        }
        return answers, bool(rows) and all(sub.status == "completed" for sub, _ in rows)


def row_counts(rt: Runtime) -> dict[str, int]:
    """Rows in every table: the proof that a rejected request wrote nothing."""
    with session(rt.engine) as s:
        return {t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
                for t in SQLModel.metadata.sorted_tables}


def all_text(rt: Runtime) -> str:
    """Every string value stored in every table, joined: for 'this was never stored' checks."""
    out: list[str] = []
    with session(rt.engine) as s:
        for t in SQLModel.metadata.sorted_tables:
            for row in s.execute(select(t)).all():
                out += [str(v) for v in row if isinstance(v, str | bytes)]
    return "\n".join(out)
