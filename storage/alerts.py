"""Safeguarding alert records: created with the safe reply, escalated until acknowledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.db import utc
from storage.models import Alert, Invite, Participant


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
        created_at=utc(now),
        notified_count=1 if notified else 0,
        last_notified_at=utc(now) if notified else None,
    )
    session.add(alert)
    session.flush()
    return alert


def get(session: Session, alert_ref: str) -> Alert | None:
    return session.execute(select(Alert).where(Alert.alert_ref == alert_ref)).scalar_one_or_none()


def open_alerts(session: Session) -> list[Alert]:
    """Alerts nobody has acknowledged yet, oldest first."""
    q = select(Alert).where(Alert.status == "open").order_by(Alert.created_at)
    return list(session.execute(q).scalars())


def all_alerts(session: Session, *, limit: int = 200) -> list[Alert]:
    return list(session.execute(select(Alert).order_by(Alert.created_at.desc()).limit(limit)).scalars())  # type: ignore[attr-defined]


def mark_notified(session: Session, alert: Alert, *, now: datetime, escalate: bool) -> None:
    """Record that staff were notified (again); `escalate` moves the alert one level up the rota."""
    alert.notified_count += 1
    alert.last_notified_at = utc(now)
    if escalate:
        alert.escalation_level += 1
    session.add(alert)


def acknowledge(session: Session, alert: Alert, *, staff: str, now: datetime) -> bool:
    """Stop escalation: a named staff member has picked the alert up. False if it was not open."""
    if not staff or not staff.strip():
        raise AlertCloseRefused("acknowledging needs a named staff member")
    if alert.status != "open":
        return False
    alert.status = "acknowledged"
    alert.acknowledged_by = staff.strip()[:80]
    alert.acknowledged_at = utc(now)
    session.add(alert)
    return True


def close(session: Session, alert: Alert, *, staff: str, outcome: str, closed_at: datetime | None) -> None:
    """Close an alert; refuses unless staff, outcome and time are all given."""
    if not staff or not staff.strip():
        raise AlertCloseRefused("closing an alert needs the name of the staff member")
    if not outcome or not outcome.strip():
        raise AlertCloseRefused("closing an alert needs an outcome")
    if closed_at is None:
        raise AlertCloseRefused("closing an alert needs a time")
    if alert.status == "closed":
        raise AlertCloseRefused(f"alert {alert.alert_ref} is already closed")
    if utc(closed_at) < utc(alert.created_at):
        raise AlertCloseRefused("the closing time is before the alert was raised")
    staff = staff.strip()[:80]
    if alert.status == "open":
        alert.acknowledged_by = staff
        alert.acknowledged_at = utc(closed_at)
    alert.status = "closed"
    alert.closed_by = staff
    alert.closed_at = utc(closed_at)
    alert.outcome = outcome.strip()
    session.add(alert)


def count_open(session: Session) -> int:
    q = select(func.count()).select_from(Alert).where(Alert.status == "open")
    return int(session.execute(q).scalar_one())


def followups_due(session: Session) -> list[Alert]:
    """Alerts a human has picked up whose young person has not yet been told what happens next."""
    return list(
        session.execute(
            select(Alert)
            .where(
                Alert.status.in_(("acknowledged", "closed")),  # type: ignore[attr-defined]
                Alert.followup_sent.is_(False),  # type: ignore[attr-defined]
                Alert.participant_id.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(Alert.id)
        ).scalars()
    )


def mark_followup_sent(session: Session, alert: Alert) -> None:
    alert.followup_sent = True
    session.add(alert)


@dataclass(frozen=True)
class AlertSubject:
    """Who an alert is about, as far as staff may see without breaking glass: never the reference itself."""

    participant_id: int | None
    district: str | None
    band: str | None
    status: str | None
    has_council_ref: bool
    invited_by: str | None
    invited_at: datetime | None


def subject(session: Session, alert: Alert) -> AlertSubject:
    """The young person behind an alert: district, band, whether a council reference exists, the invite."""
    p = session.get(Participant, alert.participant_id) if alert.participant_id else None
    if p is None:
        return AlertSubject(None, None, None, None, False, None, None)
    inv = session.get(Invite, p.invite_id) if p.invite_id else None
    return AlertSubject(
        p.id, p.district, p.band, p.status, p.council_ref_enc is not None,
        inv.created_by if inv else None, utc(inv.created_at) if inv else None,
    )


def council_ref_enc(session: Session, alert: Alert) -> bytes | None:
    """The encrypted council case-system reference of the alert's young person (for audited reveal only)."""
    p = session.get(Participant, alert.participant_id) if alert.participant_id else None
    return p.council_ref_enc if p is not None else None
