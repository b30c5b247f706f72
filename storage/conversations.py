"""Conversation state rows with a version column so concurrent steps never overwrite each other."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from storage.db import core
from storage.models import Conversation

# Core statements on the table, built once: every inbound message loads and saves one state row, and
# no caller needs an ORM object for it. They run on the session's connection (`core`).
_T = Conversation.__table__  # type: ignore[attr-defined]
# FOR UPDATE serialises steps of one person on PostgreSQL (SQLite already holds the write lock).
_LOAD = select(_T.c.state_json, _T.c.version).where(_T.c.participant_id == bindparam("pid")).with_for_update()
_EXISTS = select(_T.c.version).where(_T.c.participant_id == bindparam("pid"))
_INSERT = insert(_T)
_UPDATE = (
    update(_T)
    .where(_T.c.participant_id == bindparam("pid"), _T.c.version == bindparam("old_version"))
    .values(state_json=bindparam("new_state"), version=bindparam("new_version"), updated_at=bindparam("now"))
)


# json.dumps with options builds a new encoder per call; this one is built once (same output).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class StaleState(Exception):
    """Another process advanced this conversation first; reload and step again."""


def load(session: Session, participant_id: int) -> tuple[dict[str, Any] | None, int]:
    """Return the stored state and its version (None, 0 when there is none yet)."""
    row = core(session).execute(_LOAD, {"pid": participant_id}).first()
    if row is None:
        return None, 0
    return json.loads(row.state_json), row.version


def save(session: Session, participant_id: int, state: dict[str, Any], *, version: int, now: datetime) -> int:
    """Write the new state only if nobody else did since `version` was read; return the new version."""
    payload = _ENCODE(state)
    conn = core(session)
    if version == 0:
        if conn.execute(_EXISTS, {"pid": participant_id}).first() is not None:
            raise StaleState(participant_id)
        # A concurrent first insert still fails on the primary key (IntegrityError): the step is retried.
        conn.execute(
            _INSERT, {"participant_id": participant_id, "state_json": payload, "version": 1, "updated_at": now}
        )
        return 1
    result = conn.execute(
        _UPDATE,
        {"pid": participant_id, "old_version": version, "new_state": payload, "new_version": version + 1, "now": now},
    )
    if result.rowcount != 1:
        raise StaleState(participant_id)
    return version + 1
