"""`ourvoice audit`: check the HMAC chain against its head and anchors (`verify`) and read the log (`list`,
auditors only).

`verify` exits 1 and names the entries that were changed or removed (or the end that was cut off); it shows no
log contents. It needs the audit key (OURVOICE_AUDIT_KEY, or the identity key it is derived from).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from admin.commands.auth_helper import StaffOpt, authenticate
from storage import audit

app = typer.Typer(help="The audit log: verify the chain, list entries (auditors).", no_args_is_help=True)


@contextmanager
def _engine() -> Iterator[Any]:
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine

    engine = make_engine(load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 listing every entry that was changed or removed."""
    from storage.db import session

    with _engine() as engine, session(engine) as s:
        try:
            problems = audit.verify(s)
            anchored = len(audit.anchors(s))
        except (RuntimeError, ValueError) as exc:
            typer.echo(f"cannot check the audit chain: {exc}", err=True)
            raise typer.Exit(2) from None
        total = len(audit.entries(s, limit=1))
    if problems:
        ids = sorted({p.entry_id for p in problems})
        for p in problems:
            typer.echo(f"entry {p.entry_id}: {p.reason}", err=True)
        typer.echo(f"audit chain BROKEN at entries: {', '.join(str(i) for i in ids)}", err=True)
        raise typer.Exit(1)
    typer.echo(("audit chain OK" if total else "audit chain OK (no entries yet)") + f"; {anchored} anchor(s) match")


@app.command("list")
def list_entries(
    action: Annotated[str, typer.Option(help="only this action, e.g. alert.read_text")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100000, help="how many, newest first")] = 100,
    staff: StaffOpt = "",
) -> None:
    """Print audit entries, newest first (needs an auditor's --staff credentials)."""
    from storage.db import session

    with _engine() as engine:
        authenticate(staff, roles={"auditor"}, engine=engine)
        with session(engine) as s:
            rows = audit.entries(s, limit=limit, action=action or None)
    for e in rows:
        typer.echo(
            f"{e.id:>7}  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<24} {e.action:<22} {e.target:<28} {e.detail}"
        )
