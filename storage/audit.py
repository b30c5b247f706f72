"""Append-only, HMAC-chained audit log: views of individual responses or alert text, exports, state changes
and logins. Each row's MAC covers its content and the previous row's MAC under a key kept outside the
database, so nobody with only the database can edit, reorder or re-chain rows. The end of the chain is fixed
by the one-row head (count, last id, last MAC, signed) and by anchor lines appended after every commit to a
file the application only ever appends to (and to the system log), which `verify` compares.

Must not: hold participants' free text (callers pass ids and event names), or read settings (entry points
call `configure` with the key and anchor file).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from storage.db import naive_utc, utc
from storage.models import AuditEntry, AuditHead

GENESIS = "0" * 64
ANCHOR_TAG = "ourvoice-audit-anchor v1"
log = logging.getLogger("ourvoice.audit")


@dataclass(frozen=True)
class AuditSeal:
    """The chain's HMAC key (never stored in the database) and the append-only anchor file."""

    key: bytes
    anchor_file: Path | None

    def mac(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


# Seals by database URL, set by entry points (the runtime, the CLI's settings loader) through `configure`.
_SEALS: dict[str, AuditSeal] = {}


def _url_key(url: object) -> str:
    return make_url(url).render_as_string(hide_password=False)  # type: ignore[arg-type]


def configure(database_url: str, seal: AuditSeal) -> None:
    """Entry points: use this key and anchor file for every audit append and check on this database."""
    _SEALS[_url_key(database_url)] = seal


def _env_seal() -> AuditSeal | None:
    # Last resort for engines an entry point did not configure (the same OURVOICE_* values the settings read).
    key = os.environ.get("OURVOICE_AUDIT_KEY", "")
    base = os.environ.get("OURVOICE_ID_HASH_KEY", "")
    if not key and not base:
        return None
    anchor = os.environ.get("OURVOICE_AUDIT_ANCHOR_FILE", "var/audit-anchors.log")
    return AuditSeal(derive_key(key, base), Path(anchor) if anchor else None)


def derive_key(audit_key: str, id_hash_key: str) -> bytes:
    """OURVOICE_AUDIT_KEY when set; otherwise a key derived from the identity key under a label of its own."""
    if audit_key:
        return audit_key.encode("utf-8")
    if not id_hash_key:
        raise ValueError("no audit key: set OURVOICE_AUDIT_KEY (ourvoice init writes one)")
    return hmac.new(id_hash_key.encode("utf-8"), b"ourvoice audit chain v1", hashlib.sha256).digest()


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind  # type: ignore[return-value]


def seal_for(session: Session) -> AuditSeal:
    engine = _engine_of(session)
    seal = _SEALS.get(_url_key(engine.url)) or _env_seal()
    if seal is None:
        raise RuntimeError("audit key not configured (OURVOICE_AUDIT_KEY)")
    return seal


def _db_id(session: Session) -> str:
    """Which database an anchor line belongs to: a hash of its URL without the password."""
    url = _engine_of(session).url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _payload(prev: str, at: datetime, actor: str, action: str, target: str, detail: str) -> str:
    return "\x1f".join((prev, at.isoformat(), actor, action, target, detail))


def _legacy_digest(prev: str, at: datetime, actor: str, action: str, target: str, detail: str) -> str:
    """Rows written before the chain was keyed: plain SHA-256 (accepted only as the chain's first rows)."""
    return hashlib.sha256(_payload(prev, at, actor, action, target, detail).encode("utf-8")).hexdigest()


def _head_payload(head: AuditHead) -> str:
    return f"head\x1f{head.count}\x1f{head.last_id}\x1f{head.last_hash}\x1f{head.keyed_from}"


def _head(session: Session) -> AuditHead:
    """The chain head, locked until this transaction ends (PostgreSQL: FOR UPDATE; SQLite writers already hold
    the database's write lock from BEGIN IMMEDIATE). Created from the rows if a database lacks it."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()  # type: ignore[union-attr]
        count = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        head = AuditHead(id=1, count=int(count), last_id=(last.id or 0) if last else 0,
                         last_hash=last.row_hash if last else GENESIS)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime
) -> AuditEntry:
    """Append one audit row chained to the last one (never free text from participants in `detail`).

    Appends are serialised on the chain head, ids run on without gaps, and an anchor line is written once the
    transaction commits (nothing is anchored for a rolled-back append)."""
    seal = seal_for(session)
    head = _head(session)
    prev = head.last_hash
    at = naive_utc(now).replace(microsecond=0)
    fields = (actor[:80], action[:60], target[:120], detail[:500])
    entry = AuditEntry(
        id=head.last_id + 1,
        at=utc(at),
        actor=fields[0],
        action=fields[1],
        target=fields[2],
        detail=fields[3],
        prev_hash=prev,
        row_hash=seal.mac(_payload(prev, at, *fields)),
    )
    session.add(entry)
    head.count += 1
    head.last_id = entry.id  # type: ignore[assignment]
    head.last_hash = entry.row_hash
    head.keyed_from = head.keyed_from or head.last_id
    head.mac = seal.mac(_head_payload(head))
    session.add(head)
    session.flush()
    _anchor_after_commit(session, seal, head.count, head.last_id, head.last_hash)
    return entry


def _anchor_line(seal: AuditSeal, db: str, count: int, last_id: int, last_hash: str, at: datetime) -> str:
    body = f"{ANCHOR_TAG} db={db} count={count} last_id={last_id} hash={last_hash} at={at.isoformat()}"
    return f"{body} mac={seal.mac(body)}"


def _anchor_after_commit(session: Session, seal: AuditSeal, count: int, last_id: int, last_hash: str) -> None:
    from sqlalchemy import event

    db = _db_id(session)

    def _write(_s: Session) -> None:
        line = _anchor_line(seal, db, count, last_id, last_hash, datetime.now(UTC).replace(microsecond=0))
        log.info("audit.anchor db=%s count=%d last_id=%d hash=%s", db, count, last_id, last_hash)
        if seal.anchor_file is None:
            return
        try:
            seal.anchor_file.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND only: the application never seeks, truncates or rewrites this file (make it chattr +a).
            fd = os.open(seal.anchor_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("ascii"))
            finally:
                os.close(fd)
        except OSError:
            log.error("audit.anchor_write_failed db=%s count=%d", db, count)

    event.listen(session, "after_commit", _write, once=True)


@dataclass(frozen=True)
class AuditProblem:
    entry_id: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    count: int
    last_id: int
    hash: str
    signed: bool


def anchors(session: Session, seal: AuditSeal | None = None) -> list[Anchor]:
    """The anchor lines written for this database, oldest first (unsigned ones marked, never trusted)."""
    seal = seal or seal_for(session)
    if seal.anchor_file is None or not seal.anchor_file.exists():
        return []
    db = _db_id(session)
    out: list[Anchor] = []
    for line in seal.anchor_file.read_text(encoding="ascii", errors="replace").splitlines():
        if not line.startswith(ANCHOR_TAG) or f" db={db} " not in line:
            continue
        body, _, mac = line.rpartition(" mac=")
        try:
            parts = dict(p.split("=", 1) for p in body[len(ANCHOR_TAG):].split())
            anchor = Anchor(int(parts["count"]), int(parts["last_id"]), parts["hash"],
                            hmac.compare_digest(mac, seal.mac(body)))
        except (KeyError, ValueError):
            continue
        out.append(anchor)
    return out


def verify(session: Session, *, seal: AuditSeal | None = None) -> list[AuditProblem]:
    """Recompute the chain and compare its end with the head and the anchors; an empty list means untouched."""
    seal = seal or seal_for(session)
    problems: list[AuditProblem] = []
    prev = GENESIS
    expected_id = 1
    keyed = False
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    # Unkeyed rows are accepted only before the first keyed one, as the signed head records it.
    legacy_below = head.keyed_from if head is not None and head.keyed_from else None
    hashes: dict[int, str] = {}
    last_id = 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        eid = e.id or 0
        if eid != expected_id:
            problems.append(AuditProblem(eid, f"rows missing before id {eid}"))
        if e.prev_hash != prev:
            problems.append(AuditProblem(eid, "previous-hash link broken"))
        at = naive_utc(e.at)
        fields = (e.prev_hash, at, e.actor, e.action, e.target, e.detail)
        if hmac.compare_digest(e.row_hash, seal.mac(_payload(*fields))):
            keyed = True
        elif keyed or (legacy_below is not None and eid >= legacy_below) or e.row_hash != _legacy_digest(*fields):
            problems.append(AuditProblem(eid, "row content does not match its hash"))
        prev = e.row_hash
        hashes[eid] = e.row_hash
        expected_id = eid + 1
        last_id = eid
    count = len(hashes)
    if head is None:
        if count:
            problems.append(AuditProblem(last_id, "chain head missing"))
    else:
        if (head.count, head.last_id, head.last_hash) != (count, last_id, prev):
            problems.append(AuditProblem(head.last_id, f"chain head says {head.count} rows ending at id "
                                                       f"{head.last_id}, the table has {count} ending at {last_id}"))
        if head.mac is None:
            if keyed:
                problems.append(AuditProblem(head.last_id, "chain head signature removed"))
        elif not hmac.compare_digest(head.mac, seal.mac(_head_payload(head))):
            problems.append(AuditProblem(head.last_id, "chain head signature does not match"))
    found = anchors(session, seal)
    for a in found:
        if not a.signed:
            problems.append(AuditProblem(a.last_id, "anchor line not signed with the audit key"))
        elif hashes.get(a.last_id) != a.hash or count < a.count:
            problems.append(AuditProblem(a.last_id, f"anchored entry {a.last_id} (of {a.count}) missing or "
                                                    "changed"))
    if keyed and seal.anchor_file is not None and not any(a.signed for a in found):
        problems.append(AuditProblem(last_id, "no anchor for this database: the end of the log cannot be checked"))
    return problems


def entries(session: Session, *, limit: int = 500, action: str | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
    if action:
        q = q.where(AuditEntry.action == action)
    return list(session.execute(q).scalars())
