"""The councils one service runs for (issue 26 item 4): the list of tenants, not any council's data.

The deployment's own council is the first row (migration 0016) and keeps its council file on disk
(`council_yaml` None); a council added with `ourvoice council add --file X.yaml` is stored with its file's text,
so every process of the service reads the same content for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, select
from sqlmodel import Field, Session, SQLModel

from storage import tenancy
from storage.models import ChannelIdentity, DataCopyLink, Invite, LinkCode, Participant, StaffAccount, StaffSession


class CouncilRow(SQLModel, table=True):
    __tablename__ = "council"
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    council_yaml: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime


def list_councils(session: Session) -> list[CouncilRow]:
    query = select(CouncilRow).order_by(CouncilRow.created_at, CouncilRow.id)  # type: ignore[arg-type]
    return list(session.execute(query).scalars())


def get(session: Session, council_id: str) -> CouncilRow | None:
    return session.get(CouncilRow, council_id)


def bypasses_row_security(session: Session) -> bool:
    """PostgreSQL: whether this connection's role ignores row-level security (then only the app's filter would
    keep councils apart, and ORM updates by a per-council key would reach every council's row)."""
    from sqlalchemy import text

    query = text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    return bool(session.execute(query).scalar())


def add(session: Session, *, council_id: str, name: str, council_yaml: str, now: datetime) -> CouncilRow:
    row = CouncilRow(id=council_id, name=name, council_yaml=council_yaml, created_at=now)
    session.add(row)
    session.flush()
    return row


# --- finding a row's council before it is known (sign-in, a session cookie, an invite code, a channel id) ---
# Each runs inside tenancy.lookup(): on PostgreSQL only these tables admit it, and only for SELECT.


def _council_of(session: Session, model: Any, column: Any, value: str) -> str | None:
    with tenancy.lookup():
        found = session.execute(select(model.council_id).where(column == value).limit(1)).scalar_one_or_none()
    return str(found) if found is not None else None


def council_of_staff(session: Session, username: str) -> str | None:
    return _council_of(session, StaffAccount, StaffAccount.username, username.strip().lower()[:80])


def council_of_staff_session(session: Session, id_hash: str) -> str | None:
    return _council_of(session, StaffSession, StaffSession.id_hash, id_hash)


def council_of_invite(session: Session, code_hash: str) -> str | None:
    return _council_of(session, Invite, Invite.code_hash, code_hash)


def council_of_link(session: Session, code_hash: str) -> str | None:
    return _council_of(session, LinkCode, LinkCode.code_hash, code_hash)


def council_of_data_copy(session: Session, token_hash: str) -> str | None:
    return _council_of(session, DataCopyLink, DataCopyLink.token_hash, token_hash)


def council_of_identity(session: Session, key_hash: str) -> str | None:
    return _council_of(session, ChannelIdentity, ChannelIdentity.key_hash, key_hash)


def council_of_participant(session: Session, participant_id: int) -> str | None:
    return _council_of(session, Participant, Participant.id, participant_id)  # type: ignore[arg-type]
