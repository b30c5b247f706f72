"""Compatibility names for code written before admin/actions/ existed (the safeguarding alert actions now
live in admin/actions/alerts.py).

New code imports from admin.actions.* directly. Nothing here reads the clock, renders HTML or prints.
"""

from __future__ import annotations

from admin.actions.policy import (  # noqa: F401 - re-exported for older callers
    DISTRICTS,
    ROLES,
    SCOPED_ROLES,
    ActionError,
    Actor,
    StaffError,
    parse_districts,
    record,
)
from admin.actions.staff import (  # noqa: F401 - re-exported for older callers
    ARGON2_MEMORY_KIB,
    ARGON2_PARALLELISM,
    ARGON2_TIME_COST,
    LOGIN_WINDOW,
    MAX_FAILURES_PER_IP,
    MAX_FAILURES_PER_USER,
    PASSWORD_MIN_LENGTH,
    SignIn,
    check_credentials,
    check_password_strength,
    is_locked,
    password_hasher,
)
from storage import staff as staff_store  # noqa: F401 - login.py marks sign-ins through it
