"""to_read queue; council case-system reference on invites and participants

Revision ID: 7c3e1a9d4f20
Revises: 2f9a6c3d7b15
Create Date: 2026-12-04 15:20:00

Every free-text answer already stored enters the "To read" queue as unread (score 0, flagged when it was
quarantined): until now nobody was asked to read them, so none can be counted as read.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7c3e1a9d4f20"
down_revision: str | None = "2f9a6c3d7b15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "to_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("flow_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("read_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("alert_ref", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("escalated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["answer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id"),
    )
    with op.batch_alter_table("to_read") as batch:
        batch.create_index("ix_to_read_queue", ["read_at", "score", "created_at"], unique=False)
        batch.create_index(batch.f("ix_to_read_participant_id"), ["participant_id"], unique=False)
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("council_ref_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("council_ref_enc", sa.LargeBinary(), nullable=True))
    op.execute(
        "INSERT INTO to_read (answer_id, participant_id, flow_id, question_id, district, score, flagged,"
        " created_at)"
        " SELECT a.id, s.participant_id, s.flow_id, a.question_id, s.district, 0.0, a.quarantined,"
        " a.answered_at FROM answer a JOIN submission s ON s.id = a.submission_id"
        " WHERE a.text_value IS NOT NULL OR a.text_enc IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("council_ref_enc")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("invite_id")
        batch.drop_column("council_ref_enc")
    with op.batch_alter_table("to_read") as batch:
        batch.drop_index(batch.f("ix_to_read_participant_id"))
        batch.drop_index("ix_to_read_queue")
    op.drop_table("to_read")
