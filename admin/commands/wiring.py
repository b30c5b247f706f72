"""The wired runtime for CLI commands: settings, database, keys and content, disposed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from pydantic import ValidationError

from admin.reports.settings import ReportSettings
from bot.services import Services
from bot.settings import BotSettings
from content.loader import Library
from storage.db import Engine, make_engine


@contextmanager
def runtime() -> Iterator[Services]:
    """The Services from settings; exits 2 with one clear line on a set-up problem."""
    from admin.commands.settings_loader import load_settings
    from bot.runtime import SetupError, build_runtime
    from bot.settings import settings_error_line

    try:
        rt = build_runtime(load_settings())
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except ValidationError as exc:  # a feature's OURVOICE_* setting (reports, waves, panel dates)
        typer.echo(settings_error_line(exc), err=True)
        raise typer.Exit(2) from None
    try:
        yield rt
    finally:
        rt.engine.dispose()


@dataclass
class ReportRuntime:
    """The parts report commands and jobs use (bot.services.ReportParts), without keys or channels."""

    settings: BotSettings
    engine: Engine
    library: Library
    report_settings: ReportSettings


@contextmanager
def report_wiring() -> Iterator[ReportRuntime]:
    """Settings, database and content: what report commands and jobs need (no keys required)."""
    from admin.commands.settings_loader import load_settings
    from bot.settings import settings_error_line
    from content.loader import ContentInvalid, load_library

    settings = load_settings()
    try:
        report_settings = ReportSettings()
    except ValidationError as exc:
        typer.echo(settings_error_line(exc), err=True)
        raise typer.Exit(2) from None
    try:
        library = load_library(Path(settings.content_dir) if settings.content_dir else None)
    except ContentInvalid as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    engine = make_engine(settings.database_url)
    try:
        yield ReportRuntime(settings=settings, engine=engine, library=library, report_settings=report_settings)
    finally:
        engine.dispose()
