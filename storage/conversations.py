"""Conversation state rows with a version column so concurrent steps never overwrite each other."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from storage.models import Conversation


class StaleState(Exception):
    """Another process advanced this conversation first; reload and step again."""


def load(session: Session, participant_id: int) -> tuple[dict[str, Any] | None, int]:
    """Return the stored state and its version (None, 0 when there is none yet)."""
    # FOR UPDATE serialises steps of one person on PostgreSQL (SQLite already holds the write lock).
    row = session.get(Conversation, participant_id, with_for_update=True)
    if row is None:
        return None, 0
    return json.loads(row.state_json), row.version


def save(session: Session, participant_id: int, state: dict[str, Any], *, version: int, now: datetime) -> int:
    """Write the new state only if nobody else did since `version` was read; return the new version."""
    payload = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    if version == 0:
        if session.get(Conversation, participant_id) is not None:
            raise StaleState(participant_id)
        session.add(Conversation(participant_id=participant_id, state_json=payload, version=1, updated_at=now))
        session.flush()
        return 1
    result = session.execute(
        update(Conversation)
        .where(Conversation.participant_id == participant_id, Conversation.version == version)
        .values(state_json=payload, version=version + 1, updated_at=now)
        # No ORM objects to keep in step with: skipping the sync saves most of this statement's cost.
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleState(participant_id)
    return version + 1
