"""participation_event, event_invitation, event_attendance, event_evaluation: council meetings and
participation events, invitations and RSVPs, per-person attendance and the two-question evaluation (issue 20)

Revision ID: 7c41e0a9b3d2
Revises: e354c0cd8ec9
Create Date: 2026-12-05 06:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "7c41e0a9b3d2"
down_revision: str | None = "e354c0cd8ec9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = AutoString
_T = UTCDateTime


def upgrade() -> None:
    op.create_table(
        "participation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=20), nullable=False),
        sa.Column("title", _S(length=120), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("start_time", _S(length=5), nullable=True),
        sa.Column("council", _S(length=40), nullable=True),
        sa.Column("bands", _S(length=80), nullable=False),
        sa.Column("district", _S(length=40), nullable=True),
        sa.Column("place", _S(length=120), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("status", _S(length=20), nullable=False),
        sa.Column("short_code", _S(length=12), nullable=False),
        sa.Column("unnamed_attendees", sa.Integer(), nullable=False),
        sa.Column("created_by", _S(length=80), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("closed_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("short_code"),
    )
    op.create_index("ix_participation_event_held_on", "participation_event", ["held_on"])
    op.create_table(
        "event_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("participation_event.id"), nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participant.id"), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("sent_at", _T(), nullable=True),
        sa.Column("reminded_at", _T(), nullable=True),
        sa.Column("rsvp", _S(length=12), nullable=True),
        sa.Column("rsvp_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "participant_id", name="uq_event_invitation"),
    )
    op.create_index("ix_event_invitation_event_id", "event_invitation", ["event_id"])
    op.create_index("ix_event_invitation_participant_id", "event_invitation", ["participant_id"])
    op.create_table(
        "event_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("participation_event.id"), nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participant.id"), nullable=False),
        sa.Column("source", _S(length=12), nullable=False),
        sa.Column("band", _S(length=20), nullable=True),
        sa.Column("district", _S(length=40), nullable=True),
        sa.Column("recorded_at", _T(), nullable=False),
        sa.Column("evaluation_sent_at", _T(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "participant_id", name="uq_event_attendance"),
    )
    op.create_index("ix_event_attendance_event_id", "event_attendance", ["event_id"])
    op.create_index("ix_event_attendance_participant_id", "event_attendance", ["participant_id"])
    op.create_table(
        "event_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("participation_event.id"), nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participant.id"), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("next_time_enc", sa.LargeBinary(), nullable=True),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("band", _S(length=20), nullable=True),
        sa.Column("answered_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "participant_id", name="uq_event_evaluation"),
    )
    op.create_index("ix_event_evaluation_event_id", "event_evaluation", ["event_id"])
    op.create_index("ix_event_evaluation_participant_id", "event_evaluation", ["participant_id"])


def downgrade() -> None:
    op.drop_table("event_evaluation")
    op.drop_table("event_attendance")
    op.drop_table("event_invitation")
    op.drop_table("participation_event")
