"""Settings for a CLI command: read once at the command's start, or exit with one line naming the bad setting.

Its own module (not admin/cli.py) so that command modules can read settings without importing the CLI that
registers them: that import made every command part of one big import cycle (issue 21).
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from bot.crypto import configure_audit
from bot.settings import BotSettings, settings_error_line


def load_settings() -> BotSettings:
    """Read settings or exit with one line naming the bad setting."""
    try:
        settings = BotSettings()
    except ValidationError as exc:
        typer.echo(settings_error_line(exc), err=True)
        raise typer.Exit(2) from None
    if settings.audit_key or settings.id_hash_key:
        configure_audit(settings)  # audit rows written or checked by this command are keyed (issue 22)
    return settings
