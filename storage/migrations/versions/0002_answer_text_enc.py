"""flagged free text kept only encrypted: answer.text_enc

Revision ID: 5b7e2d91a3c4
Revises: c040572b4159
Create Date: 2026-12-03 18:05:00

From this revision the dispatcher stores a flagged answer's words only in text_enc (a Fernet token) and
leaves text_value empty. Flagged words already stored in plain text are cleared: the migration has no keys
to encrypt them with, and every flagged message's full text is already kept encrypted on its alert, so
staff lose nothing.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7e2d91a3c4"
down_revision: str | None = "c040572b4159"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        batch.add_column(sa.Column("text_enc", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE answer SET text_value = NULL WHERE quarantined AND text_value IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("text_enc")
