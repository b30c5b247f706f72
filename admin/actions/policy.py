"""Who may do what, where: the signed-in `Actor`, the role and district rule of every staff action, and the
one error type actions raise when they refuse.

Deny by default: an action that is not in RULES, or a role not listed for it, is refused. Objects outside
the actor's districts are reported as not found, exactly like an object that does not exist.
Must not touch the database (callers pass the districts of the objects they found).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from content.loader import CouncilMapping, CouncilSet, own_council
from storage import audit
from storage.staff import StaffView

# The council as data (content/council.yaml): its districts, roles and councils come from there, not code.
# Districts, councils and scoped roles are the current council's (issue 26: one service, many councils); the
# roles' names are the code's own (this policy grants them), described in the deployment's council file.
ROLES: dict[str, str] = dict(own_council().roles)
# Roles that only make sense for named districts: adding one insists on districts.
SCOPED_ROLES = CouncilSet(lambda c: frozenset(c.scoped_roles))
DISTRICTS = CouncilMapping(lambda c: dict(c.districts))
COUNCILS = CouncilMapping(lambda c: {cid: group.label for cid, group in c.councils.items()})

# The districts of an object not tied to one district (Kent-wide): anyone in the role may read it, only
# staff who cover every district may change it.
ALL: frozenset[str] = frozenset({"*"})


class ActionError(ValueError):
    """A staff action was refused; the message is one line a person can act on."""


class Invalid(ActionError):
    """The request itself is wrong (bad date, unknown role, empty text...)."""


class Forbidden(ActionError):
    """The actor's role does not include this action."""


class NotFound(ActionError):
    """No such object, or it lies outside the actor's districts (the two are indistinguishable)."""


StaffError = Invalid  # the name the admin used before actions/ existed


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


WORKERS = frozenset({"participation_worker", "participation_manager"})
MANAGER = frozenset({"participation_manager"})
FOSTERING = frozenset({"fostering_team", "participation_manager"})
INVITERS = WORKERS | {"fostering_team"}
REPORT_READERS = WORKERS | {"panel_viewer"}


@dataclass(frozen=True)
class Rule:
    """Which roles may take an action, whether the objects it touches are district-scoped, and its purpose."""

    roles: frozenset[str]
    district_scoped: bool
    summary: str


RULES: dict[str, Rule] = {
    "topic.publish": Rule(WORKERS, True, "publish or schedule a topic"),
    "topic.close": Rule(WORKERS, True, "close a topic"),
    "card.list": Rule(WORKERS, True, "list challenge cards"),
    "card.view": Rule(WORKERS, True, "open a challenge card"),
    "card.move": Rule(WORKERS, True, "move a challenge card"),
    "event.add": Rule(WORKERS, True, "record a council meeting or participation event"),
    "event.list": Rule(WORKERS, True, "list council meetings and events"),
    "event.view": Rule(WORKERS, True, "open a council meeting or event"),
    "event.invite": Rule(WORKERS, True, "invite young people to an event through the bot"),
    "event.attend": Rule(WORKERS, True, "take a paper register of who came to an event"),
    "event.close": Rule(WORKERS, True, "close a council meeting or event"),
    "goodnews.list": Rule(WORKERS, True, "see good news waiting for approval"),
    "goodnews.decide": Rule(WORKERS, True, "approve or reject good news"),
    "quote.list": Rule(MANAGER, False, "see quotes waiting for approval"),
    "quote.decide": Rule(MANAGER, False, "approve or reject a quote"),
    "invite.create": Rule(INVITERS, True, "create invite codes"),
    "invite.revoke": Rule(INVITERS, True, "revoke invite codes"),
    "wave.list": Rule(FOSTERING, True, "list carer survey waves"),
    "wave.view": Rule(FOSTERING, True, "follow a carer survey wave's counts"),
    "wave.open": Rule(FOSTERING, True, "open a carer survey wave"),
    "wave.close": Rule(FOSTERING, True, "close a carer survey wave"),
    "wave.enter": Rule(FOSTERING, True, "enter a carer's response taken by phone or on paper"),
    "report.export": Rule(REPORT_READERS, False, "export a young people's report"),
    "report.action_add": Rule(WORKERS, False, 'record a "you said, we did" line'),
    "theme.write": Rule(MANAGER, False, "write a theme summary shown above a question's quotes"),
    "report.paper": Rule(MANAGER, False, "write a Panel paper's cover and the population it is measured against"),
    "request.list": Rule(FOSTERING | WORKERS, True, "see requests to be contacted"),
    "request.view": Rule(FOSTERING | WORKERS, True, "open a request to be contacted"),
    "request.ack": Rule(FOSTERING | WORKERS, True, "acknowledge a request to be contacted"),
    "request.reply": Rule(FOSTERING | WORKERS, True, "reply through the bot to a request to be contacted"),
    "request.close": Rule(FOSTERING | WORKERS, True, "close a request to be contacted with its outcome"),
    "staff.add": Rule(MANAGER, False, "add a staff account"),
    "staff.change": Rule(MANAGER, False, "change a staff account's role, districts or access"),
    "staff.password": Rule(MANAGER, False, "set someone else's password"),
}
# What each role may invite (invite.create also checks this).
INVITE_AUDIENCES: dict[str, tuple[str, ...]] = {
    "participation_worker": ("young_person",),
    "participation_manager": ("young_person", "carer"),
    "fostering_team": ("carer",),
}

# Whose answers each role may see counted (aggregates) and, where shared with a worker, open one by one.
AGGREGATE_AUDIENCES: dict[str, tuple[str, ...]] = {
    "participation_worker": ("young_person",),
    "participation_manager": ("young_person", "carer"),
    "fostering_team": ("carer",),
    "panel_viewer": ("young_person", "carer"),
}
SHARED_AUDIENCES: dict[str, tuple[str, ...]] = {
    "participation_worker": ("young_person",),
    "participation_manager": ("young_person", "carer"),
    "fostering_team": ("carer",),
}


def sees_flow(actor: Actor, flow: object) -> bool:
    """True when the actor's role may see aggregates of a flow (by the audiences the flow is for).

    A private flow (the young person is told it stays private unless they send it) has no aggregates for anyone.
    """
    if getattr(flow, "private", False):
        return False
    audiences = getattr(flow, "audience", None) or ()
    return bool(set(audiences) & set(AGGREGATE_AUDIENCES.get(actor.role, ())))


def roles_for(action: str) -> tuple[str, ...]:
    """The roles allowed to take `action`, in ROLES order (for web policies and CLI guards)."""
    return tuple(r for r in ROLES if r in RULES[action].roles)


def authorise(actor: Actor, action: str) -> Rule:
    """The action's rule, or Forbidden when the actor's role does not include it (deny by default)."""
    rule = RULES.get(action)
    if rule is None or actor.role not in rule.roles:
        raise Forbidden(f"a {actor.role} cannot {rule.summary if rule else action}")
    return rule


def districts_of(district: str | None) -> frozenset[str]:
    """An object's districts from its one district column (None = Kent-wide)."""
    return frozenset({district}) if district else ALL


def may_read(actor: Actor, districts: frozenset[str]) -> bool:
    """Reading needs an overlap with the actor's districts, or a Kent-wide object."""
    return actor.all_districts or districts == ALL or bool(districts & set(actor.districts))


def may_change(actor: Actor, districts: frozenset[str]) -> bool:
    """Changing needs the object wholly inside the actor's districts (Kent-wide: every-district staff)."""
    return actor.all_districts or (districts != ALL and districts <= set(actor.districts))


def require_scope(actor: Actor, districts: frozenset[str] | None, what: str, *, change: bool) -> None:
    """NotFound when the object is missing (None) or outside the actor's districts."""
    if districts is None or not (may_change if change else may_read)(actor, districts):
        raise NotFound(f"no {what}")


def require_own_districts(actor: Actor, wanted: Iterable[str], what: str) -> None:
    """A district-scoped actor must name districts, all inside their own (for new objects)."""
    if actor.all_districts:
        return
    wanted = list(wanted)
    if not wanted:
        raise Invalid(f"choose the districts for {what} (you can choose only your own)")
    outside = [d for d in wanted if d not in actor.districts]
    if outside:
        raise Invalid(f"you can choose only your own districts for {what}, not {', '.join(outside)}")


def parse_districts(raw: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Split and check district ids ("all" or empty means every district)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    items = [d.strip() for d in items if d and d.strip()]
    if items in (["all"], ["*"]):
        return ()
    bad = [d for d in items if d not in DISTRICTS]
    if bad:
        raise Invalid(f"unknown district(s) {', '.join(bad)}: choose from {', '.join(DISTRICTS)}")
    return tuple(dict.fromkeys(items))


def record(s, actor: Actor | str, action: str, *, target: str = "", detail: str = "", now: datetime) -> None:
    """Write the one audit row for a staff action."""
    name = actor.username if isinstance(actor, Actor) else actor
    audit.record(s, actor=name, action=action, target=target, detail=detail, now=now)
