"""`ourvoice staff`: add staff accounts, list them, change role/districts, pause, set passwords.

The very first account can be added without signing in (bootstrap); after that every change needs a
participation manager's --staff credentials (a password change may also be made by its owner).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from admin.actions import staff as staff_actions
from admin.actions.policy import ROLES, ActionError, parse_districts
from admin.commands.auth_helper import StaffOpt, authenticate, read_password, refuse
from storage import staff as staff_store

app = typer.Typer(help="Staff accounts for the admin web and CLI.", no_args_is_help=True)
MANAGER = {"participation_manager"}
SECOND_PASSWORD_ENV = "OURVOICE_SECOND_PASSWORD"  # the confirming manager's password, else a hidden prompt


@contextmanager
def _engine() -> Iterator[Any]:
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine

    engine = make_engine(load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _new_password(from_stdin: bool) -> str:
    """A new password from stdin (first line) or a hidden prompt asked twice."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise refuse("no password on stdin")
        return line
    return str(
        typer.prompt(
            "New password (12 characters or more)", hide_input=True, confirmation_prompt=True, err=True
        )
    )


@app.command("add")
def add(
    username: Annotated[str, typer.Option("--username", help="login name (letters, digits, . _ -)")],
    role: Annotated[str, typer.Option("--role", help=" | ".join(ROLES))],
    districts: Annotated[
        str, typer.Option("--districts", help="e.g. east,west; empty or 'all' = every district")
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
    confirm_by: Annotated[
        str,
        typer.Option(
            "--confirm-by",
            help="a second participation manager, needed to add a manager, auditor or safeguarding lead once "
            f"another manager exists (their password: prompt or ${SECOND_PASSWORD_ENV})",
        ),
    ] = "",
    staff: StaffOpt = "",
) -> None:
    """Add a staff account (the first one needs no --staff; later ones need a participation manager)."""
    with _engine() as engine:
        from storage.db import session

        with session(engine) as s:
            first = not staff_store.list_all(s)
        mine = "" if first or not staff.strip() else read_password(f"Password for {staff.strip()}")
        actor = None if first else authenticate(staff, roles=MANAGER, engine=engine, password=mine)
        try:
            wanted = parse_districts(districts)
            password = _new_password(password_stdin)
            second = _second(confirm_by)
            with session(engine) as s:
                if actor is None:
                    result = staff_actions.StaffChange(True, "", staff_actions.add_first_account(
                        s, username=username, role=role, districts=wanted, password=password, now=_now()
                    ))
                else:
                    result = staff_actions.add_staff(
                        s, actor, username=username, role=role, districts=wanted, password=password, now=_now(),
                        current_password=mine, second=second, ip="cli",
                    )
        except ActionError as exc:
            raise refuse(str(exc)) from None
    if not result.ok or result.staff is None:  # after the commit, so the failed attempt counts
        raise refuse(_WRONG_PASSWORD.get(result.reason, "too many wrong passwords: wait 15 minutes"))
    view = result.staff
    where = ", ".join(view.districts) or "all districts"
    typer.echo(f"added {view.username}: {view.role} ({where})")


def _second(confirm_by: str) -> tuple[str, str] | None:
    """(username, password) of the confirming manager named by --confirm-by (password: env or prompt)."""
    import os

    if not confirm_by.strip():
        return None
    second_pw = os.environ.get(SECOND_PASSWORD_ENV) or str(
        typer.prompt(f"Password for {confirm_by.strip()} (confirming)", hide_input=True, err=True)
    )
    return (confirm_by, second_pw)


@app.command("list")
def list_staff() -> None:
    """Every staff account with role, districts and last sign-in (no passwords, ever)."""
    from storage.db import session

    with _engine() as engine, session(engine) as s:
        rows = staff_store.list_all(s)
    if not rows:
        typer.echo("no staff accounts yet: `ourvoice staff add --username ... --role participation_manager`")
        return
    typer.echo(f"{'USERNAME':<24} {'ROLE':<22} {'DISTRICTS':<30} {'ACTIVE':<6} LAST SIGN-IN")
    for v in rows:
        last = v.last_login_at.strftime("%Y-%m-%d %H:%M") if v.last_login_at else "never"
        typer.echo(
            f"{v.username:<24} {v.role:<22} {','.join(v.districts) or 'all':<30} "
            f"{'yes' if v.active else 'no':<6} {last}"
        )


def _target(s: Any, username: str) -> Any:
    view = staff_store.by_username(s, username.strip().lower())
    if view is None:
        raise refuse(f"no staff account {username!r}", 1)
    return view


@app.command("set")
def set_cmd(
    username: str,
    role: Annotated[str, typer.Option("--role", help="new role")] = "",
    districts: Annotated[
        str, typer.Option("--districts", help="new districts ('all' = every district)")
    ] = "",
    confirm_by: Annotated[
        str,
        typer.Option(
            "--confirm-by",
            help="a second participation manager, needed to change a manager's, auditor's or safeguarding "
            f"lead's role, or to give someone one of those roles (their password: prompt or ${SECOND_PASSWORD_ENV})",
        ),
    ] = "",
    staff: StaffOpt = "",
) -> None:
    """Change someone's role or districts (participation managers only); signs them out.

    A manager's, the auditor's or a safeguarding lead's role also needs --confirm-by a second manager.
    """

    from storage.db import session

    with _engine() as engine:
        mine = read_password(f"Password for {staff.strip()}") if staff.strip() else ""
        actor = authenticate(staff, roles=MANAGER, engine=engine, password=mine)
        second = _second(confirm_by)
        try:
            with session(engine) as s:
                result = staff_actions.change_staff(
                    s,
                    actor,
                    _target(s, username).id,
                    now=_now(),
                    role=role or None,
                    districts=parse_districts(districts) if districts else None,
                    current_password=mine,
                    second=second,
                    ip="cli",
                )
        except ActionError as exc:
            raise refuse(str(exc)) from None
    if not result.ok or result.staff is None:
        raise refuse(_WRONG_PASSWORD.get(result.reason, "too many wrong passwords: wait 15 minutes"))
    view = result.staff
    typer.echo(f"{view.username}: {view.role} ({', '.join(view.districts) or 'all districts'})")


# Why a change was refused for a wrong password, by the action's reason.
_WRONG_PASSWORD = {
    "invalid": "your password did not match",
    "second_invalid": "the second manager's username and password did not match",
}


def _set_active(username: str, active: bool, staff: str) -> None:
    from storage.db import session

    with _engine() as engine:
        actor = authenticate(staff, roles=MANAGER, engine=engine)
        try:
            with session(engine) as s:
                view = staff_actions.change_staff(s, actor, _target(s, username).id, now=_now(), active=active).staff
        except ActionError as exc:
            raise refuse(str(exc)) from None
        assert view is not None  # pausing never needs a second manager, so it never waits on a password
    typer.echo(f"{view.username}: {'can sign in' if view.active else 'paused (signed out everywhere)'}")


@app.command("disable")
def disable(username: str, staff: StaffOpt = "") -> None:
    """Pause an account: it cannot sign in and its sessions end (participation managers only)."""
    _set_active(username, False, staff)


@app.command("enable")
def enable(username: str, staff: StaffOpt = "") -> None:
    """Let a paused account sign in again (participation managers only)."""
    _set_active(username, True, staff)


@app.command("passwd")
def passwd(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the new password from stdin")
    ] = False,
    confirm_by: Annotated[
        str,
        typer.Option(
            "--confirm-by",
            help="a second participation manager, needed to reset a manager's, auditor's or safeguarding "
            f"lead's password (their password: prompt or ${SECOND_PASSWORD_ENV})",
        ),
    ] = "",
    staff: StaffOpt = "",
) -> None:
    """Set a new password for USERNAME: yourself, or someone else if you are a participation manager.

    Your own current password is always asked for; a protected account also needs --confirm-by.
    """

    from storage.db import session

    with _engine() as engine:
        mine = read_password(f"Your current password ({staff.strip()})") if staff.strip() else ""
        actor = authenticate(staff, engine=engine, password=mine)
        if actor.username != username.strip().lower() and actor.role not in MANAGER:
            raise refuse("only a participation manager can set someone else's password")
        try:
            new = _new_password(password_stdin)
            second = _second(confirm_by)
            with session(engine) as s:
                result = staff_actions.set_password(
                    s, actor, _target(s, username).id, new, current_password=mine, second=second, ip="cli",
                    now=_now(),
                )
        except ActionError as exc:
            raise refuse(str(exc)) from None
    if not result.ok:
        raise refuse(_WRONG_PASSWORD.get(result.reason, "too many wrong passwords: wait 15 minutes"))
    typer.echo(f"password changed for {username.strip().lower()}; their sessions were ended")
