"""The one-time download of a young person's copy of their data (`GET /my-data/{token}`), issued by "My stuff".

Owns the route only: the link is used once and expires after 15 minutes, each download is audited, and the answer
is never cached. Builds the copy through bot.identity and storage; must not log anything but ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from bot import tenant
from bot.identity import DATA_COPY_PATH, tidy_copy
from bot.services import Services
from storage import audit, councils, data_copies, participants, tenancy
from storage.db import session

log = logging.getLogger("ourvoice.data_copy")

GONE = (
    "<!doctype html><meta charset=utf-8><title>Link used or expired</title>"
    "<p>This download link has already been used or has expired (links work once, for 15 minutes).</p>"
    "<p>You can ask for a new copy any time in <b>My stuff</b> in the chat.</p>"
)


@contextmanager
def serving_link(rt: Services, token_hash: str) -> Iterator[None]:
    """The link's own council (issue 26): the person it was made for belongs to it. An unknown link is looked
    for in the deployment's own council, and refused there."""
    if rt.engine.dialect.name != "postgresql":
        yield
        return
    with session(rt.engine) as s:
        council = councils.council_of_data_copy(s, token_hash)
    with tenant.serving(rt.engine, council or tenancy.default_id()):
        yield


def router(rt: Services) -> APIRouter:
    api = APIRouter()

    @api.get(DATA_COPY_PATH + "{token}")
    def download(token: str) -> Response:
        now = rt.clock() if rt.clock else datetime.now(UTC)
        token_hash = rt.keyring.identity_hash("data_copy", token[:100])
        with serving_link(rt, token_hash), session(rt.engine) as s:
            pid = data_copies.claim(s, token_hash, now=now)
            p = participants.get(s, pid) if pid is not None else None
            if p is None:
                log.info("data_copy.refused")
                return HTMLResponse(GONE, status_code=410, headers={"Cache-Control": "no-store"})
            copy = tidy_copy(s, rt.library, p, now=now, decrypt=rt.keyring.decrypt)
            body = json.dumps(copy, ensure_ascii=False, indent=2, default=str)
            audit.record(s, actor="participant", action="data_copy.download", target=p.case_ref, now=now)
        log.info("data_copy.downloaded participant=%s", pid)
        return Response(
            body.encode("utf-8"),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="my-ourvoice-data.json"',
                     "Cache-Control": "no-store"},
        )

    return api
