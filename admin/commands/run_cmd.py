"""`ourvoice run`: start the web chat (and admin) or another channel on the embedded defaults."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import typer

from content.loader import ContentInvalid


def _telegram_settings() -> Any:
    """OURVOICE_TELEGRAM_* settings, or exit with one line naming what to fix."""
    from pydantic import ValidationError

    from bot.channels.telegram import TelegramSettings

    try:
        ts = TelegramSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc") or ("setting",)
        name = "OURVOICE_TELEGRAM_" + str(loc[0]).upper()
        typer.echo(f"invalid setting {name}: {first['msg']}", err=True)
        raise typer.Exit(2) from None
    problems = ts.problems()
    if problems:
        typer.echo(problems[0], err=True)
        raise typer.Exit(2)
    return ts


def _slack_settings(channel: str, socket_mode: bool) -> Any:
    """OURVOICE_SLACK_* settings (also read for the staff channel when another channel runs), or exit with
    one line naming what to fix."""
    from pydantic import ValidationError

    from bot.channels.slack import SlackSettings

    if socket_mode and channel != "slack":
        typer.echo("--socket-mode is for --channel slack", err=True)
        raise typer.Exit(2)
    try:
        ss = SlackSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "OURVOICE_SLACK_" + str((first.get("loc") or ("setting",))[0]).upper()
        typer.echo(f"invalid setting {name}: {first['msg']}", err=True)
        raise typer.Exit(2) from None
    problems = ss.problems(socket_mode=socket_mode) if channel == "slack" else []
    if problems:
        typer.echo(problems[0], err=True)
        raise typer.Exit(2)
    return ss


def run(
    channel: str = typer.Option("web", help="web | telegram | slack"),
    host: str = typer.Option(None, help="listen address (default from OURVOICE_HOST)"),
    port: int = typer.Option(None, help="listen port (default from OURVOICE_PORT)"),
    socket_mode: bool = typer.Option(False, "--socket-mode", help="Slack: use Socket Mode instead of HTTP"),
    scheduler: bool = typer.Option(
        True, "--scheduler/--no-scheduler", help="run the scheduled jobs in this process (claims keep them run-once)"
    ),
) -> None:
    """Run ourvoice: the ASGI app with web chat and admin, plus the chosen channel."""
    import uvicorn
    from pydantic import ValidationError

    from admin.commands.settings_loader import load_settings
    from bot.runtime import SetupError, build_app, build_runtime
    from bot.settings import settings_error_line
    from storage.migrate import ensure_current

    # pid= on every line: several processes may share one log (issue 26)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s pid=%(process)d %(name)s %(message)s")
    # Process-wide settings belong here, in the entry point (issue 21 item 6), not in the modules that need them:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs request URLs; Bot API URLs hold the token
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB's timedelta durations now: else every 429 logs a warning
    if channel not in ("web", "telegram", "slack"):
        typer.echo(f"unknown channel {channel!r}: choose web, telegram or slack", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    # --host/--port win over the settings, and the admin's own-origin check follows them (issue 22, 8).
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    telegram = _telegram_settings() if channel == "telegram" else None
    slack = _slack_settings(channel, socket_mode)  # Slack channel or staff notifications (issue 10)
    try:
        ensure_current(settings.database_url)  # Alembic runs (and is imported) only when a migration is due
        rt = build_runtime(settings)
    except ContentInvalid as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        typer.echo("refusing to start: content is broken (see above)", err=True)
        raise typer.Exit(1) from None
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except ValidationError as exc:  # a feature's OURVOICE_* setting (reports, waves, panel dates)
        typer.echo(settings_error_line(exc), err=True)
        raise typer.Exit(2) from None
    from bot.alert_routes import alert_route_problem

    problem = alert_route_problem(rt.notifier, demo=settings.demo)  # a disclosure must reach a person
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(2)
    if settings.demo:
        typer.echo(f"demo mode: safeguarding alerts are listed at {settings.public_url}/admin/alerts", err=True)
    # build_app mounts what these name (e.g. Telegram's webhook and its start and stop in the lifespan).
    rt.channel = channel
    rt.socket_mode = socket_mode
    rt.telegram_settings = telegram
    rt.slack_settings = slack
    try:
        app = build_app(rt)
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    h, p = host or settings.host, port or settings.port
    typer.echo(f"ourvoice {channel} running: web chat on http://{h}:{p}/")
    if telegram is not None:
        mode = f"webhook at {telegram.webhook_target()}" if telegram.webhook_url else "long polling"
        typer.echo(f"telegram: {mode}")
    if channel == "slack":
        where = "Socket Mode" if socket_mode else f"events at {settings.public_url}/slack/events"
        typer.echo(f"slack: {where}")
    sched = None
    if scheduler:
        from admin.scheduler import build_scheduler

        sched = build_scheduler(rt, timezone=settings.timezone)
        sched.start()
        typer.echo(f"scheduler: {len(sched.get_jobs())} jobs (see `ourvoice jobs list`)")
    logging.getLogger("uvicorn.access").addFilter(NoQueryStrings())
    try:
        server = uvicorn.Server(uvicorn.Config(app, host=h, port=p, log_level="info", **proxy_options(settings)))
        links = demo_links_text() if settings.demo else ""
        if links:  # after uvicorn's own start-up lines, so the links are the last thing on the screen
            server.startup = print_after(server.startup, links)  # type: ignore[method-assign]
        # uvicorn re-raises Ctrl-C after a clean shutdown; stopping is not a failure.
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    finally:
        if sched is not None:
            sched.shutdown(wait=False)
        rt.notifier.stop()


def proxy_options(settings: Any) -> dict[str, Any]:
    """uvicorn's proxy settings from OURVOICE_TRUSTED_PROXIES: X-Forwarded-For/-Proto are believed only from
    those peers; empty (default) turns proxy headers off, whatever uvicorn's own default (loopback) says."""
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


DEMO_LINKS = Path("var/demo-links.txt")  # written by `ourvoice demo setup`


def demo_links_text() -> str:
    """The demo's invite links and admin account, framed so they stand out below the start-up logs."""
    if not DEMO_LINKS.exists():
        return ""
    body = DEMO_LINKS.read_text(encoding="utf-8").strip()
    rule = "-" * 72
    return f"{rule}\nDemo links (also in {DEMO_LINKS}):\n{body}\n{rule}" if body else ""


def print_after(startup: Callable[..., Awaitable[None]], text: str) -> Callable[..., Awaitable[None]]:
    """Wrap uvicorn's Server.startup so `text` is printed once start-up and its log lines are done."""

    async def wrapped(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        typer.echo(text)

    return wrapped


class NoQueryStrings(logging.Filter):
    """Access log lines keep the path but not the query, nor a secret in the path: `/?start=CODE` carries a
    one-use invite code and `/my-data/TOKEN` a one-time download of a young person's data."""

    def filter(self, record: logging.LogRecord) -> bool:
        from bot.identity import DATA_COPY_PATH  # loaded already by the running app

        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if "?" in path:
                path = path.split("?", 1)[0] + "?…"
            if path.startswith(DATA_COPY_PATH):
                path = DATA_COPY_PATH + "…"
            record.args = (*args[:2], path, *args[3:])
        return True
