"""GOV.UK Notify's delivery receipts (`POST /notify/receipts`): Notify calls this for each text or email we sent,
with the bearer token set for the callback in Notify (OURVOICE_NOTIFY_CALLBACK_TOKEN), which is checked in constant
time; anything else is refused with 401. Owns the route only (bot.notify.record_receipt records what happened).

The body carries the recipient's address ("to"): it is never read, stored or logged here.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse, Response

from bot import notify
from bot.services import Services
from storage.db import session

log = logging.getLogger("ourvoice.notify")

RECEIPTS_PATH = "/notify/receipts"


def authorised(header: str, token: str) -> bool:
    """The callback's `Authorization: Bearer <token>` matches the configured token (none configured: nothing does)."""
    return bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def router(rt: Services) -> APIRouter:
    api = APIRouter()

    @api.post(RECEIPTS_PATH)
    def receipt(
        payload: Annotated[dict[str, Any], Body()], authorization: Annotated[str, Header()] = "",
    ) -> Response:
        if not authorised(authorization, rt.notify_settings.callback_token):
            log.warning("notify.receipt_refused")
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        notify_id, status = payload.get("id"), payload.get("status")
        if not isinstance(notify_id, str) or not isinstance(status, str):
            return JSONResponse({"error": "id and status are needed"}, status_code=400)
        reference = payload.get("reference") if isinstance(payload.get("reference"), str) else None
        now = rt.clock() if rt.clock else datetime.now(UTC)
        with session(rt.engine) as s:
            done = notify.record_receipt(s, rt.keyring, rt.library, notify_id=notify_id[:40], reference=reference,
                                         status=status[:30], now=now, reach_settings=rt.reach_settings)
        # 200 for a notice we do not know too: Notify would otherwise keep retrying something we can never use.
        return JSONResponse({"recorded": done})

    return api
