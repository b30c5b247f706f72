"""contact_request (a "get in touch" answer in a team's queue), contact_point (an email or mobile given for
short notices, encrypted) and notify_message (GOV.UK Notify sends: template, reference, status) — issue 25

Revision ID: 5a2c9e7f1b84
Revises: 3e8b5d2a9c61
Create Date: 2026-12-05 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "5a2c9e7f1b84"
down_revision: str | None = "3e8b5d2a9c61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = AutoString
_T = UTCDateTime


def upgrade() -> None:
    op.create_table(
        "contact_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("team", _S(length=40), nullable=False),
        sa.Column("audience", _S(length=20), nullable=False),
        sa.Column("district", _S(length=40), nullable=True),
        sa.Column("flow_id", _S(length=48), nullable=False),
        sa.Column("question_id", _S(length=48), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("acknowledged_at", _T(), nullable=True),
        sa.Column("acknowledged_by", _S(length=80), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("last_reply_at", _T(), nullable=True),
        sa.Column("closed_at", _T(), nullable=True),
        sa.Column("closed_by", _S(length=80), nullable=True),
        sa.Column("outcome", _S(length=40), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["answer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id"),
    )
    with op.batch_alter_table("contact_request") as batch:
        batch.create_index(batch.f("ix_contact_request_participant_id"), ["participant_id"], unique=False)
        batch.create_index(batch.f("ix_contact_request_created_at"), ["created_at"], unique=False)
    op.create_table(
        "contact_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=10), nullable=False),
        sa.Column("address_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_point") as batch:
        batch.create_index(batch.f("ix_contact_point_participant_id"), ["participant_id"], unique=False)
    op.create_table(
        "notify_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _S(length=40), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("contact_point_id", sa.Integer(), nullable=True),
        sa.Column("kind", _S(length=10), nullable=False),
        sa.Column("template_id", _S(length=40), nullable=False),
        sa.Column("notice", _S(length=30), nullable=False),
        sa.Column("status", _S(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _T(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("sent_at", _T(), nullable=True),
        sa.Column("notify_id", _S(length=40), nullable=True),
        sa.Column("error", _S(length=200), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["contact_point_id"], ["contact_point.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("notify_message") as batch:
        batch.create_index(batch.f("ix_notify_message_participant_id"), ["participant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("notify_message")
    op.drop_table("contact_point")
    op.drop_table("contact_request")
