"""Requests to be contacted (issue 25): every minute, file each new Yes to a question marked `contact:` (in a
sent submission) in the right team's queue, once.

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims; the request row is also
unique per answer, so overlapping runs cannot file one twice. The fostering team's addresses
(OURVOICE_SURVEY_DIGEST_TO) get one short email per run that filed a carer's request: how many and a link, never
who or anything they said. Logs counts only.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from admin.actions.requests import team_for
from content.loader import Library
from content.schema import YesNoNode
from storage import contact_requests as store
from storage.db import session

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
    if filed:
        log.info("requests.filed %s", " ".join(f"{t}={n}" for t, n in sorted(filed.items())))
    if filed["fostering_team"]:
        _tell_fostering_team(rt, filed["fostering_team"])
    return "filed " + (" ".join(f"{t}={n}" for t, n in sorted(filed.items())) or "0")


def _tell_fostering_team(rt: Any, count: int) -> None:
    """One email to the fostering team's addresses: how many new requests and where to answer them."""
    to = rt.wave_settings.recipients()
    if not to:
        return
    msg = EmailMessage()
    msg["From"] = rt.wave_settings.digest_from or rt.settings.alert_email_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = f"[ourvoice] {count} new request(s) from foster carers to be contacted"
    link = rt.settings.public_url.rstrip("/") + "/admin/requests"
    msg.set_content(
        f"{count} foster carer(s) asked for someone from the fostering team to get in touch.\n"
        f"Please acknowledge within {rt.settings.request_within} and reply through ourvoice: {link}\n"
    )
    try:
        with smtplib.SMTP(rt.settings.smtp_host, rt.settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:  # the queue still shows them; the next filing emails again
        log.warning("requests.email_failed error=%s", type(exc).__name__)
