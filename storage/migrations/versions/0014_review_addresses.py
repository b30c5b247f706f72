"""Review statements to the named IRO or social worker (issue 25 item 5) and as email outbox rows (issue 21
item 6): invite.iro_to_enc / social_worker_to_enc (encrypted addresses given when the invite is made), the same
two copied to the participant who redeems it, and review_statement.outbox_id (the email row that carries the
statement, so its delivery can be read back into the statement's status)

Revision ID: 5e2a8c1d9f03
Revises: 9d4e1a7c2b58
Create Date: 2026-12-05 09:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2a8c1d9f03"
down_revision: str | None = "9d4e1a7c2b58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("invite", "participant"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("iro_to_enc", sa.LargeBinary(), nullable=True))
            batch.add_column(sa.Column("social_worker_to_enc", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("review_statement") as batch:
        batch.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_statement") as batch:
        batch.drop_column("outbox_id")
    for table in ("participant", "invite"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("social_worker_to_enc")
            batch.drop_column("iro_to_enc")
