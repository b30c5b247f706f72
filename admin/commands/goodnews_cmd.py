"""`ourvoice goodnews`: the approval queue for good news young people agreed to share (no names, ever).

Each command signs in and calls the same action as the admin web (admin/actions/approvals.py): items in the
staff member's own districts only; listing and every decision are audited once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer

from admin.actions import approvals
from admin.actions.policy import ActionError, Actor, NotFound

app = typer.Typer(help="Approve good news for the 'celebrating achievements' section.", no_args_is_help=True)


@contextmanager
def _action() -> Iterator[Any]:
    """A session for one action in one transaction; a refusal exits 2 (1 when not found) with one line."""
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine, session

    engine = make_engine(load_settings().database_url)
    try:
        with session(engine) as s:
            yield s
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1 if isinstance(exc, NotFound) else 2) from None
    finally:
        engine.dispose()


@app.command("list")
def list_items(
    status: str = typer.Option("pending", "--status", help="pending | approved | rejected | all"),
    *,
    actor: Actor,
) -> None:
    """Items shared with consent in your districts, in one status (default: waiting for approval)."""
    with _action() as s:
        items = approvals.list_good_news(s, actor, status=status, now=datetime.now(UTC))
    if not items:
        typer.echo(f"no {status} good news")
    for g in items:
        typer.echo(
            f"#{g.id:<4} {g.status:<8} {g.category:<14} {g.band or '-':<11} {g.created_at:%Y-%m-%d}  {g.text}"
        )


def _decide(item_id: int, approve: bool, actor: Actor) -> None:
    with _action() as s:
        item = approvals.decide_good_news(s, actor, item_id, approve=approve, now=datetime.now(UTC))
    typer.echo(f"good news #{item.id} {item.status}")


@app.command("approve")
def approve(item_id: int, *, actor: Actor) -> None:
    """Approve an item for the celebrations section (check it has no names or places first)."""
    _decide(item_id, True, actor)


@app.command("reject")
def reject(item_id: int, *, actor: Actor) -> None:
    """Keep an item out of every report."""
    _decide(item_id, False, actor)
