"""Staff accounts, signed-in sessions and sign-in attempts (query functions only).

Stores password hashes and hashed session ids; never hashes passwords itself and never sees a raw session id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from storage.db import utc
from storage.models import LoginAttempt, StaffAccount, StaffSession


def _at(dt: datetime) -> datetime:
    """Times are bound as aware UTC (the column type rejects naive values) and read back as UTC."""
    return utc(dt)  # type: ignore[return-value]


class StaffExists(ValueError):
    """A staff account with that username already exists."""


@dataclass(frozen=True)
class StaffView:
    id: int
    username: str
    role: str
    districts: tuple[str, ...]  # empty = every district
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class SessionView:
    id_hash: str
    staff_id: int
    created_at: datetime
    last_seen_at: datetime


def _view(row: StaffAccount) -> StaffView:
    return StaffView(
        id=row.id or 0,
        username=row.username,
        role=row.role,
        districts=tuple(d for d in row.districts.split(",") if d),
        active=row.active,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        last_login_at=utc(row.last_login_at),
    )


def create(
    session: Session,
    *,
    username: str,
    role: str,
    districts: list[str] | tuple[str, ...],
    password_hash: str,
    now: datetime,
) -> StaffView:
    """Add a staff account; raises StaffExists when the username is taken."""
    if session.execute(select(StaffAccount.id).where(StaffAccount.username == username)).first():
        raise StaffExists(username)
    row = StaffAccount(
        username=username,
        role=role,
        districts=",".join(districts),
        password_hash=password_hash,
        created_at=_at(now),
        password_changed_at=_at(now),
    )
    session.add(row)
    session.flush()
    return _view(row)


def get(session: Session, staff_id: int) -> StaffView | None:
    row = session.get(StaffAccount, staff_id)
    return _view(row) if row else None


def by_username(session: Session, username: str) -> StaffView | None:
    row = session.execute(select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
    return _view(row) if row else None


def credentials(session: Session, username: str) -> tuple[StaffView, str] | None:
    """The account and its stored password hash, for verification in admin."""
    row = session.execute(select(StaffAccount).where(StaffAccount.username == username)).scalar_one_or_none()
    return (_view(row), row.password_hash) if row else None


def list_all(session: Session) -> list[StaffView]:
    return [_view(r) for r in session.execute(select(StaffAccount).order_by(StaffAccount.username)).scalars()]


def set_password_hash(session: Session, staff_id: int, password_hash: str, *, now: datetime) -> None:
    row = session.get(StaffAccount, staff_id)
    if row is None:
        raise KeyError(staff_id)
    row.password_hash = password_hash
    row.password_changed_at = _at(now)
    session.add(row)


def update(
    session: Session,
    staff_id: int,
    *,
    role: str | None = None,
    districts: list[str] | None = None,
    active: bool | None = None,
) -> StaffView:
    """Change role, districts or active flag; returns the new view."""
    row = session.get(StaffAccount, staff_id)
    if row is None:
        raise KeyError(staff_id)
    if role is not None:
        row.role = role
    if districts is not None:
        row.districts = ",".join(districts)
    if active is not None:
        row.active = active
    session.add(row)
    session.flush()
    return _view(row)


def mark_login(session: Session, staff_id: int, *, now: datetime) -> None:
    row = session.get(StaffAccount, staff_id)
    if row is not None:
        row.last_login_at = _at(now)
        session.add(row)


# --- sessions ---


def create_session(session: Session, *, id_hash: str, staff_id: int, now: datetime) -> None:
    session.add(StaffSession(id_hash=id_hash, staff_id=staff_id, created_at=_at(now), last_seen_at=_at(now)))
    session.flush()


def find_session(session: Session, id_hash: str) -> tuple[SessionView, StaffView] | None:
    """The session and its staff account, or None when unknown."""
    row = session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.staff_id)
        .where(StaffSession.id_hash == id_hash)
    ).first()
    if row is None:
        return None
    sess, acct = row
    view = SessionView(sess.id_hash, sess.staff_id, utc(sess.created_at), utc(sess.last_seen_at))  # type: ignore[arg-type]
    return view, _view(acct)


def touch_session(session: Session, id_hash: str, *, now: datetime) -> None:
    row = session.get(StaffSession, id_hash)
    if row is not None:
        row.last_seen_at = _at(now)
        session.add(row)


def delete_session(session: Session, id_hash: str) -> int:
    return int(session.execute(delete(StaffSession).where(StaffSession.id_hash == id_hash)).rowcount or 0)


def delete_sessions_of(session: Session, staff_id: int) -> int:
    """End every session of one account (password change, deactivation)."""
    return int(session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id)).rowcount or 0)


def prune_sessions(session: Session, *, created_before: datetime, seen_before: datetime) -> int:
    """Delete sessions past the absolute or idle limit."""
    res = session.execute(
        delete(StaffSession).where(
            (StaffSession.created_at < _at(created_before)) | (StaffSession.last_seen_at < _at(seen_before))
        )
    )
    return int(res.rowcount or 0)


# --- sign-in attempts ---


def record_attempt(session: Session, *, username: str, ip: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(username=username[:80], ip=ip[:64], success=success, at=_at(now)))
    session.flush()


def failures_for_user(session: Session, username: str, *, since: datetime) -> int:
    """Failed attempts for a username since `since` and after its last successful sign-in."""
    last_ok = session.execute(
        select(func.max(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(True),  # type: ignore[attr-defined]
        )
    ).scalar_one()
    q = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(False),  # type: ignore[attr-defined]
            LoginAttempt.at >= _at(since),
        )
    )
    if last_ok is not None:
        q = q.where(LoginAttempt.id > last_ok)
    return int(session.execute(q).scalar_one())


def failures_for_ip(session: Session, ip: str, *, since: datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.ip == ip,
                LoginAttempt.success.is_(False),
                LoginAttempt.at >= _at(since),  # type: ignore[attr-defined]
            )
        ).scalar_one()
    )


def failures_for_pair(session: Session, username: str, ip: str, *, since: datetime) -> int:
    """Failed attempts for a username from one address since `since` and after its last success there."""
    pair = (col(LoginAttempt.username) == username, col(LoginAttempt.ip) == ip)
    last_ok = session.execute(
        select(func.max(col(LoginAttempt.id))).where(*pair, col(LoginAttempt.success).is_(True))
    ).scalar_one()
    q = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(*pair, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) >= _at(since))
    )
    if last_ok is not None:
        q = q.where(col(LoginAttempt.id) > last_ok)
    return int(session.execute(q).scalar_one())


def signed_in_from(session: Session, username: str, ip: str, *, since: datetime) -> bool:
    """True when this username signed in successfully from this address since `since`."""
    found = session.execute(
        select(col(LoginAttempt.id))
        .where(
            col(LoginAttempt.username) == username,
            col(LoginAttempt.ip) == ip,
            col(LoginAttempt.success).is_(True),
            col(LoginAttempt.at) >= _at(since),
        )
        .limit(1)
    ).first()
    return found is not None


def prune_attempts(session: Session, *, before: datetime) -> int:
    return int(session.execute(delete(LoginAttempt).where(LoginAttempt.at < _at(before))).rowcount or 0)
