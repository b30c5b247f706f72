"""`ourvoice card`: list, show and move challenge cards through their lifecycle.

Each command signs in and calls the same action as the admin web (admin/actions/cards.py): cards in the
staff member's own districts only, every view and move audited once. Never shows who raised or backed a card.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from admin.actions import cards as card_actions
from admin.actions.policy import COUNCILS, ActionError, Actor
from admin.reports.staff_counts import lone, text

app = typer.Typer(help="Challenge cards: triage, move through the lifecycle, show.", no_args_is_help=True)


def _context():
    from admin.commands.settings_loader import load_settings
    from content.loader import load_library
    from storage.db import make_engine

    settings = load_settings()
    library = load_library(Path(settings.content_dir) if settings.content_dir else None)
    return make_engine(settings.database_url), library


@contextmanager
def _action() -> Iterator[tuple[Any, Any]]:
    """(session, library) for one card action in one transaction; a refusal exits 2 (1 when not found)."""
    from admin.actions.policy import NotFound
    from storage.db import session

    engine, library = _context()
    try:
        with session(engine) as s:
            yield s, library
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1 if isinstance(exc, NotFound) else 2) from None
    finally:
        engine.dispose()


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command("list")
def list_cards(
    state: str = typer.Option(None, "--state", help="only cards in this state"),
    council: str = typer.Option(None, "--council", help=" | ".join(COUNCILS)),
    *,
    actor: Actor,
) -> None:
    """One line per card in your districts: id, state, council, supporters, personal/held flags."""
    with _action() as (s, _library):
        cards = card_actions.list_cards(s, actor, state=state, council=council, now=datetime.now(UTC))
    if not cards:
        typer.echo("no cards")
    for c in cards:
        flags = ("P" if c.personal else "-") + ("H" if c.quarantined else "-")
        head = f"#{c.id:<4} {c.state:<25} {c.council:<12} backing={text(lone(c.supporters)):<9} {flags}"
        typer.echo(f"{head} {_short(c.challenge)}")
    if cards:
        typer.echo(
            "flags: P = raiser said it is about their own situation (triage), H = held by safeguarding"
        )


@app.command("show")
def show(card_id: int, *, actor: Actor) -> None:
    """The whole card with its history and the states it can move to next."""
    from storage import challenges

    with _action() as (s, _library):
        card = card_actions.view_card(s, actor, card_id, now=datetime.now(UTC))
    backing = text(lone(card.supporters))  # a count of young people: hidden under 5 (issue 19)
    typer.echo(f"Card #{card.id} ({card.council}) is {card.state}; young people backing it: {backing}")
    typer.echo(f"What should change: {card.challenge}")
    typer.echo(f"Why it matters: {card.why or '-'}")
    typer.echo(f"Who it's for: {', '.join(card.who_for) or '-'}")
    if card.personal:
        typer.echo(
            "Triage: the raiser said it is mostly about their own situation (consider routed_to_worker)"
        )
    if card.quarantined:
        typer.echo("Held: safeguarding flagged some of its text; it is not shown to other young people")
    if card.owner_role:
        typer.echo(f"Owner: {card.owner_role}")
    if card.answer:
        typer.echo(f"Answer: {card.answer}")
    typer.echo("History:")
    for e in card.events:
        who = f" by {e.staff}" if e.staff else ""
        note = f": {e.note}" if e.note else ""
        typer.echo(f"  {e.at:%Y-%m-%d %H:%M} {e.from_state or '(new)'} -> {e.to_state}{who}{note}")
    typer.echo(f"Can move to: {', '.join(challenges.allowed_next(card.state)) or 'nothing (finished)'}")


@app.command("move")
def move(
    card_id: int,
    state: str,
    owner: str = typer.Option(
        None, "--owner", help="owner role, required for accepted (e.g. 'Head of Service')"
    ),
    note: str = typer.Option(
        None, "--note", help="the answer (accepted), the update, or the reason (declined)"
    ),
    *,
    actor: Actor,
) -> None:
    """Move a card to its next state and tell everyone who raised or backed it."""
    with _action() as (s, library):
        out = card_actions.move_card(
            s, library, actor, card_id, state, owner=owner, note=note, now=datetime.now(UTC)
        )
    typer.echo(
        f"card #{card_id}: {out.event.from_state} -> {out.event.to_state}; {out.notices} young people told"
    )


@app.command("resolve")
def resolve(
    card_id: int,
    panel: str = typer.Option(..., "--panel", help="the Panel meeting date, e.g. 2026-12-10"),
    resolution: str = typer.Option(..., "--resolution", help="what the Panel resolved, in a sentence"),
    *,
    actor: Actor,
) -> None:
    """Record the Panel's resolution on a card after the meeting (shown in the next Panel paper)."""
    from datetime import date

    try:
        day = date.fromisoformat(panel)
    except ValueError:
        typer.echo(f"--panel must be a date like 2026-12-10 (got {panel!r})", err=True)
        raise typer.Exit(2) from None
    with _action() as (s, _library):
        card_actions.resolve_card(s, actor, card_id, day, resolution, now=datetime.now(UTC))
    typer.echo(f"card #{card_id}: Panel of {day} resolution recorded")
