"""push_subscription (a browser's Web Push subscription for the web chat, stored encrypted) and push_message (one
neutral ping per waiting web chat notice and subscription: status, tries; never any message text) - issue 25

Revision ID: 9d4e1a7c2b58
Revises: 3b9d2f6a1c47
Create Date: 2026-12-05 09:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "9d4e1a7c2b58"
down_revision: str | None = "3b9d2f6a1c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = AutoString
_T = UTCDateTime


def upgrade() -> None:
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_hash", _S(length=64), nullable=False),
        sa.Column("data_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("last_sent_at", _T(), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_hash"),
    )
    with op.batch_alter_table("push_subscription") as batch:
        batch.create_index(batch.f("ix_push_subscription_participant_id"), ["participant_id"], unique=False)
    op.create_table(
        "push_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _T(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("sent_at", _T(), nullable=True),
        sa.Column("error", _S(length=200), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["push_subscription.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "outbox_id"),
    )
    with op.batch_alter_table("push_message") as batch:
        batch.create_index("ix_push_message_due", ["status", "not_before"], unique=False)
        batch.create_index(batch.f("ix_push_message_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    op.drop_table("push_message")
    op.drop_table("push_subscription")
