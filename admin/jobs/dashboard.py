"""Scheduled job: work out the staff dashboard's protected people-heard figures for the last whole month and
quarter ahead of the first visit (admin/reports/reach.py; the page keeps them for the process's life).

A plain `job(rt, *, now) -> str` (run once across processes by admin.scheduler claims). An ended period's
figures never change, so this only does work at a period boundary. Never reads the clock; never logs counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def refresh(rt: Services, *, now: datetime) -> str:
    """Make sure the last whole month's and quarter's figures are rolled up, frozen and protected."""
    from admin.web.routes.dashboard import PERIODS, solved_period

    done = []
    for key in PERIODS:
        _, (since, until) = solved_period(rt.engine, rt.library, rt.report_settings, key, now)
        done.append(f"{key}={since.isoformat()}..{until.isoformat()}")
    return "periods " + " ".join(done)
