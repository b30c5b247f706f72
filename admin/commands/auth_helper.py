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

from admin.actions import staff as staff_actions
from admin.actions.policy import Actor

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
        from admin.commands.settings_loader import load_settings

        engine = make_engine(load_settings().database_url)
    try:
        secret = password if password is not None else read_password(f"Password for {staff.strip()}")
        _enter_council_of(engine, staff)
        with session(engine) as s:
            result = staff_actions.check_credentials(s, staff, secret, ip="cli", now=now or datetime.now(UTC))
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


def _enter_council_of(engine: Any, staff: str) -> None:
    """With no --council given, the command runs for the signing-in account's council (issue 26)."""
    from bot import tenant
    from storage import tenancy

    if tenancy.explicit() is None:
        council = tenant.council_of_staff(engine, staff)
        if council is not None and council != tenancy.current():
            tenant.enter(engine, council)


def staff_accounts_exist(engine: Any = None) -> bool:
    """True once any staff account exists (before that, the CLI runs in set-up mode)."""
    from storage import staff as staff_store
    from storage.db import DatabaseUnavailable, make_engine, session

    own = engine is None
    if own:
        from admin.commands.settings_loader import load_settings

        engine = make_engine(load_settings().database_url)
    try:
        with session(engine) as s:
            return bool(staff_store.list_all(s))
    except DatabaseUnavailable:
        # Not migrated yet (or unreachable): no accounts can exist, and the command itself will
        # report any database problem in its own words.
        return False
    finally:
        if own:
            engine.dispose()


def require_staff(staff: str, *, roles: Iterable[str] | None = None) -> str:
    """Sign in a staff member for a protected command and return their username.

    Set-up mode: until the first staff account exists (`ourvoice staff add` needs no sign-in for the
    first one), commands run with the name given, and say so. After that, a password is required.
    """
    return sign_in(staff, roles=roles).username


SETUP_PREFIX = "setup:"  # audit actors in set-up mode, so they can never be mistaken for an account


def sign_in(staff: str, *, roles: Iterable[str] | None = None) -> Actor:
    """The signed-in Actor for a protected command: the same object the web builds from a session.

    In set-up mode (no staff account exists yet, so there is nobody to impersonate) the command runs as
    a set-up actor covering every district, named `setup:<name given>` (or `setup:cli`) in the audit log.
    """
    if not staff_accounts_exist():
        return Actor(f"{SETUP_PREFIX}{staff.strip() or 'cli'}", "participation_manager")
    return authenticate(staff, roles=roles)


def guarded(fn: Any, roles: Iterable[str] | None = None) -> Any:
    """Wrap a command function so it signs in `--staff` first (adding that option if missing).

    A command that declares an `actor` parameter receives the signed-in Actor there (hidden from the
    command line); otherwise a `staff` parameter receives the username.
    """
    import functools
    import inspect

    sig = inspect.signature(fn, eval_str=True)  # evaluated: Typer reads the annotations from here
    wants_actor = "actor" in sig.parameters
    has_staff = "staff" in sig.parameters
    wanted = frozenset(roles) if roles else None

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("staff") if has_staff else kwargs.pop("staff", "")
        who = sign_in(given or "", roles=wanted)
        if wants_actor:
            kwargs["actor"] = who
        if has_staff:
            kwargs["staff"] = who.username
        return fn(*args, **kwargs)

    params = [p for p in sig.parameters.values() if p.name != "actor"]
    annotations = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k != "actor"}
    if not has_staff:
        kw = inspect.Parameter.KEYWORD_ONLY
        params.append(inspect.Parameter("staff", kw, default="", annotation=StaffOpt))
        annotations["staff"] = StaffOpt
    wrapper.__annotations__ = annotations
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper


def guard(app: typer.Typer, name: str, *, roles: Iterable[str] | None = None) -> None:
    """Make an already-registered command require staff sign-in."""
    for info in app.registered_commands:
        if (info.name or info.callback.__name__.replace("_", "-")) == name:  # type: ignore[union-attr]
            info.callback = guarded(info.callback, roles)
            return
    raise ValueError(f"no command called {name!r} to protect")
