"""'You said, we did': after each Corporate Parenting Panel date (OURVOICE_PANEL_DATES), tell everyone in a
council who took part what happened to that council's challenge cards since the previous Panel.

Runs daily; each (Panel date, council) is sent once (panel_digest row written in the same transaction as
the notices). Dates older than the catch-up window are skipped so a new install does not send stale news.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.features.young_people import PanelSettings, you_said_we_did
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services


def run(rt: Services, *, now: datetime) -> str:
    """Send any due digests; returns e.g. 'panel=2027-01-14 ocypc=12 yac=4' or 'nothing due'."""
    panel: PanelSettings = rt.panel_settings
    tz = rt.settings.timezone
    today = now.astimezone(ZoneInfo(tz)).date()
    dates = panel.dates()
    done: list[str] = []
    for i, panel_date in enumerate(dates):
        if not panel_date < today <= panel_date + timedelta(days=panel.panel_catch_up_days):
            continue
        previous = dates[i - 1] if i else None
        with session(rt.engine) as s:
            told = you_said_we_did(s, rt.library, panel_date=panel_date, previous=previous, tz=tz, now=now,
                                   reach=rt.reach_settings)
        if told:
            done.append(f"panel={panel_date} " + " ".join(f"{c}={n}" for c, n in told.items()))
    return "; ".join(done) or "nothing due"
