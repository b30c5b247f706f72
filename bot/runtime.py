"""Composition root: settings -> database, content, keys, dispatcher (`Services`), then the one ASGI app.

Only entry points (the CLI, `python -m bot`) and tests import this module. Every part is wired here by
direct reference: feature effects, channel services and the admin web.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from admin.reports.settings import ReportSettings
from admin.web import app as admin_web
from bot import (
    data_copy,
    email_service,
    identity,
    notify_receipts,
    security_headers,
    slack_service,
    telegram_service,
    web_app,
    web_device,
)
from bot.alerts import AlertNotifier
from bot.channels import web
from bot.crypto import configure_audit
from bot.dispatcher import Dispatcher, DispatchResult, EffectHandler, Onboarding
from bot.effects import EFFECTS
from bot.engine import StepContext
from bot.features import events as event_features
from bot.features.carers import WaveSettings
from bot.features.young_people import PanelSettings, council_of
from bot.messages import Inbound
from bot.parts import build_keyring, build_notifier, cached_lexicon
from bot.process_role import ROLE
from bot.reach import ReachSettings
from bot.safeguarding import Lexicon, default_lexicon_path
from bot.services import Services, SetupError
from bot.settings import BotSettings, HelpNumbers
from bot.topics import open_topics
from content.loader import Library, load_library
from storage import challenges, submissions
from storage import topics as topic_store
from storage.db import Session, make_engine
from storage.health import database_ok
from storage.models import Participant

log = logging.getLogger("ourvoice.runtime")

__all__ = [
    "EFFECTS", "Runtime", "Services", "SetupError", "build_app", "build_keyring", "build_notifier",
    "build_runtime", "cached_lexicon", "topic_context",
]

Runtime = Services  # the name tests and older callers use

def topic_context(library: Library, tz: str) -> Callable[[Session, Participant, datetime], StepContext]:
    """Open topics for a participant today, honouring staff publication overrides."""

    def provide(s: Session, p: Participant, now: datetime) -> StepContext:
        def find() -> tuple[str, ...]:
            # Runs inside the step's transaction, only when the engine shows a menu or topic list (so the
            # local date is worked out here too, not on every step).
            return open_topics(
                library, audience=p.audience, band=p.band or "teen", district=p.district,
                today=now.astimezone(ZoneInfo(tz)).date(), windows=topic_store.windows(s),
            )

        def done() -> tuple[str, ...]:
            # Topics this person finished: shown as done in "Have your say", not offered as new.
            return submissions.completed_flows(s, p.id, find())  # type: ignore[arg-type]

        def count(name: str) -> int:
            if name == "backable_cards":  # the numbered list cards_browse shows in the same step
                cards = challenges.supportable(s, council=council_of(p), participant_id=p.id, limit=5)  # type: ignore[arg-type]
                return len(cards)
            return 0

        return StepContext(find_topics=find, find_done=done, find_count=count)

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
    report_settings: ReportSettings | None = None,
    wave_settings: WaveSettings | None = None,
    panel_settings: PanelSettings | None = None,
    reach_settings: ReachSettings | None = None,
) -> Services:
    """Wire every part from settings; raises SetupError or ContentInvalid with a clear message.

    Feature settings not passed in are read from the environment (OURVOICE_*) here, once."""
    keyring = build_keyring(settings)
    library = library or load_library(Path(settings.content_dir) if settings.content_dir else None)
    lexicon = lexicon or cached_lexicon(default_lexicon_path())
    engine = make_engine(settings.database_url, busy_timeout=settings.db_busy_timeout)
    configure_audit(settings)  # the audit chain's key and anchor file for this database (issue 22)
    notifier = notifier or build_notifier(settings)
    if effects is None:
        effects = {}
        for contribute in EFFECTS:
            effects.update(contribute(keyring, library, settings))
    # Invite codes (issue 5); /privacy /mydata /delete /link; the invite decides the council (issue 26).
    identity_settings = identity.IdentitySettings()
    if onboarding is None and settings.invite_only:
        onboarding = identity.invite_onboarding(keyring, settings, library, identity=identity_settings)
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
        commands={
            **identity.identity_commands(keyring, settings, library, identity=identity_settings),
            **event_features.commands(keyring, library, settings),  # /start ev_CODE, /checkin, RSVP (issue 20)
        },
        council_of=identity.chat_councils(engine, keyring, settings, library, identity=identity_settings),
    )
    return Services(
        settings, engine, library, keyring, lexicon, notifier, dispatcher,
        report_settings=report_settings or ReportSettings(),
        wave_settings=wave_settings or WaveSettings(),
        panel_settings=panel_settings or PanelSettings(),
        reach_settings=reach_settings or ReachSettings(),
        identity_settings=identity_settings,
    )


def build_app(rt: Services) -> FastAPI:
    """The one ASGI app: web chat; the channel `rt.channel` names (its webhook, and its start and stop in the
    app's lifespan); Slack for staff when configured; the admin under /admin."""
    app = FastAPI(title="ourvoice", docs_url=None, redoc_url=None, openapi_url=None)

    def handle(msg: Inbound, now: datetime) -> DispatchResult:
        return rt.dispatcher.handle(msg, now=now)

    secure = rt.settings.public_url.startswith("https://")
    security_headers.install(app, https=secure)  # nosniff, no-store, HSTS on https (issue 22)
    app.include_router(web.router(handle, secure_cookie=secure, **web_device.wiring(rt)))  # signed cookie, forget
    app.include_router(web_app.router(rt))  # manifest, service worker, pings on/off (issue 25)
    app.include_router(data_copy.router(rt))  # one-time download of a young person's copy of their data
    app.include_router(notify_receipts.router(rt))  # GOV.UK Notify's delivery receipts (bearer token)

    telegram_service.mount(app, rt)
    slack_service.mount(app, rt)
    email_service.mount(app, rt)  # review statements and staff notices by email (outbox rows)
    admin_web.mount(app, rt)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        """The database answers (SELECT 1), and this process's role: pid, polling lease, senders, scheduler;
        503 when the database is down, so a load balancer stops sending this process requests."""
        ok = database_ok(rt.engine)
        body = {"status": "ok" if ok else "database unavailable", **ROLE.report()}
        return JSONResponse(body, status_code=200 if ok else 503)

    return app
