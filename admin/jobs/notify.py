"""GOV.UK Notify (issue 25): every minute, send the short notices that are due (texts and emails queued under the
one rule for messages sent first), through the official client, and, when no delivery-receipt callback is set up
(OURVOICE_NOTIFY_CALLBACK_TOKEN empty), ask Notify how the notices already sent went. A plain
`job(rt, *, now) -> str`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.notify import GovNotify, poll_receipts, send_due
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services


def send(rt: Services, *, now: datetime) -> str:
    """Send due notices; 'not_configured' without OURVOICE_NOTIFY_API_KEY."""
    settings = rt.notify_settings
    if not settings.api_key:
        return "not_configured"
    client = GovNotify(settings)
    counts = send_due(partial(session, rt.engine), rt.keyring, client, settings, link=rt.settings.public_url, now=now)
    if not settings.callback_token:  # no callback: poll for delivery receipts instead
        counts.update(poll_receipts(partial(session, rt.engine), rt.keyring, rt.library, client, settings, now=now,
                                    reach_settings=rt.reach_settings))
    return " ".join(f"{k}={v}" for k, v in counts.items() if v) or "nothing due"
