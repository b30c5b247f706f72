"""Data rights over every table: export all rows about one participant, erase them, re-encrypt columns.

Works from the table metadata (foreign keys and `participant_id` columns), so tables added by other
features are covered without changes here. Knows no keys: callers pass encryption as a function.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, LargeBinary, Table, case, delete, event, func, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401 - registers every table on the metadata
from storage.db import checkpoint, utc
from storage.models import Alert, Answer, OutboxMessage, Participant, Submission

log = logging.getLogger("ourvoice.privacy")

# Rows in these tables outlive an erasure with the link to the person removed (nullable columns set
# to NULL): a safeguarding alert must stay on record for the duty team; the inbound ledger only
# holds channel message ids (it makes redelivery harmless); a challenge card for everyone belongs to its council
# (one about the person's own situation is erased with them: see `erase`).
KEEP_UNLINKED: frozenset[str] = frozenset({"alert", "inbound_event", "challenge_card"})
# Columns never shown in clear in an export: what they are, instead of their value.
REDACTED = {"key_hash": "one-way keyed code of your account id on that app (not the id itself)",
            "token_hash": "one-way keyed code of a download link (not the link itself)"}
# Replies the bot sends while erasing (the goodbye): kept, unlinked, until the outbox has sent them.
GOODBYE_KIND = "goodbye"
# Replies carrying a one-time secret (a link code): their text is blanked once delivered.
SECRET_KINDS = ("link_code",)


def _tables() -> dict[str, Table]:
    return dict(SQLModel.metadata.tables)


def _children(parent: str) -> list[tuple[Table, Column, Column]]:
    """(child table, child column, parent column) for every reference to `parent`.

    A reference is a foreign key, or (for the participant table) any column named participant_id.
    """
    out: list[tuple[Table, Column, Column]] = []
    tables = _tables()
    for t in tables.values():
        seen: set[str] = set()
        for fk in t.foreign_keys:
            if fk.column.table.name == parent:
                out.append((t, fk.parent, fk.column))
                seen.add(fk.parent.name)
        if parent == "participant" and t.name != "participant" and "participant_id" in t.c and (
            "participant_id" not in seen
        ):
            out.append((t, t.c.participant_id, tables["participant"].c.id))
    return out


# -- export ----------------------------------------------------------------------------------------
def _plain(col: str, value: Any) -> Any:
    if value is None:
        return None
    if col in REDACTED:
        return REDACTED[col]
    if isinstance(value, bytes | bytearray | memoryview):
        return "stored encrypted"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_rows(session: Session, participant_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row held about one participant, by table: their own rows and the rows hanging off those.

    Hashes and encrypted values are described, not copied. Rows of other people never appear.
    """
    tables = _tables()
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, Any]] = set()

    def walk(table: Table, cond: ColumnElement[bool], depth: int) -> None:
        rows = session.execute(select(table).where(cond)).mappings().all()
        pk = [c.name for c in table.primary_key.columns]
        fresh = []
        for r in rows:
            ident = (table.name, tuple(r[c] for c in pk))
            if ident in seen:
                continue
            seen.add(ident)
            row = {k: _plain(k, v) for k, v in r.items()}
            if table.name == "outbox_message" and row.get("kind") == "export":
                row["payload_json"] = "(part of an earlier copy of your data)"  # copies never nest
            elif table.name == "outbox_message" and row.get("kind") in SECRET_KINDS:
                row["payload_json"] = "(a message with a one-time code)"  # never copy a live code
            fresh.append(row)
        if fresh:
            out.setdefault(table.name, []).extend(fresh)
        # Rows that outlive an erasure (alerts, cards...) are shown, but what hangs off them may be
        # other people's (e.g. supporters of a card this person raised), so the walk stops there.
        if depth > 6 or not rows or table.name in KEEP_UNLINKED:
            return
        for child, col, parent_col in _children(table.name):
            if child.name == "participant":
                continue
            keys = select(table.c[parent_col.name]).where(cond)
            walk(child, col.in_(keys), depth + 1)

    walk(tables["participant"], tables["participant"].c.id == participant_id, 0)
    return out


def export_json(session: Session, participant_id: int) -> str:
    """The export as indented JSON text."""
    return json.dumps(export_rows(session, participant_id), ensure_ascii=False, indent=1, default=str)


# -- erasure ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErasureReport:
    deleted: dict[str, int]
    unlinked: dict[str, int]

    @property
    def alerts_kept(self) -> int:
        return self.unlinked.get("alert", 0)


def erase(session: Session, participant_id: int) -> ErasureReport:
    """Delete everything about a participant; keep safeguarding alerts, cards raised for everyone (and a few
    ledgers) unlinked. A card raised about the person's own situation is deleted with them.

    Deletes answers, submissions, conversation, channel identities, outbox rows, link codes and the
    participant row itself, plus any row of another feature that references them. Goodbye replies
    still waiting to be sent are kept without the link until the sender has delivered them.
    """
    deleted: dict[str, int] = {}
    unlinked: dict[str, int] = {}
    tables = _tables()
    session.flush()
    n = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.participant_id == participant_id, OutboxMessage.kind == GOODBYE_KIND,
               OutboxMessage.status == "pending")
        .values(participant_id=None)
    ).rowcount
    if n:
        unlinked["outbox_message"] = int(n)

    def cascade(table: Table, cond: ColumnElement[bool], depth: int) -> None:
        if depth > 8:
            raise RuntimeError(f"reference chain too deep at {table.name}")
        for child, col, parent_col in _children(table.name):
            if child.name == table.name:
                continue
            keys = select(table.c[parent_col.name]).where(cond)
            child_cond = col.in_(keys)
            if child.name in KEEP_UNLINKED and col.nullable:
                count = session.execute(update(child).where(child_cond).values({col.name: None})).rowcount
                if count:
                    unlinked[child.name] = unlinked.get(child.name, 0) + int(count)
            else:
                cascade(child, child_cond, depth + 1)
        count = session.execute(delete(table).where(cond)).rowcount
        if count:
            deleted[table.name] = deleted.get(table.name, 0) + int(count)

    # A card raised about the person's own situation ("mostly me") is theirs, not the council's: it goes with
    # them (its events, supporters and notices first). A card for everyone in care stays, unlinked.
    cards = tables["challenge_card"]
    cascade(cards, (cards.c.raised_by == participant_id) & cards.c.personal.is_(True), 0)
    cascade(tables["participant"], tables["participant"].c.id == participant_id, 0)
    session.expunge_all()  # ORM copies of deleted rows must not be written back by a later flush
    _scrub_after_commit(session)
    return ErasureReport(deleted, unlinked)


def _scrub_after_commit(session: Session) -> None:
    """Once the erasure has committed, empty SQLite's write-ahead log into the file: secure_delete has zeroed the
    deleted rows there, and the log's older frames (which still hold the words) are truncated away."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind

    def _after_commit(_s: Session) -> None:
        if not checkpoint(engine):
            log.warning("erasure.checkpoint_busy")  # a long reader held the log; the next erasure retries

    event.listen(session, "after_commit", _after_commit, once=True)


def erase_at_commit(session: Session, participant_id: int) -> None:
    """Erase the participant as the last thing before this transaction commits.

    Used from inside a conversation step: the step still writes its state, ledger and reply rows,
    and all of them go in the same transaction as the erasure.
    """

    def _before_commit(s: Session) -> None:
        erase(s, participant_id)

    event.listen(session, "before_commit", _before_commit, once=True)


def alerts_on_record(session: Session, participant_id: int) -> int:
    """How many safeguarding alerts are linked to this participant (they survive an erasure, unlinked)."""
    return int(
        session.execute(
            select(func.count()).select_from(Alert).where(Alert.participant_id == participant_id)
        ).scalar_one()
    )


# -- look-ups for the participant's own summary and for staff -----------------------------------------
@dataclass(frozen=True)
class FlowCountView:
    flow_id: str
    runs: int
    completed: int
    last_at: datetime | None


def flow_counts(session: Session, participant_id: int) -> list[FlowCountView]:
    """How many times this participant started and finished each flow (with at least one answer)."""
    rows = session.execute(
        select(
            Submission.flow_id,
            func.count(func.distinct(Submission.id)),
            func.count(func.distinct(case((Submission.completed_at.is_not(None), Submission.id)))),  # type: ignore[union-attr]
            func.max(Answer.answered_at),
        )
        .join(Answer, Answer.submission_id == Submission.id)
        .where(Submission.participant_id == participant_id)
        .group_by(Submission.flow_id)
        .order_by(Submission.flow_id)
    ).all()
    return [FlowCountView(r[0], int(r[1]), int(r[2]), utc(r[3])) for r in rows]


def by_case_ref(session: Session, case_ref: str) -> Participant | None:
    return session.execute(select(Participant).where(Participant.case_ref == case_ref)).scalar_one_or_none()


def set_status(session: Session, participant: Participant, status: str) -> None:
    """Change a participant's status: active, or opted_out (no notices or reminders)."""
    participant.status = status
    session.add(participant)


# -- key rotation ----------------------------------------------------------------------------------
def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted column: binary columns whose name ends in `_enc`."""
    out = []
    for t in SQLModel.metadata.sorted_tables:
        for c in t.columns:
            if c.name.endswith("_enc") and isinstance(c.type, LargeBinary):
                out.append((t.name, c.name))
    return out


def reencrypt_batch(
    session: Session,
    table: str,
    column: str,
    transform: Callable[[bytes], bytes],
    *,
    after_id: int,
    limit: int = 500,
) -> tuple[int, int | None]:
    """Re-encrypt up to `limit` values with id > after_id; returns (rows changed, last id, None when done)."""
    t = _tables()[table]
    col, pk = t.c[column], t.c.id
    rows = session.execute(
        select(pk, col).where(pk > after_id, col.is_not(None)).order_by(pk).limit(limit)
    ).all()
    for row_id, value in rows:
        session.execute(update(t).where(pk == row_id).values({column: transform(bytes(value))}))
    return len(rows), (rows[-1][0] if len(rows) == limit else None)


def seal_clear_answers(
    session: Session, encrypt: Callable[[str], bytes], *, after_id: int, limit: int = 500
) -> tuple[int, int | None]:
    """Move free text still stored in clear (rows from before issue 22, staff-entered paper answers) into the
    encrypted column; returns (rows sealed, last id, None when done)."""
    rows = session.execute(
        select(Answer.id, Answer.text_value)
        .where(Answer.id > after_id, Answer.text_value.is_not(None))  # type: ignore[operator, union-attr]
        .order_by(Answer.id)
        .limit(limit)
    ).all()
    for answer_id, words in rows:
        session.execute(update(Answer).where(Answer.id == answer_id).values(text_enc=encrypt(words), text_value=None))
    return len(rows), (rows[-1][0] if len(rows) == limit else None)


def encrypted_values(session: Session, table: str, column: str) -> list[bytes]:
    """Every non-null value of an encrypted column (for checking a rotation)."""
    t = _tables()[table]
    return [bytes(v) for (v,) in session.execute(select(t.c[column]).where(t.c[column].is_not(None))).all()]


def b64(value: bytes) -> str:
    """Encrypted bytes as text, for JSON files written by staff tools."""
    return base64.b64encode(value).decode()


def purge_goodbyes(session: Session) -> int:
    """Delete goodbye replies of erased participants once the outbox has delivered (or given up on) them."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.participant_id.is_(None),  # type: ignore[union-attr]
            OutboxMessage.kind == GOODBYE_KIND,
            OutboxMessage.status.in_(("sent", "dead")),  # type: ignore[attr-defined]
        )
    )
    return int(result.rowcount or 0)


def scrub_sent_secrets(session: Session) -> int:
    """Blank the text of delivered replies that carried a one-time code (the outbox needed it until sent)."""
    gone = json.dumps({"text": "(a one-time code, removed after sending)", "layout": "none", "choices": []})
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind.in_(SECRET_KINDS),  # type: ignore[attr-defined]
            OutboxMessage.status.in_(("sent", "dead")),  # type: ignore[attr-defined]
            OutboxMessage.payload_json != gone,
        )
        .values(payload_json=gone)
    )
    return int(result.rowcount or 0)
