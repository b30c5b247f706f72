"""Staff accounts: password hashing and strength, sign-in checks with throttling, and the audited account
actions (add, change, set a password). The first account is the only one made with no one signed in.

Callers pass the DB session and `now`; nothing here reads the clock, renders HTML or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from admin.actions.policy import (
    ROLES,
    SCOPED_ROLES,
    Actor,
    Forbidden,
    Invalid,
    NotFound,
    authorise,
    record,
)
from storage import staff as staff_store
from storage.staff import StaffView

BOOTSTRAP = "cli:bootstrap"  # the audit actor of the very first account

# Argon2id at or above the OWASP minimums (m=19 MiB, t=2, p=1).
# Raise these and stored hashes are upgraded at each person's next sign-in.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 19456
ARGON2_PARALLELISM = 1
PASSWORD_MIN_LENGTH = 12

# Sign-in throttling: failures within the window lock the username (or the address) until it passes.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20

def password_hasher() -> PasswordHasher:
    """The Argon2id hasher with the project's parameters."""
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def check_password_strength(username: str, password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid(f"the password must be at least {PASSWORD_MIN_LENGTH} characters long")
    if len(username) >= 3 and username.lower() in password.lower():
        raise Invalid("the password must not contain the username")


def _create(
    s,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,
    by: str,
    hasher: PasswordHasher | None,
) -> StaffView:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 80
        or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
    ):
        raise Invalid("usernames use letters, digits, dots, dashes or underscores (at most 80)")
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: choose from {', '.join(ROLES)}")
    if role in SCOPED_ROLES and not districts:
        raise Invalid(f"a {role} works in named districts: give --districts (e.g. east,west)")
    check_password_strength(username, password)
    try:
        view = staff_store.create(
            s,
            username=username,
            role=role,
            districts=districts,
            password_hash=(hasher or password_hasher()).hash(password),
            now=now,
        )
    except staff_store.StaffExists:
        raise Invalid(f"a staff account called {username!r} already exists") from None
    record(
        s,
        by,
        "staff.add",
        target=f"staff:{username}",
        detail=f"role={role} districts={','.join(districts) or 'all'}",
        now=now,
    )
    return view


def add_staff(
    s,
    actor: Actor,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> StaffView:
    """Create a staff account (participation managers; audited as staff.add)."""
    authorise(actor, "staff.add")
    return _create(
        s, username=username, role=role, districts=districts, password=password, now=now,
        by=actor.username, hasher=hasher,
    )


def add_first_account(
    s,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> StaffView:
    """Create the very first staff account, with no one signed in (audited as staff.add by cli:bootstrap).

    Refused once any account exists: from then on only `add_staff` with a signed-in manager can add one.
    """
    if staff_store.list_all(s):
        raise Forbidden("staff accounts already exist: sign in as a participation manager to add one")
    return _create(
        s, username=username, role=role, districts=districts, password=password, now=now,
        by=BOOTSTRAP, hasher=hasher,
    )


def _target(s, staff_id: int) -> StaffView:
    view = staff_store.get(s, staff_id)
    if view is None:
        raise NotFound("no such staff account")
    return view


def change_staff(
    s,
    actor: Actor,
    staff_id: int,
    *,
    now: datetime,
    role: str | None = None,
    districts: tuple[str, ...] | None = None,
    active: bool | None = None,
) -> StaffView:
    """Change role, districts or active flag (managers; audited as staff.change); ends that person's sessions."""
    authorise(actor, "staff.change")
    before = _target(s, staff_id)
    if staff_id == actor.staff_id and (active is False or (role is not None and role != actor.role)):
        raise Invalid("you cannot pause your own account or change your own role")
    if role is not None and role not in ROLES:
        raise Invalid(f"unknown role {role!r}")
    new_role = role or before.role
    new_districts = before.districts if districts is None else districts
    if new_role in SCOPED_ROLES and not new_districts:
        raise Invalid(f"a {new_role} works in named districts: choose at least one")
    view = staff_store.update(
        s, staff_id, role=role, districts=list(districts) if districts is not None else None, active=active
    )
    staff_store.delete_sessions_of(s, staff_id)
    record(
        s,
        actor,
        "staff.change",
        target=f"staff:{view.username}",
        detail=f"role={view.role} districts={','.join(view.districts) or 'all'} active={view.active}",
        now=now,
    )
    return view


def set_password(
    s,
    actor: Actor,
    staff_id: int,
    password: str,
    *,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> None:
    """Set a new password: your own, or anyone's as a manager (audited as staff.password); ends sessions."""
    if staff_id != actor.staff_id:
        authorise(actor, "staff.password")
    view = _target(s, staff_id)
    check_password_strength(view.username, password)
    staff_store.set_password_hash(s, staff_id, (hasher or password_hasher()).hash(password), now=now)
    staff_store.delete_sessions_of(s, staff_id)
    record(s, actor, "staff.password", target=f"staff:{view.username}", now=now)


@dataclass(frozen=True)
class SignIn:
    """The result of checking a username and password; `staff` is set only when `ok`."""

    ok: bool
    reason: str = ""  # "" | "invalid" | "locked"
    staff: StaffView | None = None
    rehashed: bool = False


# Verified against when the username is unknown, so unknown and known names take the same time.
_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not-a-real-password-ourvoice")
    return _DUMMY_HASH[key]


def is_locked(s, username: str, ip: str, *, now: datetime) -> bool:
    """True when too many recent failures for this username or this address."""
    since = now - LOGIN_WINDOW
    return (
        staff_store.failures_for_user(s, username, since=since) >= MAX_FAILURES_PER_USER
        or staff_store.failures_for_ip(s, ip, since=since) >= MAX_FAILURES_PER_IP
    )


def check_credentials(
    s,
    username: str,
    password: str,
    *,
    ip: str,
    now: datetime,
    hasher: PasswordHasher | None = None,
    record_success: bool = True,
) -> SignIn:
    """Verify a password with throttling; records the attempt and rehashes outdated hashes.

    Never raises for a wrong password, so the caller's transaction commits the failed attempt.
    """
    hasher = hasher or password_hasher()
    username = username.strip().lower()[:80]
    if is_locked(s, username, ip, now=now):
        return SignIn(False, "locked")
    found = staff_store.credentials(s, username)
    stored = found[1] if found else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
        good = found is not None and found[0].active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        good = False
    if not good or found is None:
        staff_store.record_attempt(s, username=username, ip=ip, success=False, now=now)
        return SignIn(False, "invalid")
    view = found[0]
    rehashed = False
    if hasher.check_needs_rehash(stored):
        staff_store.set_password_hash(s, view.id, hasher.hash(password), now=now)
        rehashed = True
    if record_success:
        staff_store.record_attempt(s, username=username, ip=ip, success=True, now=now)
    return SignIn(True, "", view, rehashed)


