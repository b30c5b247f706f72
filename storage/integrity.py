"""Names the constraint behind an IntegrityError, so callers can tell a concurrent duplicate from a fault.

Owns only the reading of driver errors (SQLite messages, PostgreSQL diagnostics). Returns constraint and
column names, never the row values a driver may quote; must not log or retry anything itself.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

# The inbound ledger's unique key (storage.models.InboundEvent): the only conflict a concurrent delivery of
# the same message causes, answered by reading the earlier delivery's replies.
# Since councils share a database (migration 0016) the key is per council: both names are the ledger's.
LEDGER_CONSTRAINT = "uq_inbound_channel_msg"
_LEDGER_NAMES = frozenset({
    LEDGER_CONSTRAINT,
    "uq_inbound_event_council",
    "unique:inbound_event.channel,inbound_event.message_id",
    "unique:inbound_event.council_id,inbound_event.channel,inbound_event.message_id",
})
_SQLITE = re.compile(r"^(UNIQUE|NOT NULL|CHECK|FOREIGN KEY|PRIMARY KEY) constraint failed(?::\s*([\w.,\s]+))?")
_SAFE = re.compile(r"[^\w.,]")


def constraint_of(exc: IntegrityError) -> str:
    """The violated constraint's name (PostgreSQL) or kind and columns (SQLite); "unknown" otherwise."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None) if diag is not None else None
    if name:
        return _SAFE.sub("", str(name))[:100]
    first = str(orig).splitlines()[0] if str(orig) else ""
    found = _SQLITE.match(first)
    if not found:
        return "unknown"  # a trigger's RAISE message, or a driver we do not know: the text may quote data
    kind, columns = found.group(1), found.group(2) or ""
    columns = _SAFE.sub("", columns)
    return f"{kind.lower().replace(' ', '_')}:{columns}" if columns else kind.lower().replace(" ", "_")


def is_ledger_duplicate(exc: IntegrityError) -> bool:
    """True when the conflict is the inbound ledger's key: another delivery of this message got in first."""
    return constraint_of(exc) in _LEDGER_NAMES
