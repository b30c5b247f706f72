"""The wired runtime for CLI commands: settings, database, keys and content, disposed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer


@contextmanager
def runtime() -> Iterator[Any]:
    """The runtime from settings; exits 2 with one clear line on a set-up problem."""
    from admin.cli import load_settings
    from bot.runtime import SetupError, build_runtime

    try:
        rt = build_runtime(load_settings())
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        yield rt
    finally:
        rt.engine.dispose()
