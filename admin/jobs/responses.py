"""Scheduled job: work out the Responses pages' protected figures for the last ended quarter ahead of the first
visit (admin/reports/responses.py keeps them for the process's life, keyed by the frozen roll-up they come from).

A plain `job(rt, *, now) -> str` (run once across processes by admin.scheduler claims). An ended quarter's
figures never change, so after the first run this only reads the roll-up and finds every flow already solved.
Never logs counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def warm(rt: Services, *, now: datetime) -> str:
    """Solve every counted flow's took-part and per-answer figures for the last ended quarter."""
    from admin.actions.policy import AGGREGATE_AUDIENCES
    from admin.reports import responses as counts
    from admin.reports.catalog import DISTRICTS
    from storage.db import session

    quarter = counts.ended_quarters(now, rt.report_settings.timezone, 1)[0]
    flows = counts.counted_flows(rt.library)
    before = counts.SOLVES[0]
    with session(rt.engine) as s:
        counts.for_flows(s, rt.library, flows, quarter, settings=rt.report_settings, now=now,
                         districts=DISTRICTS, role_audiences=AGGREGATE_AUDIENCES)
    return f"quarter {counts.quarter_label(quarter)}: {len(flows)} flows, {counts.SOLVES[0] - before} solved"
