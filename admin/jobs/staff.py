"""Scheduled job: delete staff sessions past their idle or absolute limit and sign-in attempts older than
a day (the throttle only looks back 15 minutes). Never reads the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage import staff as staff_store
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services


def prune(rt: Services, *, now: datetime) -> str:
    """Remove expired staff sessions and old sign-in attempts."""
    from admin.web.auth import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT

    with session(rt.engine) as s:
        ended = staff_store.prune_sessions(
            s, created_before=now - ABSOLUTE_TIMEOUT, seen_before=now - IDLE_TIMEOUT
        )
        attempts = staff_store.prune_attempts(s, before=now - timedelta(days=1))
    return f"sessions_ended={ended} attempts_removed={attempts}"
