"""Requests to be contacted (issue 25): every minute, file each new Yes to a question marked `contact:` (in a
sent submission) in the right team's queue, once.

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims; the request row is also
unique per answer, so overlapping runs cannot file one twice. Each team gets one short email per run that filed
one of its requests, as outbox rows written in the same transaction as the filing: how many and a link, never who
or anything they said. Carers' requests go to the fostering team's addresses (OURVOICE_EMAIL_FOSTERING_TO, else
OURVOICE_SURVEY_DIGEST_TO); young people's to the participation team's (OURVOICE_EMAIL_PARTICIPATION_TO), whose
workers answer them. Logs counts only.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from admin.actions.requests import team_for
from bot import mail_queue
from content.loader import Library
from content.schema import YesNoNode
from storage import contact_requests as store
from storage.db import Session, session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.jobs.contact_requests")


def contact_questions(library: Library) -> list[tuple[str, str]]:
    """(flow id, question id) of every yes/no question that asks for consent to be contacted."""
    return sorted(
        (flow.id, node.id)
        for flow in library.flows.values()
        for node in flow.nodes
        if isinstance(node, YesNoNode) and node.contact
    )


def collect(rt: Services, *, now: datetime) -> str:
    """File new consents in their team's queue; returns e.g. 'filed fostering_team=1'."""
    filed: Counter[str] = Counter()
    with session(rt.engine) as s:
        for consent in store.new_consents(s, contact_questions(rt.library)):
            team = team_for(consent.audience)
            if team is not None and store.file(s, consent, team=team, now=now) is not None:
                filed[team] += 1
        for team, count in sorted(filed.items()):
            _tell_team(s, rt, team, count, now=now)
    if filed:
        log.info("requests.filed %s", " ".join(f"{t}={n}" for t, n in sorted(filed.items())))
    return "filed " + (" ".join(f"{t}={n}" for t, n in sorted(filed.items())) or "0")


def fostering_addresses(rt: Services) -> list[str]:
    """The fostering team's addresses: OURVOICE_EMAIL_FOSTERING_TO, else the survey digest's (older setting)."""
    team: list[str] = rt.email_settings.team("fostering")
    return team or list(rt.wave_settings.recipients())


# Who each team's email is about, in the subject and the first line.
_ASKED_BY = {
    "fostering_team": ("foster carers", "someone from the fostering team"),
    "participation_worker": ("young people", "a participation worker"),
}


def team_addresses(rt: Services, team: str) -> list[str]:
    """The addresses that hear about a team's new requests (empty: the team reads the Requests page only)."""
    if team == "fostering_team":
        return fostering_addresses(rt)
    if team == "participation_worker":
        return list(rt.email_settings.team("participation"))
    return []


def _tell_team(s: Session, rt: Services, team: str, count: int, *, now: datetime) -> None:
    """One email to each of the team's addresses: how many new requests and where to answer them."""
    who, whom = _ASKED_BY.get(team, ("people", "someone"))
    link = rt.settings.public_url.rstrip("/") + "/admin/requests"
    subject = f"[ourvoice] {count} new request(s) from {who} to be contacted"
    body = (
        f"{count} {who} asked for {whom} to get in touch.\n"
        f"Please acknowledge within {rt.settings.request_within} and reply through ourvoice: {link}\n"
    )
    for address in team_addresses(rt, team):
        mail_queue.queue(s, rt.keyring, to=address, subject=subject, body=body, kind="staff_notice", now=now)
