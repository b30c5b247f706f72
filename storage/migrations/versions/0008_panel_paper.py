"""panel_paper (cover text and population per Panel) and card_resolution (the Panel's resolution on a card)

Revision ID: 3e8b5d2a9c61
Revises: a7d1f3c9e207
Create Date: 2026-12-05 06:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime
from alembic import op

revision: str = "3e8b5d2a9c61"
down_revision: str | None = "a7d1f3c9e207"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel_paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_date", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("children_in_care", sa.Integer(), nullable=True),
        sa.Column("care_leavers", sa.Integer(), nullable=True),
        sa.Column("updated_by", AutoString(length=80), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("panel_date"),
    )
    op.create_table(
        "card_resolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("panel_date", sa.Date(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("recorded_by", AutoString(length=80), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["challenge_card.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_id", "panel_date"),
    )
    op.create_index("ix_card_resolution_card_id", "card_resolution", ["card_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_card_resolution_card_id", table_name="card_resolution")
    op.drop_table("card_resolution")
    op.drop_table("panel_paper")
