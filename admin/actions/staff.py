"""Staff accounts: password hashing and strength, sign-in checks with throttling, and the audited account
actions (add, change, set a password). The first account is the only one made with no one signed in.

Callers pass the DB session and `now`; nothing here reads the clock, renders HTML or prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from admin.actions.policy import (
    COUNCILS,
    DISTRICTS,
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
from storage.db import Session
from storage.staff import StaffView

BOOTSTRAP = "cli:bootstrap"  # the audit actor of the very first account

# Argon2id at or above the OWASP minimums (m=19 MiB, t=2, p=1).
# Raise these and stored hashes are upgraded at each person's next sign-in.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 19456
ARGON2_PARALLELISM = 1
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128  # ASVS 2.1.2: at least 64 allowed, more than 128 refused
# zxcvbn score 3 = at least 10^8 guesses ("safely unguessable" online; a slow hash offline). Under 3 is refused.
PASSWORD_MIN_SCORE = 3
_ESTIMATE_CHARS = 100  # zxcvbn's time grows fast with length; the first 100 characters decide the score

# Sign-in throttling (issue 22, 7), counted from the sign-in attempts table:
# - one address and one username together: 5 failures in 15 minutes lock that pair;
# - one address, any usernames: 20 failures in 15 minutes lock that address (looser: an office shares one);
# - one username from every address: 10 failures in an hour slow that username down, but only for addresses
#   it has not signed in from lately, so strangers guessing cannot lock the real person out at their desk.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_IP = 20
USER_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_USER = 10
KNOWN_ADDRESS_FOR = timedelta(days=1)  # sign-in attempts are pruned after a day (admin/jobs/staff.py)

# Accounts whose password one manager alone may not reset (issue 22, 6): another manager (who could then act
# as them), the auditor (who checks the managers) and the safeguarding lead (who reads flagged messages).
# Their owners change their own; a reset of someone else's needs a second participation manager's password.
PROTECTED_ROLES = frozenset({"participation_manager", "auditor", "safeguarding_lead"})
RESETTERS = frozenset({"participation_manager"})


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


def _council_words() -> list[str]:
    words = ["ourvoice", "our voice", "kent", "council", "participation", "admin", "staff"]
    for name in (*DISTRICTS, *DISTRICTS.values(), *COUNCILS, *COUNCILS.values()):
        words += [w for w in re.split(r"[^a-z0-9]+", name.lower()) if len(w) >= 3]
    return list(dict.fromkeys(words))


_COUNCIL_WORDS = _council_words()


def check_password_strength(username: str, password: str, *, email: str = "") -> None:
    """Refuse a password that is short, too long, holds the username or is easy to guess (the one place).

    Easy to guess = zxcvbn score under PASSWORD_MIN_SCORE, given the username, email and council words as
    things an attacker would try first. The refusal says why and what to do, in plain words.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid(f"the password must be at least {PASSWORD_MIN_LENGTH} characters long")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise Invalid(f"the password must be at most {PASSWORD_MAX_LENGTH} characters long")
    if len(username) >= 3 and username.lower() in password.lower():
        raise Invalid("the password must not contain the username")
    from zxcvbn import zxcvbn  # its word lists load on first use, not in every start of the bot (issue 27)

    inputs = [username, *re.split(r"[._@-]+", username), email, *re.split(r"[._@-]+", email), *_COUNCIL_WORDS]
    result = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=[w for w in inputs if w])
    if result["score"] >= PASSWORD_MIN_SCORE:
        return
    feedback = result.get("feedback") or {}
    warning = str(feedback.get("warning") or "").strip()
    tips = [str(t).strip() for t in feedback.get("suggestions") or [] if str(t).strip()]
    reason = warning or "it would be easy to guess"
    advice = " ".join(tips) or "Try a few unrelated words together, with a number or symbol in the middle."
    raise Invalid(f"that password is too easy to guess: {reason.rstrip('.')}. {advice}")


def _create(
    s: Session,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,
    by: str,
    hasher: PasswordHasher | None,
    confirmed_by: str | None = None,
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
        detail=f"role={role} districts={','.join(districts) or 'all'}"
        + (f" confirmed_by={confirmed_by}" if confirmed_by else ""),
        now=now,
    )
    return view


def add_staff(
    s: Session,
    actor: Actor,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,
    hasher: PasswordHasher | None = None,
    current_password: str = "",
    second: tuple[str, str] | None = None,
    ip: str = "",
) -> StaffChange:
    """Create a staff account (participation managers; audited as staff.add).

    A protected account (a manager, the auditor, a safeguarding lead) needs the acting manager's own password
    and a second participation manager whenever another manager account exists (see `_granting_needs_two`).
    A wrong password is recorded as a failed sign-in and returns ok=False.
    """
    authorise(actor, "staff.add")
    confirmer = None
    if _granting_needs_two(s, actor, role):
        confirmer = _second_manager(actor, None, second, "can only be added", role=role)
        wrong = _reauthenticate(
            s, actor, current_password, confirmer, second, ip=ip, now=now, hasher=hasher or password_hasher()
        )
        if wrong:
            return StaffChange(False, wrong)
    view = _create(
        s, username=username, role=role, districts=districts, password=password, now=now,
        by=actor.username, hasher=hasher, confirmed_by=confirmer,
    )
    return StaffChange(True, "", view)


def _granting_needs_two(s: Session, actor: Actor, role: str) -> bool:
    """True when giving an account a protected role needs a second manager: whenever another participation
    manager account exists (active or paused). Otherwise one manager could add a second manager account (or
    reset a worker's password and promote them) and confirm their own resets of protected accounts with it
    (issue 22, 6). A council's only manager adds the second one alone; pausing the others does not make one
    the only manager."""
    if role not in PROTECTED_ROLES:
        return False
    return any(v.role in RESETTERS and v.username != actor.username for v in staff_store.list_all(s))


def add_first_account(
    s: Session,
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


def _target(s: Session, staff_id: int) -> StaffView:
    view = staff_store.get(s, staff_id)
    if view is None:
        raise NotFound("no such staff account")
    return view


def change_staff(
    s: Session,
    actor: Actor,
    staff_id: int,
    *,
    now: datetime,
    role: str | None = None,
    districts: tuple[str, ...] | None = None,
    active: bool | None = None,
    current_password: str = "",
    second: tuple[str, str] | None = None,
    ip: str = "",
    hasher: PasswordHasher | None = None,
) -> StaffChange:
    """Change role, districts or active flag (managers; audited as staff.change); ends that person's sessions.

    Changing the role of a protected account (another manager, the auditor, a safeguarding lead) needs the same
    as resetting its password: the acting manager's own password and a second participation manager's
    (`second` = (username, password)). Otherwise one manager could demote the account, reset its password alone
    and promote it back (issue 22, 6). Pausing one or changing its districts gives no one its access, so one
    manager may still do that at once. A wrong password is recorded as a failed sign-in and returns ok=False.
    """
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
    confirmer: str | None = None
    demoting = before.role in PROTECTED_ROLES and new_role != before.role
    promoting = new_role != before.role and _granting_needs_two(s, actor, new_role)
    if demoting or promoting:
        confirmer = _second_manager(actor, before, second, "role can only be changed")
        wrong = _reauthenticate(
            s, actor, current_password, confirmer, second, ip=ip, now=now, hasher=hasher or password_hasher()
        )
        if wrong:
            return StaffChange(False, wrong)
    view = staff_store.update(
        s, staff_id, role=role, districts=list(districts) if districts is not None else None, active=active
    )
    staff_store.delete_sessions_of(s, staff_id)
    detail = f"role={view.role} districts={','.join(view.districts) or 'all'} active={view.active}"
    record(
        s,
        actor,
        "staff.change",
        target=f"staff:{view.username}",
        detail=f"{detail} confirmed_by={confirmer}" if confirmer else detail,
        now=now,
    )
    return StaffChange(True, "", view)


def _second_manager(
    actor: Actor, view: StaffView | None, second: tuple[str, str] | None, what: str, *, role: str = ""
) -> str:
    """The confirming manager's username for a change to a protected account (or adding one, `view` None, with
    `role`), or Forbidden if there is none."""
    role = view.role if view is not None else role
    if second is None or not second[0].strip():
        name = role.replace("_", " ")
        subject = f"a {name} account's {what}" if view else f"a {name} account {what}"
        raise Forbidden(
            f"{subject} by two participation managers: ask another manager to confirm with their username and "
            "password"
        )
    confirmer = second[0].strip().lower()
    if confirmer in (actor.username, view.username if view else ""):
        raise Forbidden("the second manager must be someone other than you and the account's owner")
    return confirmer


def _reauthenticate(
    s: Session,
    actor: Actor,
    current_password: str,
    confirmer: str | None,
    second: tuple[str, str] | None,
    *,
    ip: str,
    now: datetime,
    hasher: PasswordHasher,
) -> str:
    """Check the acting person's own password and, when named, the confirming manager's.

    Returns "" when both are right, else why not ("invalid"/"locked", or "second_invalid"/"second_locked");
    each wrong password counts as a failed sign-in. A confirming account that is not a manager is Forbidden.
    """
    mine = check_credentials(s, actor.username, current_password, ip=ip, now=now, hasher=hasher, record_success=False)
    if not mine.ok:
        return mine.reason
    if confirmer is not None and second is not None:
        other = check_credentials(s, confirmer, second[1], ip=ip, now=now, hasher=hasher, record_success=False)
        if not other.ok or other.staff is None:
            return f"second_{other.reason}"
        if other.staff.role not in RESETTERS:
            raise Forbidden("the second person must be a participation manager")
    return ""


@dataclass(frozen=True)
class StaffChange:
    """The result of `add_staff` and `change_staff`: ok with the account as it now is, or which password was
    wrong (the reasons of `PasswordSet`)."""

    ok: bool
    reason: str = ""
    staff: StaffView | None = None


@dataclass(frozen=True)
class PasswordSet:
    """The result of a password change: ok, or which password was wrong ("invalid" / "locked" for the
    acting person's own, "second_invalid" / "second_locked" for the confirming manager's)."""

    ok: bool
    reason: str = ""


def set_password(
    s: Session,
    actor: Actor,
    staff_id: int,
    password: str,
    *,
    current_password: str,
    ip: str,
    now: datetime,
    hasher: PasswordHasher | None = None,
    second: tuple[str, str] | None = None,
) -> PasswordSet:
    """Set a new password (audited as staff.password; ends that person's sessions).

    Always needs the acting person's own current password. Your own: the new one must differ from it.
    Someone else's: participation managers only; for a protected account (another manager, the auditor,
    a safeguarding lead) a second participation manager confirms with `second` = (username, password).
    A wrong password is recorded as a failed sign-in and returns ok=False (so the caller commits it);
    every other refusal raises.
    """
    own = staff_id == actor.staff_id
    if not own:
        authorise(actor, "staff.password")
    view = _target(s, staff_id)
    confirmer: str | None = None
    if not own and view.role in PROTECTED_ROLES:
        confirmer = _second_manager(actor, view, second, "password can only be reset")
    check_password_strength(view.username, password)
    hasher = hasher or password_hasher()
    wrong = _reauthenticate(s, actor, current_password, confirmer, second, ip=ip, now=now, hasher=hasher)
    if wrong:
        return PasswordSet(False, wrong)
    if own:
        same = password == current_password
    else:
        found = staff_store.credentials(s, view.username)
        same = found is not None and _matches(hasher, found[1], password)
    if same:
        raise Invalid("the new password must be different from the current one")
    staff_store.set_password_hash(s, staff_id, hasher.hash(password), now=now)
    staff_store.delete_sessions_of(s, staff_id)
    record(
        s, actor, "staff.password", target=f"staff:{view.username}",
        detail=f"confirmed_by={confirmer}" if confirmer else "", now=now,
    )
    return PasswordSet(True)


def _matches(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return bool(hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


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


def is_locked(s: Session, username: str, ip: str, *, now: datetime) -> bool:
    """True when this address and username together, this address, or (from an address the person has not
    signed in from lately) this username has had too many recent failures; see the limits above."""
    since = now - LOGIN_WINDOW
    if staff_store.failures_for_pair(s, username, ip, since=since) >= MAX_FAILURES_PER_PAIR:
        return True
    if staff_store.failures_for_ip(s, ip, since=since) >= MAX_FAILURES_PER_IP:
        return True
    return staff_store.failures_for_user(
        s, username, since=now - USER_WINDOW
    ) >= MAX_FAILURES_PER_USER and not staff_store.signed_in_from(s, username, ip, since=now - KNOWN_ADDRESS_FOR)


def check_credentials(
    s: Session,
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


