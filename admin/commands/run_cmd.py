"""`ourvoice run`: start the web chat (and admin) or another channel on the embedded defaults."""

from __future__ import annotations

import logging

import typer

from content.loader import ContentInvalid


def run(
    channel: str = typer.Option("web", help="web | telegram | slack"),
    host: str = typer.Option(None, help="listen address (default from OURVOICE_HOST)"),
    port: int = typer.Option(None, help="listen port (default from OURVOICE_PORT)"),
    socket_mode: bool = typer.Option(False, "--socket-mode", help="Slack: use Socket Mode instead of HTTP"),
) -> None:
    """Run ourvoice: the ASGI app with web chat and admin, plus the chosen channel."""
    import uvicorn

    from admin.cli import load_settings
    from bot.runtime import SetupError, build_app, build_runtime
    from storage.migrate import upgrade

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    try:
        upgrade(settings.database_url, "head")
        rt = build_runtime(settings)
    except ContentInvalid as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        typer.echo("refusing to start: content is broken (see above)", err=True)
        raise typer.Exit(1) from None
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    app = build_app(rt)
    if channel not in ("web", "telegram", "slack"):
        typer.echo(f"unknown channel {channel!r}: choose web, telegram or slack", err=True)
        raise typer.Exit(2)
    rt.extras["channel"] = channel
    rt.extras["socket_mode"] = socket_mode
    h, p = host or settings.host, port or settings.port
    typer.echo(f"ourvoice {channel} running: web chat on http://{h}:{p}/")
    uvicorn.run(app, host=h, port=p, log_level="info")
