"""Staff service functions shared by the admin web and the `ourvoice` CLI: accounts, passwords, sign-in,
roles and district scope, and the audited staff actions. Callers pass the DB session and `now`;
nothing here reads the clock, renders HTML or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from storage import audit
from storage import staff as staff_store
from storage.staff import StaffView

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

ROLES: dict[str, str] = {
    "participation_worker": "Participation worker or apprentice: topics, challenge cards, good news, invites "
    "and aggregates for their own districts.",
    "participation_manager": "Participation lead: everything the workers do, in every district, plus staff "
    "accounts, approvals, reports and the alerts queue.",
    "fostering_team": "Fostering team: carer survey waves, carer invites and carer aggregates "
    "for their districts.",
    "safeguarding_lead": "Safeguarding lead: the alerts queue, including reading a flagged message after "
    "re-entering their password.",
    "panel_viewer": "Panel-facing read-only: summaries and reports, never individual answers.",
    "auditor": "Auditor: the audit log only.",
}
# Roles that only make sense for named districts: `staff add` insists on --districts for these.
SCOPED_ROLES = frozenset({"participation_worker", "fostering_team"})
DISTRICTS: dict[str, str] = {
    "north": "North Kent",
    "south": "South Kent",
    "east": "East Kent",
    "thanet": "Thanet",
    "west": "West Kent",
    "out_of_county": "Outside Kent",
}


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


class StaffError(ValueError):
    """A staff action was refused; the message is one line a person can act on."""


@dataclass(frozen=True)
class Actor:
    """Who is acting, with what role, over which districts (empty = every district)."""

    username: str
    role: str
    districts: tuple[str, ...] = ()
    staff_id: int = 0

    @classmethod
    def of(cls, view: StaffView) -> Actor:
        return cls(view.username, view.role, view.districts, view.id)

    @property
    def all_districts(self) -> bool:
        return not self.districts

    def sees(self, district: str | None) -> bool:
        """True when an object in `district` is in this actor's scope (None = not tied to a district)."""
        return self.all_districts or (district is not None and district in self.districts)

    def scope(self) -> tuple[str, ...] | None:
        """Districts to filter queries by, or None for every district."""
        return None if self.all_districts else self.districts


def check_password_strength(username: str, password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise StaffError(f"the password must be at least {PASSWORD_MIN_LENGTH} characters long")
    if len(username) >= 3 and username.lower() in password.lower():
        raise StaffError("the password must not contain the username")


def parse_districts(raw: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Split and check district ids ("all" or empty means every district)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    items = [d.strip() for d in items if d and d.strip()]
    if items in (["all"], ["*"]):
        return ()
    bad = [d for d in items if d not in DISTRICTS]
    if bad:
        raise StaffError(f"unknown district(s) {', '.join(bad)}: choose from {', '.join(DISTRICTS)}")
    return tuple(dict.fromkeys(items))


def add_staff(
    s,
    *,
    username: str,
    role: str,
    districts: tuple[str, ...],
    password: str,
    now: datetime,  # noqa: ANN001
    actor: str,
    hasher: PasswordHasher | None = None,
) -> StaffView:
    """Create a staff account (audited as staff.add)."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 80
        or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
    ):
        raise StaffError("usernames use letters, digits, dots, dashes or underscores (at most 80)")
    if role not in ROLES:
        raise StaffError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")
    if role in SCOPED_ROLES and not districts:
        raise StaffError(f"a {role} works in named districts: give --districts (e.g. east,west)")
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
        raise StaffError(f"a staff account called {username!r} already exists") from None
    audit.record(
        s,
        actor=actor,
        action="staff.add",
        target=f"staff:{username}",
        detail=f"role={role} districts={','.join(districts) or 'all'}",
        now=now,
    )
    return view


def change_staff(
    s,
    staff_id: int,
    *,
    actor: str,
    now: datetime,
    role: str | None = None,  # noqa: ANN001
    districts: tuple[str, ...] | None = None,
    active: bool | None = None,
) -> StaffView:
    """Change role, districts or active flag (audited as staff.change); ends that person's sessions."""
    before = staff_store.get(s, staff_id)
    if before is None:
        raise StaffError("no such staff account")
    if role is not None and role not in ROLES:
        raise StaffError(f"unknown role {role!r}")
    new_role = role or before.role
    new_districts = before.districts if districts is None else districts
    if new_role in SCOPED_ROLES and not new_districts:
        raise StaffError(f"a {new_role} works in named districts: choose at least one")
    view = staff_store.update(
        s, staff_id, role=role, districts=list(districts) if districts is not None else None, active=active
    )
    staff_store.delete_sessions_of(s, staff_id)
    audit.record(
        s,
        actor=actor,
        action="staff.change",
        target=f"staff:{view.username}",
        detail=f"role={view.role} districts={','.join(view.districts) or 'all'} active={view.active}",
        now=now,
    )
    return view


def set_password(
    s,
    staff_id: int,
    password: str,
    *,
    actor: str,
    now: datetime,  # noqa: ANN001
    hasher: PasswordHasher | None = None,
) -> None:
    """Set a new password (audited as staff.password); ends the account's other sessions."""
    view = staff_store.get(s, staff_id)
    if view is None:
        raise StaffError("no such staff account")
    check_password_strength(view.username, password)
    staff_store.set_password_hash(s, staff_id, (hasher or password_hasher()).hash(password), now=now)
    staff_store.delete_sessions_of(s, staff_id)
    audit.record(s, actor=actor, action="staff.password", target=f"staff:{view.username}", now=now)


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


def is_locked(s, username: str, ip: str, *, now: datetime) -> bool:  # noqa: ANN001
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
    now: datetime,  # noqa: ANN001
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


def record(s, actor: Actor | str, action: str, *, target: str = "", detail: str = "", now: datetime) -> None:  # noqa: ANN001
    """Write the one audit row for a staff action."""
    name = actor.username if isinstance(actor, Actor) else actor
    audit.record(s, actor=name, action=action, target=target, detail=detail, now=now)


# --- topics ---


def _topic(library, topic_id: str):  # noqa: ANN001, ANN202 - content Library / Flow
    flow = library.flows.get(topic_id)
    if flow is None or flow.kind != "topic":
        raise StaffError(f"no topic called {topic_id!r}")
    return flow


def publish_topic(
    s,
    library,
    actor: Actor,
    topic_id: str,
    *,
    opens,
    closes,
    districts: tuple[str, ...],
    now: datetime,  # noqa: ANN001
) -> None:
    """Publish or schedule a topic for some districts (audited as topic.publish).

    A district-scoped actor must name districts, all inside their own.
    """
    _topic(library, topic_id)
    districts = parse_districts(list(districts))
    if opens and closes and closes < opens:
        raise StaffError("the closing date is before the opening date")
    if not actor.all_districts:
        if not districts:
            raise StaffError("choose the districts to publish to (you can publish only to your own)")
        outside = [d for d in districts if d not in actor.districts]
        if outside:
            raise StaffError(f"you can publish only to your own districts, not {', '.join(outside)}")
    from storage import topics as topic_store

    topic_store.publish(s, topic_id, now=now, opens=opens, closes=closes, districts=list(districts) or None)
    record(
        s,
        actor,
        "topic.publish",
        target=f"topic:{topic_id}",
        detail=f"opens={opens or ''} closes={closes or ''} districts={','.join(districts) or 'all'}",
        now=now,
    )


def close_topic(s, library, actor: Actor, topic_id: str, *, now: datetime) -> None:  # noqa: ANN001
    """Close a topic now, keeping its dates and districts (audited as topic.close)."""
    _topic(library, topic_id)
    from storage import topics as topic_store

    current = topic_store.windows(s).get(topic_id)
    topic_store.publish(
        s,
        topic_id,
        now=now,
        status="closed",
        opens=current.opens if current else None,
        closes=current.closes if current else None,
        districts=list(current.districts) if current and current.districts else None,
    )
    record(s, actor, "topic.close", target=f"topic:{topic_id}", now=now)


# --- quotes and good news ---


def decide_quote(s, actor: Actor, quote_id: int, *, approve: bool, text: str | None, now: datetime, guard=None):  # noqa: ANN001, ANN201
    """Approve or reject a scrubbed quote, optionally with edited text (audited as quote.approve/reject).

    Edited text is scrubbed again, so an edit cannot put a name or place back in. Wording to be approved is
    risk-checked first (original and edit): if it worries the check the quote is withdrawn instead, kept out
    of every report, and raised as an alert (audited as quote.withdraw; the view's status is "withdrawn").
    """
    from admin.quote_safety import QuoteGuard, screen
    from admin.reports.scrub import scrub
    from storage import quotes

    if text is not None:
        text = scrub(text.strip())
        if not text:
            raise StaffError("the quote is empty")
    if approve:
        ref = screen(s, guard or QuoteGuard.record_only(), quote_id, text, by=actor.username, now=now)
        if ref is not None:
            record(s, actor, "quote.withdraw", target=f"quote:{quote_id}", detail=f"alert={ref}", now=now)
            return quotes.withdraw(s, quote_id, by=actor.username, now=now)
    status = "approved" if approve else "rejected"
    view = quotes.decide(s, quote_id, status=status, by=actor.username, now=now, text=text)
    if view is None:
        raise StaffError(f"no quote {quote_id}")
    record(
        s,
        actor,
        "quote.approve" if approve else "quote.reject",  # the same names as `ourvoice quote`
        target=f"quote:{quote_id}",
        detail="edited" if text is not None else "",
        now=now,
    )
    return view


def decide_good_news(s, actor: Actor, item_id: int, *, approve: bool, now: datetime):  # noqa: ANN001, ANN201
    """Approve or reject good news (the good-news store writes the one audit row)."""
    from storage import good_news

    try:
        return good_news.decide(s, item_id, approve=approve, staff=actor.username, now=now)
    except good_news.GoodNewsError as exc:
        raise StaffError(str(exc)) from None


# --- invites ---

INVITE_AUDIENCES = {
    "participation_worker": ("young_person",),
    "participation_manager": ("young_person", "carer"),
    "fostering_team": ("carer",),
}


def create_invites(
    rt,
    s,
    actor: Actor,
    *,
    audience: str,
    age_band: str | None,
    district: str | None,
    council: str | None,  # noqa: ANN001
    count: int,
    expires_days: int,
    now: datetime,
    bot_username: str = "",
) -> tuple[str, list]:
    """Create a batch of one-time invites (audited as invite.create); returns (batch, codes with links).

    The codes exist only in the return value: print them now, they cannot be shown again.
    """
    from bot.identity import create_invites as make

    if audience not in INVITE_AUDIENCES.get(actor.role, ()):
        raise StaffError(f"your role cannot invite {audience.replace('_', ' ')}s")
    if not actor.all_districts and district not in actor.districts:
        raise StaffError("choose one of your own districts for these invites")
    try:
        batch, created = make(
            s,
            rt.keyring,
            role=audience,
            age_band=age_band if audience != "carer" else None,
            district=district or None,
            council=council or None,
            expires_days=expires_days,
            count=count,
            public_url=rt.settings.public_url,
            bot_username=bot_username,
            created_by=actor.username,
            now=now,
        )
    except ValueError as exc:
        raise StaffError(str(exc)) from None
    record(
        s,
        actor,
        "invite.create",
        target=batch,
        detail=f"count={count} audience={audience} district={district or 'any'} expires_days={expires_days}",
        now=now,
    )
    return batch, created


def revoke_invites(s, actor: Actor, batch: str, *, now: datetime) -> int:  # noqa: ANN001
    """Cancel every unused invite in a batch (audited as invite.revoke)."""
    from storage import invites

    n = invites.revoke_batch(s, batch, now=now)
    record(s, actor, "invite.revoke", target=batch, detail=f"revoked={n}", now=now)
    return n
