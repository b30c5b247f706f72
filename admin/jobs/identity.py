"""Scheduled clean-up for the identity feature: expired attempt counters and link codes, delivered goodbyes.

Idempotent and safe to re-run; deletes only rows that no longer serve any purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from storage import invites, privacy
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services


def purge(rt: Services, *, now: datetime) -> str:
    """Delete spent counters, link codes and goodbyes; blank delivered link-code messages."""
    window = rt.identity_settings.window
    with session(rt.engine) as s:
        counts = invites.purge(s, now=now, window=window)
        counts["goodbyes"] = privacy.purge_goodbyes(s)
        counts["secrets_scrubbed"] = privacy.scrub_sent_secrets(s)
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
