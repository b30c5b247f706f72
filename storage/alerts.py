"""Safeguarding alert records: created with the safe reply, escalated until acknowledged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Alert


class AlertCloseRefused(ValueError):
    """Closing needs a named staff member, an outcome and a time."""


def create(
    session: Session,
    *,
    alert_ref: str,
    participant_id: int | None,
    case_ref: str | None,
    channel: str,
    categories: list[str],
    text_enc: bytes | None,
    now: datetime,
    notified: bool,
) -> Alert:
    """Insert the alert unless a spooled copy with the same ref was already written."""
    existing = session.execute(select(Alert).where(Alert.alert_ref == alert_ref)).scalar_one_or_none()
    if existing is not None:
        return existing
    alert = Alert(
        alert_ref=alert_ref,
        participant_id=participant_id,
        case_ref=case_ref,
        channel=channel,
        categories=",".join(categories),
        text_enc=text_enc,
        created_at=now,
        notified_count=1 if notified else 0,
        last_notified_at=now if notified else None,
    )
    session.add(alert)
    session.flush()
    return alert


def get(session: Session, alert_ref: str) -> Alert | None:
    return session.execute(select(Alert).where(Alert.alert_ref == alert_ref)).scalar_one_or_none()


def open_alerts(session: Session) -> list[Alert]:
    """Alerts nobody has acknowledged yet, oldest first."""
    return list(session.execute(select(Alert).where(Alert.status == "open").order_by(Alert.created_at)).scalars())


def all_alerts(session: Session, *, limit: int = 200) -> list[Alert]:
    return list(session.execute(select(Alert).order_by(Alert.created_at.desc()).limit(limit)).scalars())  # type: ignore[attr-defined]


def mark_notified(session: Session, alert: Alert, *, now: datetime, escalate: bool) -> None:
    alert.notified_count += 1
    alert.last_notified_at = now
    if escalate:
        alert.escalation_level += 1
    session.add(alert)


def acknowledge(session: Session, alert: Alert, *, staff: str, now: datetime) -> None:
    if not staff.strip():
        raise AlertCloseRefused("acknowledging needs a named staff member")
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_by = staff
        alert.acknowledged_at = now
        session.add(alert)


def close(session: Session, alert: Alert, *, staff: str, outcome: str, closed_at: datetime | None) -> None:
    """Close an alert; refuses unless staff, outcome and time are all given."""
    if not staff or not staff.strip():
        raise AlertCloseRefused("closing an alert needs the name of the staff member")
    if not outcome or not outcome.strip():
        raise AlertCloseRefused("closing an alert needs an outcome")
    if closed_at is None:
        raise AlertCloseRefused("closing an alert needs a time")
    if alert.status == "open":
        alert.acknowledged_by = staff
        alert.acknowledged_at = closed_at
    alert.status = "closed"
    alert.closed_by = staff
    alert.closed_at = closed_at
    alert.outcome = outcome.strip()
    session.add(alert)


def count_open(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Alert).where(Alert.status == "open")).scalar_one())
