"""Staff authentication for CLI commands that change things or export data.

Usage in a command module:

    from admin.commands.auth_helper import StaffOpt, authenticate

    @app.command("export")
    def export(staff: StaffOpt = "") -> None:
        who = authenticate(staff, roles={"participation_manager"})   # exits 2 when refused
        ... audit.record(s, actor=who.username, ...)

The password comes from OURVOICE_STAFF_PASSWORD or a hidden prompt; never from a command-line argument.
Failed attempts count towards the same lock-out as the web sign-in (5 per username per 15 minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from admin import services
from admin.services import Actor

PASSWORD_ENV = "OURVOICE_STAFF_PASSWORD"
StaffOpt = Annotated[
    str, typer.Option("--staff", help="your staff username (password: prompt or $OURVOICE_STAFF_PASSWORD)")
]


def read_password(prompt: str = "Password") -> str:
    """The staff password from the environment, else a hidden prompt (works with piped stdin too)."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return str(typer.prompt(prompt, hide_input=True, err=True))


def refuse(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"refused: {message}", err=True)
    return typer.Exit(code)


def authenticate(
    staff: str,
    *,
    roles: Iterable[str] | None = None,
    engine: Any = None,
    now: datetime | None = None,
    password: str | None = None,
) -> Actor:
    """Check a staff username and password (and role); returns the Actor or exits with code 2.

    `engine` defaults to the configured database; `now` to the wall clock (tests pass both).
    """
    from storage.db import make_engine, session

    if not staff.strip():
        raise refuse("this command needs --staff USERNAME (and your password)")
    own_engine = engine is None
    if own_engine:
        from admin.cli import load_settings

        engine = make_engine(load_settings().database_url)
    try:
        secret = password if password is not None else read_password(f"Password for {staff.strip()}")
        with session(engine) as s:
            result = services.check_credentials(s, staff, secret, ip="cli", now=now or datetime.now(UTC))
    finally:
        if own_engine:
            engine.dispose()
    if not result.ok or result.staff is None:
        raise refuse(
            "too many wrong passwords: wait 15 minutes"
            if result.reason == "locked"
            else "that username and password did not match"
        )
    actor = Actor.of(result.staff)
    wanted = set(roles or ())
    if wanted and actor.role not in wanted:
        raise refuse(f"a {actor.role} cannot do this (needs: {', '.join(sorted(wanted))})")
    return actor
