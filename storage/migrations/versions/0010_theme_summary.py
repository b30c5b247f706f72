"""theme_summary: a staff-written theme summary per topic question and fixed period (issue 19, item 6)

Revision ID: e354c0cd8ec9
Revises: 5a2c9e7f1b84
Create Date: 2026-12-05 06:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "e354c0cd8ec9"
down_revision: str | None = "5a2c9e7f1b84"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", AutoString(length=80), nullable=False),
        sa.Column("question_id", AutoString(length=80), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("written_by", AutoString(length=80), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic_id", "question_id", "since", "until"),
    )


def downgrade() -> None:
    op.drop_table("theme_summary")
