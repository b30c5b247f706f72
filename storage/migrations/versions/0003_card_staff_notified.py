"""challenge_card.staff_notified_at: the staff channel is told once about each new card

Revision ID: 8d41c6f0b2e7
Revises: 5b7e2d91a3c4
Create Date: 2026-12-03 18:00:00

Cards that already exist are marked as told (at their creation time), so turning the staff channel
on does not post every old card at once.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "8d41c6f0b2e7"
down_revision: str | None = "5b7e2d91a3c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("challenge_card") as batch:
        batch.add_column(sa.Column("staff_notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute("UPDATE challenge_card SET staff_notified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("challenge_card") as batch:
        batch.drop_column("staff_notified_at")
