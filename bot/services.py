"""`Services`: the typed parts one ourvoice process runs on, built once from settings by bot.runtime.

Owns the shape only (no wiring, no I/O): entry points build it with bot.runtime.build_runtime and pass it
down to the channel services, the admin web, scheduled jobs and CLI commands. Every field has a type; there
are no string-keyed extras.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from admin.reports.settings import ReportSettings
from bot.alerts import AlertNotifier
from bot.channels.email import EmailSettings
from bot.channels.slack import SlackSettings
from bot.channels.telegram import TelegramSettings
from bot.crypto import Keyring
from bot.dispatcher import Dispatcher
from bot.features.carers import WaveSettings
from bot.features.young_people import PanelSettings
from bot.identity import IdentitySettings
from bot.notify import NotifySettings
from bot.push import PushSettings
from bot.reach import ReachSettings
from bot.safeguarding import Lexicon
from bot.settings import BotSettings
from content.loader import Library
from storage.db import Engine


class SetupError(Exception):
    """Something the operator must fix before start; the message is one clear line."""


class PasswordHasher(Protocol):
    """What the admin needs from a password hasher (argon2's PasswordHasher, or a fast one in tests)."""

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str: ...

    def verify(self, hash: str | bytes, password: str | bytes) -> bool: ...


class ReportParts(Protocol):
    """What building reports and roll-ups needs: met by Services and by the CLI's lighter
    admin.commands.wiring.ReportRuntime (report commands need no keys or channels)."""

    settings: BotSettings
    engine: Engine
    library: Library
    report_settings: ReportSettings


class RunningChannel(Protocol):
    """A channel service started inside the web app's lifespan (bot.telegram_service, bot.slack_service)."""

    started: bool

    def start(self) -> Awaitable[None]: ...

    def stop(self) -> Awaitable[None]: ...

    def wait_idle(self, timeout: float = 10.0) -> Awaitable[None]: ...


@dataclass
class Services:
    """Everything a process needs, built in one place (bot.runtime.build_runtime)."""

    settings: BotSettings
    engine: Engine
    library: Library
    keyring: Keyring
    lexicon: Lexicon
    notifier: AlertNotifier
    dispatcher: Dispatcher
    # Feature settings, read from the environment by build_runtime unless the caller passes its own.
    report_settings: ReportSettings
    wave_settings: WaveSettings
    panel_settings: PanelSettings
    # The one rule for messages sent first (quiet hours, daily cap; issue 25).
    reach_settings: ReachSettings = field(default_factory=ReachSettings)
    # Invite and link-code limits, the Telegram bot's name for deep links, the identity key's previous value.
    identity_settings: IdentitySettings = field(default_factory=IdentitySettings)
    # GOV.UK Notify: texts and emails for people who gave an address (issue 25).
    notify_settings: NotifySettings = field(default_factory=NotifySettings)
    # Web Push for the web chat: the VAPID key that signs its pings (issue 25 item 1).
    push_settings: PushSettings = field(default_factory=PushSettings)
    # Email as an outbox channel: the sender's login and each team's addresses (issue 21 item 6, issue 25).
    email_settings: EmailSettings = field(default_factory=EmailSettings)
    # What `ourvoice run` serves, and the channel settings its entry point read (None: not configured).
    channel: str = "web"
    socket_mode: bool = False
    telegram_settings: TelegramSettings | None = None
    slack_settings: SlackSettings | None = None
    password_hasher: PasswordHasher | None = None
    telegram_bot_username: str = ""
    # Clocks injected by tests; None means the wall clock.
    clock: Callable[[], datetime] | None = None
    wall_clock: Callable[[], float] | None = None
    # Channel services started with the web app ("telegram", "slack"), filled in by bot.runtime.build_app.
    running: dict[str, RunningChannel] = field(default_factory=dict)
