"""`ourvoice topic`: list topics and their publication state, publish or close them, preview one per band.

Topics are content files; staff overrides (dates, districts, closed) live in storage/topics.py. Every change
writes an audit row. Must not edit content files.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from admin.actions import topics
from admin.actions.policy import DISTRICTS, ActionError, Actor
from content.loader import Library, load_library
from content.schema import (
    BranchNode,
    ChoiceNode,
    EndNode,
    Flow,
    MenuNode,
    MultiNode,
    ScaleNode,
    TextNode,
    YesNoNode,
    text_for,
)

app = typer.Typer(help="Publish, close and preview topics (consultations).", no_args_is_help=True)

FACES = topics.FACES


def _context() -> tuple[object, Library, str]:
    """Settings-derived database engine, content library and timezone (lazy: keeps `--help` fast)."""
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine

    settings = load_settings()
    library = load_library(Path(settings.content_dir) if settings.content_dir else None)
    return make_engine(settings.database_url), library, settings.timezone


def _topic(library: Library, topic_id: str) -> Flow:
    flow = library.flows.get(topic_id)
    if flow is None or flow.kind != "topic":
        known = ", ".join(sorted(f.id for f in library.topics())) or "none"
        typer.echo(f"no topic {topic_id!r}; topics are: {known}", err=True)
        raise typer.Exit(1)
    return flow


def _date(raw: str | None, what: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        typer.echo(f"{what} must be a date like 2027-04-01, not {raw!r}", err=True)
        raise typer.Exit(2) from None


@app.command("list")
def list_topics() -> None:
    """Every topic: bands, dates and districts in effect, staff status, and whether it is open today."""
    from bot.topics import TopicWindow, is_open_for
    from storage import topics as topic_store
    from storage.db import session

    engine, library, tz = _context()
    today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
    with session(engine) as s:  # type: ignore[arg-type]
        windows = topic_store.windows(s)
    for flow in sorted(library.topics(), key=lambda f: f.id):
        meta = flow.topic
        assert meta is not None
        w = windows.get(flow.id) or TopicWindow(status="content")
        opens = w.opens or meta.opens
        closes = w.closes or meta.closes
        districts = w.districts if w.districts is not None else meta.districts
        open_bands = [
            b
            for b in flow.bands
            if is_open_for(
                flow,
                audience=flow.audience[0],
                band=b,
                district=(districts or [None])[0],
                today=today,
                window=windows.get(flow.id),
            )
        ]
        where = ",".join(districts) if districts else "all"
        typer.echo(
            f"{flow.id:<22} {w.status:<9} bands={','.join(flow.bands)} opens={opens or '-'} "
            f"closes={closes or '-'} districts={where} open_today={','.join(open_bands) or 'no'}"
        )


def _act(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run one topic action in its own transaction; a refusal exits 2 with its one line."""
    from storage.db import session

    engine, library, _ = _context()
    try:
        with session(engine) as s:  # type: ignore[arg-type]
            fn(s, library, *args, now=datetime.now(UTC), **kwargs)
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()  # type: ignore[attr-defined]


@app.command("publish")
def publish(
    topic_id: str,
    opens: str = typer.Option(None, "--opens", help="first day it is offered (default: the content file's)"),
    closes: str = typer.Option(None, "--closes", help="last day it is offered (default: the content file's)"),
    districts: str = typer.Option(None, "--districts", help=f"comma-separated: {', '.join(DISTRICTS)}"),
    *,
    actor: Actor,
) -> None:
    """Publish a topic, optionally overriding its dates and districts."""
    o, c = _date(opens, "--opens"), _date(closes, "--closes")
    wanted = tuple(d.strip() for d in (districts or "").split(",") if d.strip())
    # Input is checked here, before the database is opened, so a typo gets its answer even with no database.
    unknown = [d for d in wanted if d not in DISTRICTS]
    if unknown:
        typer.echo(f"refused: unknown district(s) {', '.join(unknown)} (known: {', '.join(DISTRICTS)})", err=True)
        raise typer.Exit(2)
    if o is not None and c is not None and c < o:
        typer.echo("refused: --closes is before --opens", err=True)
        raise typer.Exit(2)
    _act(topics.publish_topic, actor, topic_id, opens=o, closes=c, districts=wanted)
    typer.echo(f"published {topic_id}")


@app.command("close")
def close(topic_id: str, *, actor: Actor) -> None:
    """Stop offering a topic now (its answers are kept)."""
    _act(topics.close_topic, actor, topic_id)
    typer.echo(f"closed {topic_id}")


def render_flow(flow: Flow, library: Library, band: str) -> list[str]:
    """The flow as someone in `band` would meet it, node by node (static: every branch is listed)."""

    def t(text: object) -> str:
        return text_for(text, band)  # type: ignore[arg-type]

    skip = t(library.string("skip_label"))
    out = [f"# {t(flow.title)}  ({flow.id}, {flow.kind}, band {band})"]
    if flow.topic is not None and flow.topic.why:
        out.append(f"Why we're asking: {t(flow.topic.why)}")
    if band not in flow.bands:
        out.append(f"(note: this {flow.kind} is not offered to the {band} band)")
    for n in flow.nodes:
        if isinstance(n, BranchNode):
            rules = "; ".join(
                "if " + " and ".join(f"{q} is {'/'.join(v)}" for q, v in r.when.items()) + f" -> {r.goto}"
                for r in n.rules
            )
            out.append(f"[{n.id}] branch: {rules}; otherwise -> {n.otherwise}")
            continue
        text = t(n.text) if getattr(n, "text", "") else ""
        if isinstance(n, EndNode):
            out.append(f"[{n.id}] end: {text}".rstrip())
            continue
        kind = n.type
        extra = f" ({n.action}: the bot does this step)" if kind == "action" else ""  # type: ignore[union-attr]
        out.append(f"[{n.id}] {kind}{extra}: {text}".rstrip(" :"))
        if isinstance(n, ChoiceNode | MultiNode):
            out.extend(f"    ( ) {t(c.label)}" for c in n.choices)
        elif isinstance(n, ScaleNode):
            faces = FACES if band == "junior" else tuple(f"{f} {i}" for i, f in enumerate(FACES, start=1))
            out.append("    " + "  ".join(faces))
        elif isinstance(n, YesNoNode):
            out.append("    ( ) Yes  ( ) No" + ("  ( ) Not sure" if n.not_sure else ""))
        elif isinstance(n, TextNode):
            out.append(f"    [free text, up to {n.max_length} characters]")
            if n.notice:
                out.append(f"    {t(library.string('free_text_notice'))}")
        elif isinstance(n, MenuNode):
            out.extend(f"    ( ) {t(o.label)}" for o in n.options if not o.bands or band in o.bands)
        if kind in ("choice", "multi", "scale", "yesno", "text"):
            out.append(f"    + {skip}")
    return out


@app.command("preview")
def preview(
    topic_id: str,
    band: str = typer.Option("teen", "--band", help="junior | teen | young_adult | carer"),
) -> None:
    """Print a topic (or any flow) as that age band would see it."""
    from admin.commands.settings_loader import load_settings

    settings = load_settings()
    library = load_library(Path(settings.content_dir) if settings.content_dir else None)
    if band not in ("junior", "teen", "young_adult", "carer"):
        typer.echo("--band must be junior, teen, young_adult or carer", err=True)
        raise typer.Exit(2)
    flow = library.flows.get(topic_id)
    if flow is None:
        typer.echo(f"no topic or flow {topic_id!r}", err=True)
        raise typer.Exit(1)
    for line in render_flow(flow, library, band):
        typer.echo(line)
