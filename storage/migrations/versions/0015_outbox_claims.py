"""Several processes send one outbox (issue 26): outbox_message.claimed_by / claimed_until (a claim per chat
that runs out, so a killed process's rows are taken over), sending_at (a send was started: a row still pending
with it set was in flight when its sender stopped), an index for a chat's oldest pending row, and send_budget
(one row per channel: the next free send slot and the time a 429 blocks sending until, shared by every process)

Revision ID: 6c3f1b8e2a94
Revises: 5e2a8c1d9f03
Create Date: 2026-12-05 09:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime
from alembic import op

revision: str = "6c3f1b8e2a94"
down_revision: str | None = "5e2a8c1d9f03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claimed_by", AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sending_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_outbox_chat", ["channel", "participant_id", "status", "id"], unique=False)
    op.create_table(
        "send_budget",
        sa.Column("channel", AutoString(length=20), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_chat")
        batch.drop_column("sending_at")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
