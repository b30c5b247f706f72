"""Many councils on one service (issue 26 item 4): a `council` table, and a council_id on every table that holds a
council's data, filled with the deployment's own council (its council file's id) for the rows already there.

On PostgreSQL each of those tables also gets row-level security, FORCEd so the table's owner is held to it too:
a row is seen, changed or added only when its council_id is the transaction's `ourvoice.council` setting (set by
storage/tenancy.py at the start of every transaction). Sign-in and redeeming an invite must find a row before
the council is known: the few tables they read also admit SELECT while `ourvoice.lookup` is on
(storage/tenancy.lookup()). Keys that were unique per deployment (a topic's publication, the audit chain's
head, a dashboard period, roll-up rows, a panel's paper, a channel's message id) become unique per council.
SQLite keeps one council (it has no row-level security; `ourvoice council add` refuses there).

Revision ID: c4f7a2e91b60
Revises: 6c3f1b8e2a94
Create Date: 2026-12-05 09:10:00
"""
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision: str = "c4f7a2e91b60"
down_revision: str | None = "6c3f1b8e2a94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table holding a council's data on 2026-12-05. Not here: council (the list of tenants), job_run,
# sender_lease and send_budget (the processes' own coordination), login_attempt and attempt_counter (rate limits
# on guesses, keyed by hashes, before anyone's council is known).
TABLES = (
    "participant", "channel_identity", "conversation", "inbound_event", "submission", "answer", "answer_choice",
    "outbox_message", "alert", "audit_entry", "audit_head", "topic_publication", "staff", "staff_session",
    "dashboard_snapshot", "dashboard_reach", "rollup_period", "rollup_choice", "rollup_reach", "quote",
    "report_action", "challenge_card", "card_event", "card_supporter", "card_notice", "card_listing",
    "panel_digest", "good_news", "review_statement", "survey_wave", "wave_member", "wave_notice", "invite",
    "link_code", "data_copy_link", "to_read", "panel_paper", "card_resolution", "contact_request", "contact_point",
    "notify_message", "theme_summary", "participation_event", "event_invitation", "event_attendance",
    "event_evaluation", "push_subscription", "push_message",
)
# Read before anyone's council is known: who signs in, which session a cookie is, which invite a code is,
# which participant a channel id or a web chat device is.
LOOKUP = ("staff", "staff_session", "invite", "channel_identity", "participant", "link_code", "data_copy_link")
# Primary keys that become (council_id, ...). Each council's audit chain numbers its rows 1, 2, 3...
PRIMARY = {
    "topic_publication": ("topic_id",), "audit_head": ("id",), "audit_entry": ("id",), "dashboard_snapshot": ("period_days",),
    "rollup_period": ("period",), "panel_digest": ("panel_date", "council"),
}
# Unique constraints that become (council_id, ...).
UNIQUE = {
    "rollup_choice": ("period", "flow_id", "question_id", "choice", "council", "band", "district"),
    "rollup_reach": ("period", "audience", "council", "band", "district"),
    "theme_summary": ("topic_id", "question_id", "since", "until"),
    "panel_paper": ("panel_date",),
    "inbound_event": ("channel", "message_id"),
}
SETTING = "current_setting('ourvoice.council', true)"


def default_council() -> tuple[str, str]:
    """(id, name) in the deployment's council file ($OURVOICE_COUNCIL_FILE, else content/council.yaml)."""
    configured = os.environ.get("OURVOICE_COUNCIL_FILE", "").strip()
    path = Path(configured) if configured else Path(__file__).resolve().parents[3] / "content" / "council.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(data["id"]), str(data.get("name") or data["id"])


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    home, name = default_council()
    council = op.create_table(
        "council",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("council_yaml", sa.Text(), nullable=True),  # None: the deployment's own council file
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(council, [{"id": home, "name": name, "council_yaml": None, "created_at": _now()}])
    existing = set(sa.inspect(bind).get_table_names())
    for table in TABLES:
        if table not in existing:
            continue
        # Plain ADD COLUMN (no batch copy): SQLite keeps audit_entry's append-only triggers.
        op.add_column(table, sa.Column("council_id", sa.String(40), nullable=False, server_default=home))
        op.create_index(f"ix_{table}_council_id", table, ["council_id"])
        if not postgres:
            continue
        op.execute(f"ALTER TABLE {table} ALTER COLUMN council_id SET DEFAULT {SETTING}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY council_only ON {table} USING (council_id = {SETTING}) "
                   f"WITH CHECK (council_id = {SETTING})")
        if table in LOOKUP:
            op.execute(f"CREATE POLICY council_lookup ON {table} FOR SELECT "
                       "USING (current_setting('ourvoice.lookup', true) = 'on')")
    inspector = sa.inspect(bind)
    if postgres:
        for table, cols in PRIMARY.items():
            if table in existing:
                pk = inspector.get_pk_constraint(table)["name"]
                op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {pk}")
                op.create_primary_key(pk, table, ["council_id", *cols])
    for table, cols in UNIQUE.items():
        if table not in existing:
            continue
        # SQLite: reflected unnamed constraints get a name by this convention so the batch copy can drop them.
        with op.batch_alter_table(table, naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as b:
            for uq in inspector.get_unique_constraints(table):
                if tuple(uq["column_names"]) == cols:
                    b.drop_constraint(uq["name"] or f"uq_{table}_{cols[0]}", type_="unique")
            b.create_unique_constraint(f"uq_{table}_council", ["council_id", *cols])


def _now() -> datetime:
    """The first council row's time (UTC)."""
    return datetime.now(UTC)


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    existing = set(sa.inspect(bind).get_table_names())
    for table, cols in UNIQUE.items():
        if table in existing:
            with op.batch_alter_table(table) as b:
                b.drop_constraint(f"uq_{table}_council", type_="unique")
                b.create_unique_constraint(f"uq_{table}", list(cols))
    if postgres:
        inspector = sa.inspect(bind)
        for table, cols in PRIMARY.items():
            if table in existing:
                pk = inspector.get_pk_constraint(table)["name"]
                op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {pk}")
                op.create_primary_key(pk, table, list(cols))
    for table in TABLES:
        if table not in existing:
            continue
        if postgres:
            op.execute(f"DROP POLICY IF EXISTS council_lookup ON {table}")
            op.execute(f"DROP POLICY IF EXISTS council_only ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.drop_index(f"ix_{table}_council_id", table)
        op.drop_column(table, "council_id")
    op.drop_table("council")
