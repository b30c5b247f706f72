"""`ourvoice toread`: the "To read" queue from the command line (list, show, read, alert).

Signs the staff member in and calls the same actions as the admin web (admin/actions/reading.py): the same
role and district rules, one audit row per view. The list never shows words; `show` prints them after the
audit row has committed. Never logs a young person's words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from admin.actions import reading as actions
from admin.actions.policy import ActionError, NotFound
from admin.commands.auth_helper import StaffOpt, authenticate, refuse
from admin.commands.wiring import runtime
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(help='The "To read" queue: every free-text message a person has not read yet.', no_args_is_help=True)
READERS = tuple(sorted(actions.READER_ROLES))


def _now() -> datetime:
    return datetime.now(UTC)


def _local(rt: Services, dt: datetime | None) -> str:
    return dt.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M") if dt else "-"


def _window(rt: Services) -> dict[str, str]:
    return {"within": rt.settings.review_within, "tz": rt.settings.timezone, "holidays": rt.settings.bank_holidays}


def _refused(exc: ActionError) -> typer.Exit:
    """Exit 1 for an entry that is not there (or not in your districts), 2 for any other refusal."""
    if isinstance(exc, NotFound):
        typer.echo(str(exc), err=True)
        return typer.Exit(1)
    return refuse(str(exc))


@app.command("list")
def list_entries(staff: StaffOpt = "") -> None:
    """Unread entries in your districts, highest risk first, then oldest. Never shows the words."""
    who = authenticate(staff, roles=READERS)
    now = _now()
    with runtime() as rt, session(rt.engine) as s:
        rows = actions.queue(s, who, now=now, **_window(rt))
        if not rows:
            typer.echo("nothing to read")
            return
        typer.echo(f"{'ID':>6} {'RISK':>5} {'RECEIVED':<17} {'DUE':<17} {'DISTRICT':<14} {'FLAGS':<20} FROM")
        for e in rows:
            marks = (("flagged", e.item.flagged), ("OVERDUE", e.overdue), ("escalated", bool(e.item.escalated_at)))
            flags = ",".join(f for f, on in marks if on)
            source = f"card {e.card_id}" if e.card_id else f"{e.item.flow_id}/{e.item.question_id}"
            typer.echo(
                f"{e.item.id:>6} {e.item.score:>5.2f} {_local(rt, e.item.created_at):<17} {_local(rt, e.due):<17} "
                f"{(e.item.district or '-'):<14} {flags or '-':<20} {source}"
            )


@app.command("show")
def show(entry_id: int, staff: StaffOpt = "") -> None:
    """Show one entry with the young person's words (audited: one row per view)."""
    who = authenticate(staff, roles=READERS)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                entry, words = actions.show(rt.keyring, s, who, entry_id, now=now, **_window(rt))
        except ActionError as exc:
            raise _refused(exc) from None
        e = entry.item
        typer.echo(f"Entry {e.id} ({e.status}), risk {e.score:.2f}{', flagged' if e.flagged else ''}")
        typer.echo(f"From {f'card {entry.card_id}' if entry.card_id else e.flow_id + '/' + e.question_id}, "
                   f"district {e.district or 'unknown'}")
        typer.echo(f"Received {_local(rt, e.created_at)}, to be read by {_local(rt, entry.due)}")
        if e.read_at:
            alerted = f", alert {e.alert_ref}" if e.alert_ref else ""
            typer.echo(f"Read by {e.read_by} at {_local(rt, e.read_at)}{alerted}")
        typer.echo("")
        typer.echo(words)


@app.command("read")
def read(entry_id: int, staff: StaffOpt = "") -> None:
    """Mark an entry read (audited)."""
    who = authenticate(staff, roles=READERS)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                changed = actions.mark_read(s, who, entry_id, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"entry {entry_id}: marked read" if changed else f"entry {entry_id}: already read")


@app.command("alert")
def alert(entry_id: int, staff: StaffOpt = "") -> None:
    """Turn an entry into a safeguarding alert (the duty rota gets the alert email, without the words)."""
    who = authenticate(staff, roles=READERS)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                ref = actions.to_alert(rt, s, who, entry_id, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
        rt.notifier.wait_idle(30)
        rt.notifier.stop()
    typer.echo(f"entry {entry_id}: alert {ref} raised; the duty rota has been emailed")
