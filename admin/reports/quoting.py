"""Turn consented free-text answers into pending quotes: scrub first, store only the scrubbed text.

Staff approve or reject each quote before it can appear in any report. Never logs the text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from admin.reports.scrub import scrub
from storage import quotes as quote_store
from storage.db import Session


def collect(
    session: Session, *, since: datetime, until: datetime, now: datetime, limit: int = 1000,
    decrypt: Callable[[bytes], str] | None = None,
) -> int:
    """Add a pending, scrubbed quote for each new consented answer in [since, until); returns how many.

    `decrypt` opens free text stored encrypted; only the scrubbed quote is stored, for staff to approve."""
    added = 0
    for c in quote_store.candidates(session, since=since, until=until, limit=limit, decrypt=decrypt):
        text = scrub(c.text)
        if not any(ch.isalpha() for ch in text.replace("[name]", "").replace("[place]", "")):
            continue  # nothing left worth quoting once identifying details are gone
        quote_store.add(
            session,
            answer_id=c.answer_id,
            flow_id=c.flow_id,
            question_id=c.question_id,
            band=c.band,
            scrubbed_text=text,
            answered_at=c.answered_at,
            now=now,
        )
        added += 1
    return added
