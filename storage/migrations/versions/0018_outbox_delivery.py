"""One sender per channel for every council (issue 26 item 4): the outbox admits its sender across councils.

A service runs one Telegram bot (and one Slack app, one mail sender) for all its councils: the invite decides
which council a person belongs to, not the token. The outbox sender is therefore the one part that reads and
updates queued replies of every council, and only those: while `ourvoice.delivery` is on
(storage/tenancy.delivery(), used only by bot/outbox.py's claim, renew, mark and release), outbox_message
admits SELECT and UPDATE of any council's rows; never INSERT or DELETE, and no other table. Every other query
stays held to the transaction's council by migration 0016's policies.

Revision ID: 5e2b8c1d7f43
Revises: 7a1d3e5f9b20
Create Date: 2026-12-05 14:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "5e2b8c1d7f43"
down_revision: str | None = "7a1d3e5f9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ON = "current_setting('ourvoice.delivery', true) = 'on'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite serves one council: nothing to admit
    op.execute(f"CREATE POLICY outbox_delivery_read ON outbox_message FOR SELECT USING ({ON})")
    op.execute(f"CREATE POLICY outbox_delivery_update ON outbox_message FOR UPDATE USING ({ON}) WITH CHECK ({ON})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS outbox_delivery_update ON outbox_message")
    op.execute("DROP POLICY IF EXISTS outbox_delivery_read ON outbox_message")
