"""Scheduled job: recompute the staff dashboard's people-heard snapshot for each rolling period.

A plain `job(rt, *, now) -> str` (run once across processes by admin.scheduler claims); the dashboard
reads the snapshot in milliseconds and recomputes itself only if this job has stopped. Never reads the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import session


def refresh(rt: Any, *, now: datetime) -> str:
    """Recompute people heard for the last 30, 90 and 365 days (one transaction per period)."""
    from admin.web.routes.dashboard import PERIODS, refresh_period

    done = []
    for period in PERIODS:
        with session(rt.engine) as s:
            _, cells = refresh_period(rt.library, s, int(period), now)
        done.append(f"{period}d={len(cells)}")
    return "cells " + " ".join(done)
