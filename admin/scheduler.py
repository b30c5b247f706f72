"""APScheduler 3.x as a thin trigger: every job is a plain function `job(rt, *, now) -> str`.

Run-once across processes: each occurrence is claimed by inserting a `job_run` row keyed by
(job name, scheduled time); only the process whose insert succeeds runs it (see TECH-NOTES).
The key is the slot the job was due in, worked out from its trigger, never the time a process happened to fire:
an interval job's slot is `now` rounded down to its period; a cron job's is its latest fire time at or before
`now`, so a process that wakes late (a busy machine, APScheduler's misfire grace) finds the slot another process
already ran and does not run it again. A cron slot that every process missed (all stopped at that moment, a
rolling restart) is caught up once by whichever process sweeps first, within the job's `catch_up` window.
The CLI (`ourvoice jobs run NAME`) calls the same functions with an explicit `now`.

Many councils on one service (issue 26): each occurrence runs once per council, in that council's context
(bot/tenant.serving: its rows, its districts and numbers), claimed per council ("name@council"; the deployment's
own council keeps the plain name). `ourvoice --council X jobs run NAME` runs it for X alone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from admin.jobs import alerts as alerts_job
from admin.jobs import carer_reminders as carer_reminders_job
from admin.jobs import contact_requests as contact_requests_job
from admin.jobs import dashboard as dashboard_job
from admin.jobs import events as events_job
from admin.jobs import identity as identity_job
from admin.jobs import notify as notify_job
from admin.jobs import push as push_job
from admin.jobs import responses as responses_job
from admin.jobs import reviews as reviews_job
from admin.jobs import rollup as rollup_job
from admin.jobs import staff as staff_job
from admin.jobs import staff_notices as staff_notices_job
from admin.jobs import to_read as to_read_job
from admin.jobs import you_said_we_did as you_said_we_did_job
from bot import tenant
from bot.process_role import ROLE
from storage import jobs as job_store
from storage import tenancy
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., str]  # the job itself, by reference (issue 21: no module names in strings)
    cron: dict[str, Any] = field(default_factory=dict)
    every_seconds: int | None = None
    # A cron slot missed by every process is run late, once, if a process sweeps within this long after it.
    catch_up: timedelta = timedelta(hours=1)

    @property
    def where(self) -> str:
        """"module:function", for listings and logs."""
        return f"{self.func.__module__}:{self.func.__qualname__}"


# Job definitions live in code (never in a shared job store): features add one line each.
JOBS: list[Job] = [
    Job("alerts_escalate", alerts_job.escalate, every_seconds=60),
    Job("contact_requests", contact_requests_job.collect, every_seconds=60),  # issue 25
    Job("notify_send", notify_job.send, every_seconds=60),  # texts and emails via GOV.UK Notify (25)
    Job("review_delivery", reviews_job.delivery, every_seconds=60),  # statements' emails sent/failed (21)
    Job("push_send", push_job.send, every_seconds=30),  # web chat pings, no text (issue 25)
    Job("to_read_escalate", to_read_job.escalate, every_seconds=300),  # unread past review (18)
    Job("carer_survey_notices", carer_reminders_job.send_notices, every_seconds=900),
    Job("event_notices", events_job.send, every_seconds=900),  # invitations, reminders, evaluations (20)
    Job("carer_survey_digest", carer_reminders_job.weekly_digest,
        cron={"day_of_week": "mon", "hour": 9}),
    Job("identity_purge", identity_job.purge, every_seconds=900),  # counters, link codes (issue 5)
    Job("you_said_we_did", you_said_we_did_job.run, cron={"hour": 10, "minute": 5}),  # issue 6
    Job("reports_rollup", rollup_job.nightly, cron={"hour": 2, "minute": 20}),  # issue 8
    Job("reports_panel_summary", rollup_job.panel_summary, cron={"hour": 6, "minute": 30}),  # 8
    Job("dashboard_refresh", dashboard_job.refresh, every_seconds=300),  # staff dashboard (issue 9)
    Job("responses_warm", responses_job.warm, cron={"hour": 2, "minute": 40}),  # Responses pages (19)
    Job("staff_prune", staff_job.prune, every_seconds=900),  # expired staff sessions (issue 9)
    Job("staff_new_cards", staff_notices_job.new_cards, every_seconds=120),  # Slack staff (issue 10)
    Job("staff_digest", staff_notices_job.weekly_digest, cron={"day_of_week": "mon", "hour": 9,
                                                                        "minute": 10}),  # issue 10
    Job("staff_approvals", staff_notices_job.approvals_waiting,
        cron={"day_of_week": "mon-fri", "hour": 9, "minute": 15}),  # good news and quotes waiting (issue 25)
]


DEFAULT_TZ = "Europe/London"
# How far back a cron job's latest fire time is looked for, widening until one is found (weekly jobs need 8 days).
_LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=8), timedelta(days=32), timedelta(days=367))


def cron_trigger(job: Job, timezone: str = DEFAULT_TZ) -> CronTrigger:
    return CronTrigger(timezone=timezone, **job.cron)


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before `now` (None if it never fired within a year)."""
    for back in _LOOKBACK:
        t = trigger.get_next_fire_time(None, now - back)
        if t is None or t > now:
            continue
        while True:
            n = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
            if n is None or n > now:
                return t  # type: ignore[no-any-return]
            t = n
    return None


def occurrence(job: Job, now: datetime, timezone: str = DEFAULT_TZ) -> datetime:
    """The scheduled slot `now` belongs to: the claim key shared by every process (UTC)."""
    if job.every_seconds:
        epoch = int(now.timestamp()) // job.every_seconds * job.every_seconds
        return datetime.fromtimestamp(epoch, UTC)
    fired = last_fire(cron_trigger(job, timezone), now)
    return (fired or now.replace(second=0, microsecond=0)).astimezone(UTC)


def _timezone(rt: Services) -> str:
    return str(getattr(getattr(rt, "settings", None), "timezone", None) or DEFAULT_TZ)


def councils_to_run(rt: Services) -> list[str]:
    """The councils a job runs for (issue 26): the one an entry point named (`--council`), else every council on
    the service (SQLite: the deployment's own)."""
    named = tenancy.explicit()
    if named is not None:
        return [named]
    if rt.engine.dialect.name != "postgresql":
        return [tenancy.default_id()]
    return [row.id for row in tenant.listing(rt.engine)] or [tenancy.default_id()]


def claim_name(job: Job, council: str) -> str:
    """The claim key's name: the job's own for the deployment's council (as before councils), else per council
    (hashed when it would not fit the 60-character key)."""
    if council == tenancy.default_id():
        return job.name
    name = f"{job.name}@{council}"
    return name if len(name) <= 60 else f"{job.name}@{hashlib.blake2b(council.encode(), digest_size=8).hexdigest()}"


def run_job(rt: Services, job: Job, *, now: datetime, claim: bool = True) -> str | None:
    """Run one occurrence for every council whose claim this process wins, each in its own council's context;
    returns the job's summary (each council's, named, when the service has several) or None."""
    councils = councils_to_run(rt)
    done: list[tuple[str, str]] = []
    failed: Exception | None = None
    for council in councils:
        try:
            with tenant.serving(rt.engine, council):
                result = _run_once(rt, job, claim_name(job, council), now=now, claim=claim)
        except Exception as exc:  # one council's failure does not stop the others' run
            log.exception("job.failed name=%s council=%s", job.name, council)
            failed = failed or exc
            continue
        if result is not None:
            done.append((council, result))
    if failed is not None:
        raise failed
    if not done:
        return None
    if len(councils) == 1:
        return done[0][1]
    return "; ".join(f"{council}: {result}" for council, result in done)


def _run_once(rt: Services, job: Job, name: str, *, now: datetime, claim: bool) -> str | None:
    """One council's occurrence, claimed under `name`."""
    slot = occurrence(job, now, _timezone(rt))
    if claim:
        with session(rt.engine) as s:
            if not job_store.claim(s, name, slot, now=now):
                return None
    result = job.func(rt, now=now)
    if claim:
        with session(rt.engine) as s:
            job_store.finish(s, name, slot, now=now, result=str(result))
    log.info("job.done name=%s council=%s", job.name, tenancy.current())
    return result


def catch_up(rt: Services, jobs: list[Job], *, now: datetime) -> list[str]:
    """Run, once across processes, each cron job's latest slot that no process ran, when it is at most the
    job's `catch_up` old (a slot missed while every process was stopped). Returns the names of the jobs run."""
    tz = _timezone(rt)
    ran: list[str] = []
    for job in jobs:
        if job.every_seconds:
            continue  # an interval job's next tick is its catch-up
        slot = occurrence(job, now, tz)
        if now - slot > job.catch_up:
            continue
        with session(rt.engine) as s:
            if all(job_store.claimed(s, claim_name(job, c), slot) for c in councils_to_run(rt)):
                continue  # run already (the usual case; for every council): no insert that would only fail
        if run_job(rt, job, now=now) is not None:
            log.info("job.caught_up name=%s slot=%s", job.name, slot.isoformat())
            ran.append(job.name)
    return ran


CATCH_UP_EVERY = 60  # seconds between sweeps for missed cron slots


def build_scheduler(rt: Services, *, jobs: list[Job] | None = None, timezone: str = DEFAULT_TZ) -> BackgroundScheduler:
    """A background scheduler that fires every job through `run_job` (claim first)."""
    sched = BackgroundScheduler(timezone=timezone)
    ROLE.scheduler = "claims"  # every process may run it: each occurrence is claimed in the database
    for job in jobs or JOBS:
        trigger = (
            IntervalTrigger(seconds=job.every_seconds)
            if job.every_seconds
            else cron_trigger(job, timezone)
        )

        def fire(job: Job = job) -> None:
            try:
                run_job(rt, job, now=datetime.now(UTC))
            except Exception:
                log.exception("job.failed name=%s", job.name)

        sched.add_job(
            fire, trigger, id=job.name, name=job.name, max_instances=1, coalesce=True, misfire_grace_time=300
        )
    cron_jobs = [job for job in jobs or JOBS if not job.every_seconds]

    def sweep() -> None:
        try:
            catch_up(rt, cron_jobs, now=datetime.now(UTC))
        except Exception:
            log.exception("job.catch_up_failed")

    # At start and every minute: a cron slot every process missed runs once (claimed like any other run).
    sched.add_job(sweep, IntervalTrigger(seconds=CATCH_UP_EVERY), id="_catch_up", name="catch up",
                  max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    return sched
