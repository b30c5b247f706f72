"""Break glass on a review statement's reference (issue 25 item 5): an IRO or social worker who receives a
statement sees only the young person's ourvoice reference (P-...); the safeguarding lead can resolve it to the
council case reference given with the invite, under the same rule as an alert's reveal (admin/actions/alerts.py):
safeguarding leads only, in their districts, password again, a reason, one audit row before the value is returned.
Shared by `ourvoice alerts reveal-review`; nothing here prints, renders or reads the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin.actions.alerts import LEAD_ROLES, REASON_MIN, Reveal
from admin.actions.policy import Actor, Forbidden, Invalid, NotFound, record
from admin.actions.staff import check_credentials
from storage import reviews


def reveal_review_ref(
    keyring: Any,
    s: Any,
    actor: Actor,
    case_ref: str,
    *,
    password: str,
    reason: str,
    ip: str,
    now: datetime,
    hasher: Any = None,
) -> Reveal:
    """The council case reference of the young person a review statement's reference names (audited as
    review.reveal_case_ref with the reason). A wrong password counts as a failed sign-in and returns ok=False."""
    if actor.role not in LEAD_ROLES:
        raise Forbidden(f"a {actor.role} cannot reveal a case reference")
    person = reviews.participant_by_ref(s, case_ref)
    if person is None or not actor.sees(person.district):
        raise NotFound(f"no young person {case_ref.strip().upper()}")
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN:
        raise Invalid(f"give a reason of at least {REASON_MIN} characters (it is kept in the audit log)")
    check = check_credentials(s, actor.username, password, ip=ip, now=now, hasher=hasher, record_success=False)
    if not check.ok:
        return Reveal(False, check.reason)
    sealed = person.council_ref_enc
    record(s, actor, "review.reveal_case_ref", target=person.case_ref,
           detail=f"found={'yes' if sealed else 'no'} reason={reason[:400]}", now=now)
    if sealed is None:
        return Reveal(False, "none")
    return Reveal(True, "", keyring.decrypt(sealed))
