"""Composition root for the runtime: settings -> database, content, keys, dispatcher, ASGI app.

Only entry points (the CLI, `python -m bot`) and tests import this module.
"""

from __future__ import annotations

import functools
import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from bot import identity
from bot.alert_routes import demo_recipients
from bot.alerts import AlertNotifier, EmailRoute, Recipient
from bot.channels import web
from bot.crypto import Keyring
from bot.dispatcher import Dispatcher, DispatchResult, EffectHandler, Onboarding
from bot.engine import StepContext
from bot.messages import Inbound
from bot.safeguarding import Lexicon, default_lexicon_path
from bot.settings import BotSettings, HelpNumbers
from bot.topics import open_topics
from content.loader import Library, load_library
from storage.db import Engine, Session, make_engine
from storage.models import Participant

log = logging.getLogger("ourvoice.runtime")

# Feature modules that contribute effect handlers: each exposes `effects(keyring, library, settings)`
# returning {action_name: handler}. Features add one line here.
EFFECT_MODULES: tuple[str, ...] = ()
EFFECT_MODULES += ("bot.features.carers",)  # carer survey waves: "stop reminders"
EFFECT_MODULES += ("bot.identity",)  # My stuff: summary, copy, pause, link code, delete (issue 5)
EFFECT_MODULES += ("bot.features.young_people",)  # good news, review statements, challenge cards (issue 6)

# Feature modules that add routes to the shared ASGI app: each exposes `mount(app, rt)`.
ROUTE_MODULES: tuple[str, ...] = ()
ROUTE_MODULES += ("bot.telegram_service",)  # Telegram: webhook route and channel start/stop
ROUTE_MODULES += ("bot.slack_service",)  # Slack: /slack/events or Socket Mode, alert acks (issue 10)
ROUTE_MODULES += ("admin.web.app",)  # staff admin web under /admin (issue 9)


class SetupError(Exception):
    """Something the operator must fix before start; the message is one clear line."""


@dataclass
class Runtime:
    settings: BotSettings
    engine: Engine
    library: Library
    keyring: Keyring
    lexicon: Lexicon
    notifier: AlertNotifier
    dispatcher: Dispatcher
    extras: dict = field(default_factory=dict)
    # True when nothing was injected: a worker process can rebuild the same runtime from `settings`.
    from_settings: bool = False


@functools.lru_cache(maxsize=4)
def _lexicon_at(path: str, mtime_ns: int) -> Lexicon:
    return Lexicon.from_file(Path(path))


def cached_lexicon(path: Path) -> Lexicon:
    """The compiled lexicon, rebuilt only when the file changes (compiling takes a few hundred ms)."""
    return _lexicon_at(str(path), path.stat().st_mtime_ns)


def build_keyring(settings: BotSettings) -> Keyring:
    if not settings.id_hash_key:
        raise SetupError("OURVOICE_ID_HASH_KEY is not set: run `ourvoice init` to create a .env with fresh keys")
    if not settings.fernet_keys():
        raise SetupError("OURVOICE_ENCRYPTION_KEYS is not set: run `ourvoice init` to create a .env with fresh keys")
    try:
        return Keyring(settings.id_hash_key, settings.fernet_keys())
    except ValueError as exc:
        raise SetupError(f"OURVOICE_ENCRYPTION_KEYS is invalid: {exc}") from exc


def build_notifier(settings: BotSettings, extra: list[Recipient] | None = None) -> AlertNotifier:
    recipients: list[Recipient] = []
    email = EmailRoute(settings.smtp_host, settings.smtp_port, settings.alert_email_from)
    for addr in filter(None, (a.strip() for a in settings.alert_email_to.split(","))):
        recipients.append(Recipient(email, addr, level=0))
    for addr in filter(None, (a.strip() for a in settings.alert_email_escalate_to.split(","))):
        recipients.append(Recipient(email, addr, level=1))
    recipients += importlib.import_module("bot.channels.slack").staff_recipients()  # Slack staff (issue 10)
    recipients += extra or []
    if settings.demo:  # no inbox in a demo: alerts are shown in the admin and said on the console
        recipients += demo_recipients(recipients)
    return AlertNotifier(recipients)


def topic_context(library: Library, tz: str):  # noqa: ANN201 - returns a ContextProvider
    """Open topics for a participant today, honouring staff publication overrides."""
    from storage import topics as topic_store  # local: storage module owned by the topics feature

    def provide(s: Session, p: Participant, now: datetime) -> StepContext:
        def find() -> tuple[str, ...]:
            # Runs inside the step's transaction, only when the engine shows a menu or topic list (so the
            # local date is worked out here too, not on every step).
            return open_topics(
                library, audience=p.audience, band=p.band or "teen", district=p.district,
                today=now.astimezone(ZoneInfo(tz)).date(), windows=topic_store.windows(s),
            )

        return StepContext(find_topics=find)

    return provide


def build_runtime(
    settings: BotSettings,
    *,
    library: Library | None = None,
    notifier: AlertNotifier | None = None,
    onboarding: Onboarding | None = None,
    effects: dict[str, EffectHandler] | None = None,
    help_numbers: HelpNumbers | None = None,
    lexicon: Lexicon | None = None,
) -> Runtime:
    """Wire every part from settings; raises SetupError or ContentInvalid with a clear message."""
    injected = (library, notifier, onboarding, effects, help_numbers, lexicon)
    keyring = build_keyring(settings)
    library = library or load_library(Path(settings.content_dir) if settings.content_dir else None)
    lexicon = lexicon or cached_lexicon(default_lexicon_path())
    engine = make_engine(settings.database_url, busy_timeout=settings.db_busy_timeout)
    notifier = notifier or build_notifier(settings)
    if effects is None:
        effects = {}
        for name in EFFECT_MODULES:
            effects.update(importlib.import_module(name).effects(keyring, library, settings))
    if onboarding is None and settings.invite_only:
        onboarding = identity.invite_onboarding(keyring, settings, library)  # invite codes (issue 5)
    dispatcher = Dispatcher(
        engine=engine,
        library=library,
        keyring=keyring,
        lexicon=lexicon,
        settings=settings,
        help_numbers=help_numbers or HelpNumbers(),
        notifier=notifier,
        onboarding=onboarding,
        effects=effects,
        context=topic_context(library, settings.timezone),
        commands=identity.identity_commands(keyring, settings, library),  # /privacy /mydata /delete /link
    )
    return Runtime(
        settings, engine, library, keyring, lexicon, notifier, dispatcher,
        from_settings=all(part is None for part in injected),
    )


def build_app(rt: Runtime) -> FastAPI:
    """The one ASGI app: web chat now; admin and webhooks mount here too."""
    app = FastAPI(title="ourvoice", docs_url=None, redoc_url=None, openapi_url=None)

    def handle(msg: Inbound, now: datetime) -> DispatchResult:
        return rt.dispatcher.handle(msg, now=now)

    secure = rt.settings.public_url.startswith("https://")
    app.include_router(web.router(handle, secure_cookie=secure))

    for name in ROUTE_MODULES:
        importlib.import_module(name).mount(app, rt)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
