"""`ourvoice participant`: the data-rights requests that arrive by letter: export and erase by case ref.

Both are audited. Erasure keeps safeguarding alerts with the link to the person removed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from admin.actions.policy import Actor
from storage import audit, privacy
from storage.db import make_engine, session

app = typer.Typer(help="A participant's data: export or erase (subject-access and erasure requests).",
                  no_args_is_help=True)


def _engine():
    from admin.commands.settings_loader import load_settings

    return make_engine(load_settings().database_url)


@app.command("export")
def export(
    case_ref: str = typer.Argument(..., help="the participant's case reference, e.g. P-ABCDEFG"),
    out: Annotated[Path | None, typer.Option("--out", help="write the JSON here (default: print it)")] = None,
    *,
    actor: Actor,
) -> None:
    """Everything held about one participant, as JSON (hashes and encrypted values described, not shown)."""
    engine = _engine()
    now = datetime.now(UTC)
    try:
        with session(engine) as s:
            p = privacy.by_case_ref(s, case_ref.strip().upper())
            if p is None:
                typer.echo(f"no participant {case_ref}", err=True)
                raise typer.Exit(1)
            data = privacy.export_json(s, p.id)  # type: ignore[arg-type]
            audit.record(s, actor=actor.username, action="participant.export", target=p.case_ref, now=now)
    finally:
        engine.dispose()
    if out:
        out.write_text(data, encoding="utf-8")
        out.chmod(0o600)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(data)


@app.command("delete")
def delete(
    case_ref: str = typer.Argument(..., help="the participant's case reference"),
    yes: bool = typer.Option(False, "--yes", help="confirm: this cannot be undone"),
    *,
    actor: Actor,
) -> None:
    """Erase a participant: answers, conversation, identities, messages. Alerts stay, unlinked."""
    if not yes:
        typer.echo("this deletes everything about the participant and cannot be undone: add --yes", err=True)
        raise typer.Exit(2)
    engine = _engine()
    now = datetime.now(UTC)
    try:
        with session(engine) as s:
            p = privacy.by_case_ref(s, case_ref.strip().upper())
            if p is None:
                typer.echo(f"no participant {case_ref}", err=True)
                raise typer.Exit(1)
            ref = p.case_ref
            report = privacy.erase(s, p.id)  # type: ignore[arg-type]
            detail = " ".join(f"{k}={v}" for k, v in sorted(report.deleted.items()))
            audit.record(s, actor=actor.username, action="participant.erase", target=ref, detail=detail[:500], now=now)
    finally:
        engine.dispose()
    typer.echo(f"erased {ref}: deleted " + ", ".join(f"{v} {k}" for k, v in sorted(report.deleted.items())))
    if report.unlinked:
        kept = ", ".join(f"{v} {k}" for k, v in sorted(report.unlinked.items()))
        typer.echo(f"kept without the link to them: {kept}")
