"""The wired runtime for CLI commands: settings, database, keys and content, disposed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from bot.services import Services


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
