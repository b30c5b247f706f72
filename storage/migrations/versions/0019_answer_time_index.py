"""An index for a period's answers (issue 20): answer_choice by (flow_id, answered_at).

The Panel paper's roll-ups (admin/reports/rollups.refresh -> storage.reporting.people_counts) ask for one
flow's answers between two times, for the period, the one before it and their months and quarters. Without
this index each of those scanned every answer of the flow; with it, a year of 10,000 people's answers is read
a period at a time.

Revision ID: 9c4e1a7b2d60
Revises: 5e2b8c1d7f43
Create Date: 2026-12-05 18:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "9c4e1a7b2d60"
down_revision: str | None = "5e2b8c1d7f43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_answer_choice_flow_time", "answer_choice", ["flow_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_answer_choice_flow_time", table_name="answer_choice")
