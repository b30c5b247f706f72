"""Requests to be contacted (issue 25): every minute, file each new Yes to a question marked `contact:` (in a
sent submission) in the right team's queue, once.

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims; the request row is also
unique per answer, so overlapping runs cannot file one twice. The fostering team's addresses
(OURVOICE_EMAIL_FOSTERING_TO, else OURVOICE_SURVEY_DIGEST_TO) get one short email per run that filed a carer's
request, as outbox rows written in the same transaction as the filing: how many and a link, never who or anything
they said. Logs counts only.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from admin.actions.requests import team_for
from bot import mail_queue
from content.loader import Library
from content.schema import YesNoNode
from storage import contact_requests as store
from storage.db import Session, session

log = logging.getLogger("ourvoice.jobs.contact_requests")


def contact_questions(library: Library) -> list[tuple[str, str]]:
    """(flow id, question id) of every yes/no question that asks for consent to be contacted."""
    return sorted(
        (flow.id, node.id)
        for flow in library.flows.values()
        for node in flow.nodes
        if isinstance(node, YesNoNode) and node.contact
    )


def collect(rt: Any, *, now: datetime) -> str:
    """File new consents in their team's queue; returns e.g. 'filed fostering_team=1'."""
    filed: Counter[str] = Counter()
    with session(rt.engine) as s:
        for consent in store.new_consents(s, contact_questions(rt.library)):
            team = team_for(consent.audience)
            if team is not None and store.file(s, consent, team=team, now=now) is not None:
                filed[team] += 1
        if filed["fostering_team"]:
            _tell_fostering_team(s, rt, filed["fostering_team"], now=now)
    if filed:
        log.info("requests.filed %s", " ".join(f"{t}={n}" for t, n in sorted(filed.items())))
    return "filed " + (" ".join(f"{t}={n}" for t, n in sorted(filed.items())) or "0")


def fostering_addresses(rt: Any) -> list[str]:
    """The fostering team's addresses: OURVOICE_EMAIL_FOSTERING_TO, else the survey digest's (older setting)."""
    team: list[str] = rt.email_settings.team("fostering")
    return team or list(rt.wave_settings.recipients())


def _tell_fostering_team(s: Session, rt: Any, count: int, *, now: datetime) -> None:
    """One email to each fostering team address: how many new requests and where to answer them."""
    link = rt.settings.public_url.rstrip("/") + "/admin/requests"
    subject = f"[ourvoice] {count} new request(s) from foster carers to be contacted"
    body = (
        f"{count} foster carer(s) asked for someone from the fostering team to get in touch.\n"
        f"Please acknowledge within {rt.settings.request_within} and reply through ourvoice: {link}\n"
    )
    for address in fostering_addresses(rt):
        mail_queue.queue(s, rt.keyring, to=address, subject=subject, body=body, kind="staff_notice", now=now)
