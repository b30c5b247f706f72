"""The README's role table, generated from the policy (admin.actions.policy) and the pages' own role sets.

Kept apart from the policy itself: reading the pages' role sets imports the web routes, and the policy is
imported by those routes, so generating the table there made an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable

from admin.actions.policy import AGGREGATE_AUDIENCES, ROLES, RULES, SCOPED_ROLES

AUDIENCE_LABELS = {"young_person": "young people", "carer": "carers"}


def _elsewhere() -> dict[str, list[str]]:
    """What each role reaches outside RULES, read from where each rule is enforced."""
    from admin.actions import alerts, reading
    from admin.web.routes import alerts as alert_pages
    from admin.web.routes import audit_log, dashboard

    def roles(found: Iterable[str] | object) -> frozenset[str]:
        """A page policy's roles, or a plain set of roles."""
        named = getattr(found, "roles", found)
        return frozenset(str(r) for r in named) if isinstance(named, Iterable) else frozenset()

    places = [
        ("dashboard", roles(dashboard.POLICY)),
        ("alerts queue", roles(alerts.QUEUE_ROLES)),
        ("flagged words (after re-entering their password)", roles(alert_pages.READ_WORDS)),
        ("To read", roles(reading.READER_ROLES)),
        ("audit log", roles(audit_log.AUDITORS)),
    ]
    return {role: [name for name, who in places if role in who] for role in ROLES}


def role_table() -> str:
    """The README's role table, generated from RULES, the audience tables and the pages' own policies
    (tests/admin/test_roles_readme.py keeps the README equal to it)."""
    elsewhere = _elsewhere()
    lines = [
        "| role | staff actions | counts of answers from | where | also |",
        "|---|---|---|---|---|",
    ]
    for role in ROLES:
        allowed = [a for a, rule in RULES.items() if role in rule.roles]
        counts = ", ".join(AUDIENCE_LABELS[a] for a in AGGREGATE_AUDIENCES.get(role, ())) or "-"
        where = "own districts" if role in SCOPED_ROLES else "every district, or the districts on the account"
        also = ", ".join(elsewhere[role]) or "-"
        lines.append(f"| {role} | {', '.join(allowed) or '-'} | {counts} | {where} | {also} |")
    return "\n".join(lines)
