"""Web Push (issue 25 item 1): every 30 seconds, ping the web chat people who opted in and have a message from us
waiting (one neutral ping, no text), through pywebpush. A plain `job(rt, *, now) -> str`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.push import WebPusher, send_due
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services


def send(rt: Services, *, now: datetime) -> str:
    """Send due pings; 'not_configured' without OURVOICE_PUSH_VAPID_PRIVATE_KEY."""
    settings = rt.push_settings
    if not settings.enabled:
        return "not_configured"
    counts = send_due(partial(session, rt.engine), rt.keyring, WebPusher(settings), settings, rt.reach_settings,
                      now=now)
    return " ".join(f"{k}={v}" for k, v in counts.items() if v) or "nothing due"
