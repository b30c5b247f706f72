"""Who a "you said, we did" line is for (issue 20): report_action.bands.

A line about college bus passes belongs on the 16-25s' page and in their message after the Panel, not on the
7-11s'. Comma-separated age-band keys; NULL means every age group (every line written before this migration).

Revision ID: 3f7d2a9c1e84
Revises: 9c4e1a7b2d60
Create Date: 2026-12-06 04:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f7d2a9c1e84"
down_revision: str | None = "9c4e1a7b2d60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_action") as batch:
        batch.add_column(sa.Column("bands", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_action") as batch:
        batch.drop_column("bands")
