"""Fixtures for driving the real python-telegram-bot stack against the loopback fake Bot API."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram import TelegramSettings
from bot.runtime import Runtime, build_runtime
from bot.telegram_service import TelegramService
from content.loader import Library, load_library
from storage import participants, submissions
from storage.db import session
from tests.conftest import fixed_now, make_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.support.database import copy_migrated

Factory = Callable[..., TelegramService]


@pytest.fixture
async def tg() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def db_dir(tmp_path: Path) -> Iterator[Path]:
    """Where the test database lives: tmpfs when there is one. These tests check order and loss, not
    fsync speed (a commit costs ~15 ms on this disk); bench/telegram_bench.py measures commits on disk.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="ourvoice-telegram-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sqlite_url(db_dir: Path, _migrated_sqlite: Path) -> str:
    return copy_migrated(_migrated_sqlite, db_dir)


@pytest.fixture(scope="session")
def library() -> Library:
    """Content is read once for the whole Telegram suite (it is not changed by any test)."""
    return load_library(None)


@pytest.fixture
def new_runtime(sqlite_url: str, tmp_path: Path, library: Library) -> Callable[[], Runtime]:
    """Build a Runtime on the test database, as a fresh process would (used again to simulate a restart)."""

    def build() -> Runtime:
        return build_runtime(make_settings(sqlite_url, tmp_path), library=library)

    return build


@pytest.fixture
def rt(new_runtime: Callable[[], Runtime]) -> Runtime:
    return new_runtime()


def tg_settings(tg: FakeBotAPI, **overrides: Any) -> TelegramSettings:
    """Fast limits for tests unless a test asks for Telegram's real ones."""
    values: dict[str, Any] = {
        "token": tg.token,
        "api_base_url": tg.bot_base_url,
        "per_chat_interval": 0.0,
        "global_per_second": 10_000,
        "poll_timeout": 1,
    }
    values.update(overrides)
    return TelegramSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def services(tg: FakeBotAPI) -> AsyncIterator[Factory]:
    """make(rt, **settings) -> a TelegramService on the fake (not started); all are stopped at the end."""
    made: list[TelegramService] = []

    def make(runtime: Runtime, **overrides: Any) -> TelegramService:
        svc = TelegramService(runtime, tg_settings(tg, **overrides), clock=fixed_now)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        if svc.started:
            await svc.stop()


async def settle(tg: FakeBotAPI, svc: TelegramService, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until every pushed update was confirmed (polling) and every reply has gone out."""
    deadline = time.monotonic() + timeout
    await tg.wait_for(lambda: not tg.pending_updates(), timeout=timeout)
    await svc.wait_idle(timeout=max(0.1, deadline - time.monotonic()))


class TgUser:
    """A person in a private chat with the bot, talking through the fake Bot API."""

    def __init__(self, tg: FakeBotAPI, chat_id: int) -> None:
        self.tg = tg
        self.chat_id = chat_id

    def say(self, text: str, **kw: Any) -> int:
        if text.startswith("/"):
            command, _, args = text.partition(" ")
            return self.tg.push_update(self.tg.command_update(self.chat_id, command, args, **kw))
        return self.tg.push_update(self.tg.text_update(self.chat_id, text, **kw))

    def keyboard_message(self) -> dict[str, Any]:
        """The bot's newest message in this chat that still has buttons."""
        for m in reversed(self.tg.bot_messages(self.chat_id)):
            if m.get("reply_markup"):
                return m
        raise AssertionError("no message with buttons in this chat")

    def buttons(self) -> list[str]:
        rows = self.keyboard_message()["reply_markup"]["inline_keyboard"]
        return [b["text"] for row in rows for b in row]

    def press(self, label_start: str) -> int:
        message = self.keyboard_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for b in row:
                if b["text"].removeprefix("✅ ").startswith(label_start):
                    update = self.tg.callback_update(
                        self.chat_id, b["callback_data"], message_id=message["message_id"]
                    )
                    return self.tg.push_update(update)
        raise AssertionError(f"no button starting {label_start!r}; have {self.buttons()}")

    def texts(self) -> list[str]:
        return [m["text"] for m in self.tg.sent_messages(self.chat_id)]


def answers(rt: Runtime, chat_id: int, flow_id: str) -> dict[str, Any]:
    """question id -> stored value for a Telegram chat's participant."""
    import json

    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("telegram", str(chat_id)))
        assert found is not None, f"no participant for chat {chat_id}"
        rows = submissions.answers_of(s, found[0].id, flow_id)  # type: ignore[arg-type]
        out: dict[str, Any] = {}
        for _, a in rows:
            value = a.text_value if a.text_value is not None else json.loads(a.value_json)
            if a.text_enc is not None and not a.quarantined:
                value = rt.keyring.decrypt(a.text_enc)  # free text is stored only encrypted (issue 22)
            out[a.question_id] = None if a.skipped else value
        return out


def completed(rt: Runtime, chat_id: int, flow_id: str) -> bool:
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("telegram", str(chat_id)))
        assert found is not None
        rows = submissions.answers_of(s, found[0].id, flow_id)  # type: ignore[arg-type]
        return bool(rows) and all(sub.status == "completed" for sub, _ in rows)


def said(rt: Runtime, chat_id: int) -> str:
    """Everything the bot committed to say in a chat (its outbox rows' texts, in order, one paragraph each)."""
    import json

    from sqlmodel import select

    from storage.models import OutboxMessage

    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("telegram", str(chat_id)))
        assert found is not None, f"no participant for chat {chat_id}"
        rows = s.exec(
            select(OutboxMessage).where(OutboxMessage.participant_id == found[0].id).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ).all()
        return "\n\n".join(json.loads(r.payload_json)["text"] for r in rows)


def delivered(tg: FakeBotAPI, chat_id: int) -> str:
    """Everything Telegram delivered to a chat, in order. The sender may join queued replies into one
    message (blank line between), so this equals `said` exactly when every reply arrived once, in order."""
    return "\n\n".join(m["text"] for m in tg.sent_messages(chat_id))
