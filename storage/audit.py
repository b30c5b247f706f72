"""Append-only, hash-chained audit log: views of individual responses or alert text, exports,
state changes and logins. Each row's hash covers its content and the previous row's hash, so
editing or deleting any row breaks `verify`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import naive_utc, utc
from storage.models import AuditEntry

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, target: str, detail: str) -> str:
    payload = "\x1f".join((prev, at.isoformat(), actor, action, target, detail))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime
) -> AuditEntry:
    """Append one audit row chained to the last one (never free text from participants in `detail`)."""
    last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()  # type: ignore[union-attr]
    prev = last.row_hash if last else GENESIS
    at = naive_utc(now).replace(microsecond=0)
    entry = AuditEntry(
        at=utc(at),
        actor=actor[:80],
        action=action[:60],
        target=target[:120],
        detail=detail[:500],
        prev_hash=prev,
        row_hash=_digest(prev, at, actor[:80], action[:60], target[:120], detail[:500]),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditProblem:
    entry_id: int
    reason: str


def verify(session: Session) -> list[AuditProblem]:
    """Recompute the chain; an empty list means untouched."""
    problems: list[AuditProblem] = []
    prev = GENESIS
    expected_id = None
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if expected_id is not None and e.id != expected_id:
            problems.append(AuditProblem(e.id or 0, f"rows missing before id {e.id}"))
        if e.prev_hash != prev:
            problems.append(AuditProblem(e.id or 0, "previous-hash link broken"))
        at = naive_utc(e.at)
        candidates = {_digest(e.prev_hash, at, e.actor, e.action, e.target, e.detail)}
        if e.row_hash not in candidates:
            problems.append(AuditProblem(e.id or 0, "row content does not match its hash"))
        prev = e.row_hash
        expected_id = (e.id or 0) + 1
    return problems


def entries(session: Session, *, limit: int = 500, action: str | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
    if action:
        q = q.where(AuditEntry.action == action)
    return list(session.execute(q).scalars())
