"""Writing email outbox rows (issue 21 item 6): the one way anything asks for an email to be sent, in the
caller's transaction, so it goes only if that transaction commits. The email channel (bot/channels/email.py)
reads and sends them; subject and body are sealed together, the address encrypted like every outbox address.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from bot.channels.email import CHANNEL, EmailSettings
from bot.crypto import Keyring
from bot.messages import Outbound
from storage import outbox
from storage.db import Session


def queue(
    s: Session,
    keyring: Keyring,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    now: datetime,
    participant_id: int | None = None,
) -> int:
    """Write one email as a pending outbox row in the caller's transaction; returns the row id.

    It is sent only if that transaction commits, by whichever process holds the email sender's lease."""
    sealed = keyring.encrypt(json.dumps({"subject": " ".join(subject.split()), "body": body})).decode()
    return outbox.add(
        s,
        channel=CHANNEL,
        payload_json=json.dumps(Outbound(text=sealed).to_json()),
        now=now,
        participant_id=participant_id,
        address_enc=keyring.encrypt(to.strip()),
        kind=kind,
    )


def queue_team(
    s: Session, keyring: Keyring, settings: EmailSettings, team: str, *, subject: str, body: str, kind: str,
    now: datetime,
) -> list[int]:
    """One row per address of a team (so one bad address never holds up the others); [] when none is set."""
    return [queue(s, keyring, to=a, subject=subject, body=body, kind=kind, now=now) for a in settings.team(team)]


def queue_teams(
    s: Session, keyring: Keyring, settings: EmailSettings, teams: Iterable[str], *, subject: str, body: str,
    kind: str, now: datetime,
) -> list[int]:
    """The same notice to several teams, each address once."""
    seen: set[str] = set()
    ids = []
    for team in teams:
        for a in settings.team(team):
            if a.lower() not in seen:
                seen.add(a.lower())
                ids.append(queue(s, keyring, to=a, subject=subject, body=body, kind=kind, now=now))
    return ids
