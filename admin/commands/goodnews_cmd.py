"""`ourvoice goodnews`: the approval queue for good news young people agreed to share (no names, ever).

Listing shows individual items, so it is audited; approving or rejecting writes an audit row too.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import typer

app = typer.Typer(help="Approve good news for the 'celebrating achievements' section.", no_args_is_help=True)


def _engine():  # noqa: ANN202
    from admin.cli import load_settings
    from storage.db import make_engine

    return make_engine(load_settings().database_url)


@app.command("list")
def list_items(
    status: str = typer.Option("pending", "--status", help="pending | approved | rejected | all"),
    staff: str = typer.Option(None, "--staff", help="who is looking (for the audit log)"),
) -> None:
    """Items shared with consent, in one status (default: waiting for approval)."""
    from storage import audit, good_news
    from storage.db import session

    if status not in ("pending", "approved", "rejected", "all"):
        typer.echo("--status must be pending, approved, rejected or all", err=True)
        raise typer.Exit(2)
    now = datetime.now(UTC)
    with session(_engine()) as s:
        items = good_news.list_items(s, status=None if status == "all" else status)
        audit.record(
            s,
            actor=staff or getpass.getuser(),
            action="goodnews.list",
            detail=f"status={status} n={len(items)}",
            now=now,
        )
    if not items:
        typer.echo(f"no {status} good news")
    for g in items:
        typer.echo(
            f"#{g.id:<4} {g.status:<8} {g.category:<14} {g.band or '-':<11} {g.created_at:%Y-%m-%d}  {g.text}"
        )


def _decide(item_id: int, approve: bool, staff: str | None) -> None:
    from storage import good_news
    from storage.db import session

    try:
        with session(_engine()) as s:
            item = good_news.decide(
                s, item_id, approve=approve, staff=staff or getpass.getuser(), now=datetime.now(UTC)
            )
    except good_news.GoodNewsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"good news #{item.id} {item.status}")


@app.command("approve")
def approve(
    item_id: int, staff: str = typer.Option(None, "--staff", help="who is approving (for the audit log)")
) -> None:
    """Approve an item for the celebrations section (check it has no names or places first)."""
    _decide(item_id, True, staff)


@app.command("reject")
def reject(
    item_id: int, staff: str = typer.Option(None, "--staff", help="who is rejecting (for the audit log)")
) -> None:
    """Keep an item out of every report."""
    _decide(item_id, False, staff)
