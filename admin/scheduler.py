"""APScheduler 3.x as a thin trigger: every job is a plain function `job(rt, *, now) -> str`.

Run-once across processes: each occurrence is claimed by inserting a `job_run` row keyed by
(job name, scheduled time); only the process whose insert succeeds runs it (see TECH-NOTES).
The CLI (`ourvoice jobs run NAME`) calls the same functions with an explicit `now`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.process_role import ROLE
from storage import jobs as job_store
from storage.db import session

log = logging.getLogger("ourvoice.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    func: str  # "module:function", imported when first run so features stay decoupled
    cron: dict[str, Any] = field(default_factory=dict)
    every_seconds: int | None = None

    def load(self) -> Callable[..., str]:
        module, _, attr = self.func.partition(":")
        return getattr(importlib.import_module(module), attr)


# Job definitions live in code (never in a shared job store): features add one line each.
JOBS: list[Job] = [
    Job("alerts_escalate", "admin.jobs.alerts:escalate", every_seconds=60),
    Job("contact_requests", "admin.jobs.contact_requests:collect", every_seconds=60),  # issue 25
    Job("notify_send", "admin.jobs.notify:send", every_seconds=60),  # texts and emails via GOV.UK Notify (25)
    Job("review_delivery", "admin.jobs.reviews:delivery", every_seconds=60),  # statements' emails sent/failed (21)
    Job("push_send", "admin.jobs.push:send", every_seconds=30),  # web chat pings, no text (issue 25)
    Job("to_read_escalate", "admin.jobs.to_read:escalate", every_seconds=300),  # unread past review (18)
    Job("carer_survey_notices", "admin.jobs.carer_reminders:send_notices", every_seconds=900),
    Job("event_notices", "admin.jobs.events:send", every_seconds=900),  # invitations, reminders, evaluations (20)
    Job("carer_survey_digest", "admin.jobs.carer_reminders:weekly_digest",
        cron={"day_of_week": "mon", "hour": 9}),
    Job("identity_purge", "admin.jobs.identity:purge", every_seconds=900),  # counters, link codes (issue 5)
    Job("you_said_we_did", "admin.jobs.you_said_we_did:run", cron={"hour": 10, "minute": 5}),  # issue 6
    Job("reports_rollup", "admin.jobs.rollup:nightly", cron={"hour": 2, "minute": 20}),  # issue 8
    Job("reports_panel_summary", "admin.jobs.rollup:panel_summary", cron={"hour": 6, "minute": 30}),  # 8
    Job("dashboard_refresh", "admin.jobs.dashboard:refresh", every_seconds=300),  # staff dashboard (issue 9)
    Job("responses_warm", "admin.jobs.responses:warm", cron={"hour": 2, "minute": 40}),  # Responses pages (19)
    Job("staff_prune", "admin.jobs.staff:prune", every_seconds=900),  # expired staff sessions (issue 9)
    Job("staff_new_cards", "admin.jobs.staff_notices:new_cards", every_seconds=120),  # Slack staff (issue 10)
    Job("staff_digest", "admin.jobs.staff_notices:weekly_digest", cron={"day_of_week": "mon", "hour": 9,
                                                                        "minute": 10}),  # issue 10
    Job("staff_approvals", "admin.jobs.staff_notices:approvals_waiting",
        cron={"day_of_week": "mon-fri", "hour": 9, "minute": 15}),  # good news and quotes waiting (issue 25)
]


def occurrence(job: Job, now: datetime) -> datetime:
    """The scheduled slot `now` belongs to: the claim key shared by every process."""
    if job.every_seconds:
        epoch = int(now.timestamp()) // job.every_seconds * job.every_seconds
        return datetime.fromtimestamp(epoch, UTC)
    return now.replace(second=0, microsecond=0)


def run_job(rt: Any, job: Job, *, now: datetime, claim: bool = True) -> str | None:
    """Run one occurrence if this process wins the claim; returns the job's summary or None."""
    slot = occurrence(job, now)
    if claim:
        with session(rt.engine) as s:
            if not job_store.claim(s, job.name, slot, now=now):
                return None
    result = job.load()(rt, now=now)
    if claim:
        with session(rt.engine) as s:
            job_store.finish(s, job.name, slot, now=now, result=str(result))
    log.info("job.done name=%s", job.name)
    return result


def build_scheduler(rt: Any, *, jobs: list[Job] | None = None, timezone: str = "Europe/London") -> BackgroundScheduler:
    """A background scheduler that fires every job through `run_job` (claim first)."""
    sched = BackgroundScheduler(timezone=timezone)
    ROLE.scheduler = "claims"  # every process may run it: each occurrence is claimed in the database
    for job in jobs or JOBS:
        trigger = (
            IntervalTrigger(seconds=job.every_seconds)
            if job.every_seconds
            else CronTrigger(timezone=timezone, **job.cron)
        )

        def fire(job: Job = job) -> None:
            try:
                run_job(rt, job, now=datetime.now(UTC))
            except Exception:
                log.exception("job.failed name=%s", job.name)

        sched.add_job(
            fire, trigger, id=job.name, name=job.name, max_instances=1, coalesce=True, misfire_grace_time=300
        )
    return sched
