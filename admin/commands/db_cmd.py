"""`ourvoice db upgrade`: apply Alembic migrations to the configured database."""

from __future__ import annotations

import typer

app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    from admin.commands.settings_loader import load_settings
    from storage.migrate import upgrade as do_upgrade

    settings = load_settings()
    do_upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")
