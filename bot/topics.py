"""Which topics a participant may see today: audience, age band, district and open/close dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from content.loader import Library
from content.schema import Flow


@dataclass(frozen=True)
class TopicWindow:
    """Staff overrides for one topic (published/closed, dates, districts); None keeps the content value."""

    status: str = "published"  # published | closed | draft
    opens: date | None = None
    closes: date | None = None
    districts: tuple[str, ...] | None = None


def is_open_for(
    flow: Flow, *, audience: str, band: str, district: str | None, today: date, window: TopicWindow | None = None
) -> bool:
    """True when this topic should be offered to this person today."""
    if flow.kind != "topic" or flow.topic is None:
        return False
    if window is not None and window.status != "published":
        return False
    if audience not in flow.audience or band not in flow.bands:
        return False
    opens = window.opens if window and window.opens else flow.topic.opens
    closes = window.closes if window and window.closes else flow.topic.closes
    if opens and today < opens or closes and today > closes:
        return False
    districts = window.districts if window and window.districts is not None else flow.topic.districts
    return not districts or (district is not None and district in districts)


def open_topics(
    library: Library,
    *,
    audience: str,
    band: str,
    district: str | None,
    today: date,
    windows: Mapping[str, TopicWindow] | None = None,
) -> tuple[str, ...]:
    """Ids of every topic open for this person, in a stable order."""
    windows = windows or {}
    return tuple(
        f.id
        for f in sorted(library.topics(), key=lambda f: f.id)
        if is_open_for(f, audience=audience, band=band, district=district, today=today, window=windows.get(f.id))
    )
