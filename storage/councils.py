"""The councils one service runs for (issue 26 item 4): the list of tenants, not any council's data.

The deployment's own council is the first row (migration 0016) and keeps its council file on disk
(`council_yaml` None); a council added with `ourvoice council add --file X.yaml` is stored with its file's text,
so every process of the service reads the same content for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, select
from sqlmodel import Field, Session, SQLModel


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


def add(session: Session, *, council_id: str, name: str, council_yaml: str, now: datetime) -> CouncilRow:
    row = CouncilRow(id=council_id, name=name, council_yaml=council_yaml, created_at=now)
    session.add(row)
    session.flush()
    return row
