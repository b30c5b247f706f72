"""Notify delivery receipts and addresses people control (issue 25 items 1-3): notify_message.receipt and
receipt_at (delivered, permanent-failure, temporary-failure, technical-failure, from Notify's callback or a
status poll); contact_point.not_working_at (a permanent failure: the address is not used again) and told_at (when
the person was told, next time they opened the chat), and contact_point.request_id (an address given for one
request to be contacted only: never used for other notices, removed when the request is closed)

Revision ID: 7a1d3e5f9b20
Revises: c4f7a2e91b60
Create Date: 2026-12-05 09:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision: str = "7a1d3e5f9b20"
down_revision: str | None = "c4f7a2e91b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notify_message") as batch:
        batch.add_column(sa.Column("receipt", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("receipt_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("contact_point") as batch:
        batch.add_column(sa.Column("not_working_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("told_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch.create_index("ix_contact_point_request_id", ["request_id"])


def downgrade() -> None:
    with op.batch_alter_table("contact_point") as batch:
        batch.drop_index("ix_contact_point_request_id")
        batch.drop_column("request_id")
        batch.drop_column("told_at")
        batch.drop_column("not_working_at")
    with op.batch_alter_table("notify_message") as batch:
        batch.drop_column("receipt_at")
        batch.drop_column("receipt")
