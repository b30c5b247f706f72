"""`ourvoice council add --file X.yaml | list` (issue 26 item 4): the councils one service runs for.

Server-side only, by design: no staff role can add a council. Staff accounts belong to one council, and an
account able to create or see other councils would be exactly the cross-council reach row-level security is
there to forbid; whoever runs this holds the database URL and the keys (the service operator). The new
council's first audit row records the addition; its first staff account is then added with
`ourvoice --council ID staff add ...` (set-up mode, as for a new deployment).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Councils this service runs for (operator only: PostgreSQL).", no_args_is_help=True)


def _engine() -> Any:
    """The configured database's engine."""
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine

    return make_engine(load_settings().database_url)


@app.command("add")
def add(file: Path = typer.Option(..., "--file", help="the council's file (schema of content/council.yaml)")) -> None:
    """Add a council from its file: districts, councils, roles, help numbers and duty contacts."""
    from bot import tenant
    from content.loader import ContentInvalid

    engine = _engine()
    try:
        council = tenant.add(engine, file.read_text(encoding="utf-8"), actor=f"operator:{getpass.getuser()}")
    except ContentInvalid as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"added council {council.id} ({council.name}); next: ourvoice --council {council.id} staff add ...")


@app.command("list")
def list_councils() -> None:
    """The councils on this service (id, name, added)."""
    from bot import tenant

    engine = _engine()
    try:
        for row in tenant.listing(engine):
            own = " (this deployment's council file)" if row.council_yaml is None else ""
            typer.echo(f"{row.id}\t{row.name}\t{row.created_at:%Y-%m-%d}{own}")
    finally:
        engine.dispose()
