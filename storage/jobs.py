"""Run-once claims for scheduled jobs: the first process to insert the claim row runs the job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import JobRun


def claim(session: Session, job_name: str, scheduled_for: datetime, *, now: datetime) -> bool:
    """Try to claim one occurrence; True only for the single winner across all processes."""
    try:
        with session.begin_nested():
            session.add(JobRun(job_name=job_name, scheduled_for=scheduled_for, claimed_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def finish(session: Session, job_name: str, scheduled_for: datetime, *, now: datetime, result: str) -> None:
    row = session.get(JobRun, (job_name, scheduled_for))
    if row is not None:
        row.finished_at = now
        row.result = result[:200]
        session.add(row)


def claimed(session: Session, job_name: str, scheduled_for: datetime) -> bool:
    """Whether some process has already claimed (run, or is running) this occurrence."""
    return session.get(JobRun, (job_name, scheduled_for)) is not None
