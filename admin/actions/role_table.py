"""The README's role table, generated from the policy (admin.actions.policy) and the pages' own role sets.

Kept apart from the policy itself: reading the pages' role sets imports the web routes, and the policy is
imported by those routes, so generating the table there made an import cycle.
"""

from __future__ import annotations

from admin.actions.policy import AGGREGATE_AUDIENCES, ROLES, RULES, SCOPED_ROLES

AUDIENCE_LABELS = {"young_person": "young people", "carer": "carers"}


def _elsewhere() -> dict[str, list[str]]:
    """What each role reaches outside RULES, read from where each rule is enforced."""
    import importlib

    def roles(module: str, name: str) -> frozenset[str]:
        found = getattr(importlib.import_module(module), name, None)
        return frozenset(getattr(found, "roles", found) or ())

    places = [
        ("dashboard", roles("admin.web.routes.dashboard", "POLICY")),
        ("alerts queue", roles("admin.actions.alerts", "QUEUE_ROLES")),
        ("flagged words (after re-entering their password)", roles("admin.web.routes.alerts", "READ_WORDS")),
        ("To read", roles("admin.actions.reading", "READER_ROLES")),
        ("audit log", roles("admin.web.routes.audit_log", "AUDITORS")),
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
