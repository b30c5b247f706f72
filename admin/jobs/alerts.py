"""Safeguarding escalation: re-alert and escalate until a human acknowledges (filled in by issue 4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def escalate(rt: Any, *, now: datetime) -> str:
    """Placeholder until escalation lands: drains the alert spool so records reach the database."""
    written = rt.dispatcher.drain_spool(now=now)
    return f"spool_written={written}"
