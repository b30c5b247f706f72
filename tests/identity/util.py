"""Helpers for the identity tests: a runtime in invite-only mode, invites, table scans."""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.dispatcher import DispatchResult
from bot.identity import IdentitySettings, create_invites, identity_commands, invite_onboarding
from bot.messages import Inbound
from bot.runtime import Runtime, build_runtime
from content.loader import Library, load_library
from storage.db import session
from tests.conftest import make_settings
from tests.helpers import Person

BOT = "ourvoice_test_bot"


@functools.cache
def shipped_library() -> Library:
    """The shipped content, loaded once for the whole test run (it is never mutated)."""
    return load_library()


def make_rt(url: str, tmp_path: Path, **identity: object) -> Runtime:
    """A runtime in invite-only mode with explicit identity settings (no .env)."""
    settings = make_settings(url, tmp_path, invite_only=True, public_url="https://chat.example.org")
    rt = build_runtime(settings, library=shipped_library())
    ident = IdentitySettings(_env_file=None, telegram_bot_username=BOT, **identity)  # type: ignore[call-arg]
    rt.dispatcher.onboarding = invite_onboarding(rt.keyring, settings, rt.library, identity=ident)
    rt.dispatcher.commands = identity_commands(rt.keyring, settings, rt.library, identity=ident)
    return rt


def invite(
    rt: Runtime, now: datetime, *, role: str = "young_person", age: str | None = "11-16",
    district: str | None = "east", council: str | None = "ocypc", days: int = 30, count: int = 1,
) -> list[str]:
    with session(rt.engine) as s:
        _, created = create_invites(
            s, rt.keyring, role=role, age_band=age, district=district, council=council, expires_days=days,
            count=count, public_url=rt.settings.public_url, bot_username=BOT, created_by="test", now=now,
        )
    return [c.code for c in created]


class Who(Person):
    """A Person whose reply address differs from their user id (like a Telegram chat id)."""

    def __init__(
        self, dispatcher, sender: str, *, channel: str = "web", address: str = "", now: datetime
    ) -> None:
        super().__init__(dispatcher, sender, channel=channel, now=now)
        self.address = address or sender

    def _send(self, msg: Inbound) -> DispatchResult:
        return super()._send(dataclasses.replace(msg, address=self.address))


def count(rt: Runtime, model) -> int:
    with session(rt.engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def dump(rt: Runtime) -> dict[str, list[dict]]:
    """Every row of every table, as plain values."""
    out: dict[str, list[dict]] = {}
    with session(rt.engine) as s:
        for name, table in SQLModel.metadata.tables.items():
            out[name] = [dict(r) for r in s.execute(select(table)).mappings().all()]
    return out


def text_of(rows: dict[str, list[dict]]) -> str:
    """All stored values as one string (bytes decoded loosely) for 'is this anywhere?' checks."""
    parts: list[str] = []
    for table, items in rows.items():
        for r in items:
            for k, v in r.items():
                if isinstance(v, bytes | bytearray | memoryview):
                    v = bytes(v).decode("latin-1")
                parts.append(f"{table}.{k}={v}")
    return "\n".join(parts)


def code_in(text: str) -> str:
    m = re.search(r"code is ([2-9A-Z]{8})", text)
    assert m, text
    return m.group(1)
