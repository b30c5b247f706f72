"""invite.language and participant.language: the language an invite is for (`invite create --language ar`),
copied to the person who redeems it, so the bot speaks it from the first message (issue 24)

Revision ID: 3b9d2f6a1c47
Revises: 7c41e0a9b3d2
Create Date: 2026-12-05 07:31:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "3b9d2f6a1c47"
down_revision: str | None = "7c41e0a9b3d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("language", AutoString(length=16), nullable=True))
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("language", AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("language")
