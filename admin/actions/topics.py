"""Topic actions: publish (or schedule) a topic for some districts, and close it; plus the one preview of a
topic per age band that the web and the CLI both show.

Workers publish only to their own districts and change only topics wholly inside them.
Must not edit content files (staff overrides live in storage/topics.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from admin.actions.policy import (
    ALL,
    Actor,
    Invalid,
    NotFound,
    authorise,
    parse_districts,
    record,
    require_own_districts,
    require_scope,
)
from bot.engine.step import FACES  # previews show the faces the chat itself sends
from storage import topics as topic_store

__all__ = ["FACES", "close_topic", "publish_topic", "topic_districts", "topic_flow"]


def topic_flow(library: Any, topic_id: str) -> Any:
    """The topic's flow, or NotFound."""
    flow = library.flows.get(topic_id)
    if flow is None or flow.kind != "topic":
        raise NotFound(f"no topic called {topic_id!r}")
    return flow


def topic_districts(s: Any, library: Any, topic_id: str) -> frozenset[str] | None:
    """The districts a topic is offered in now (staff override, else the content file); ALL when every
    district; None when there is no such topic."""
    flow = library.flows.get(topic_id)
    if flow is None or flow.kind != "topic":
        return None
    window = topic_store.windows(s).get(topic_id)
    districts = window.districts if window and window.districts is not None else (flow.topic.districts or None)
    return frozenset(districts) if districts else ALL


def publish_topic(
    s: Any,
    library: Any,
    actor: Actor,
    topic_id: str,
    *,
    opens: date | None,
    closes: date | None,
    districts: tuple[str, ...] | list[str],
    now: datetime,
) -> None:
    """Publish or schedule a topic for some districts (audited as topic.publish).

    A district-scoped actor changes only topics wholly inside their districts and must name districts,
    all of them their own.
    """
    authorise(actor, "topic.publish")
    require_scope(actor, topic_districts(s, library, topic_id), f"topic called {topic_id!r}", change=True)
    wanted = parse_districts(list(districts))
    if opens and closes and closes < opens:
        raise Invalid("the closing date is before the opening date")
    require_own_districts(actor, wanted, "this topic")
    topic_store.publish(s, topic_id, now=now, opens=opens, closes=closes, districts=list(wanted) or None)
    record(
        s,
        actor,
        "topic.publish",
        target=f"topic:{topic_id}",
        detail=f"opens={opens or ''} closes={closes or ''} districts={','.join(wanted) or 'all'}",
        now=now,
    )


def close_topic(s: Any, library: Any, actor: Actor, topic_id: str, *, now: datetime) -> None:
    """Close a topic now, keeping its dates and districts (audited as topic.close)."""
    authorise(actor, "topic.close")
    require_scope(actor, topic_districts(s, library, topic_id), f"topic called {topic_id!r}", change=True)
    current = topic_store.windows(s).get(topic_id)
    topic_store.publish(
        s,
        topic_id,
        now=now,
        status="closed",
        opens=current.opens if current else None,
        closes=current.closes if current else None,
        districts=list(current.districts) if current and current.districts else None,
    )
    record(s, actor, "topic.close", target=f"topic:{topic_id}", now=now)
