"""Short notices by text message or email through GOV.UK Notify (issue 25), behind one notifier interface.

Only short notices go this way ("Your survey is waiting: <link>", "You have a reply from the fostering team: <link>"):
the words live in Notify templates chosen by id; we send only a link and a fixed line saying what kind of notice it
is (NOTICE_WORDS), never an answer or free text. Someone's email address or mobile number is stored encrypted and
removable at any time. Notices pass the one rule for
messages sent first (bot/reach.py: quiet hours, daily cap, pause); `send_due` sends what is due, retries Notify's
outages with back-off and records a refusal (e.g. not a UK mobile number) in Notify's own words.
Logs ids and references only, never an address.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import reach
from bot.crypto import Keyring
from bot.engine import address as address_rules
from bot.messages import Outbound
from content.schema import text_for
from storage import notify_store, participants, waves
from storage.db import Session

log = logging.getLogger("ourvoice.notify")

KINDS = address_rules.KINDS


# What each kind of notice says, as the template's ((what)) before ((link)): fixed words chosen here, never anyone's
# answer or message. A template without ((what)) simply ignores it.
NOTICE_WORDS = {
    "survey_invite": "Your survey is waiting",
    "survey_reminder": "Your survey is still waiting",
    "reply_fostering_team": "You have a reply from the fostering team",
    "reply_participation_worker": "You have a reply from your participation worker",
}
DEFAULT_WORDS = "You have a new message from ourvoice"


def words_for(notice: str) -> str:
    """The fixed line for a kind of notice (every survey reminder, whatever its kind, says the survey waits)."""
    if notice in NOTICE_WORDS:
        return NOTICE_WORDS[notice]
    return NOTICE_WORDS["survey_reminder"] if notice.startswith("survey_") else DEFAULT_WORDS


class NotifySettings(BaseSettings):
    """GOV.UK Notify (OURVOICE_NOTIFY_*): the API key and the ids of the two templates we use."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_NOTIFY_", env_file=".env", extra="ignore")

    api_key: str = Field(default="", description="a Notify API key ('team' or 'live'); empty: nothing is sent")
    base_url: str = "https://api.notifications.service.gov.uk"
    sms_template: str = Field(default="", description="text template id, with a ((link)) placeholder")
    email_template: str = Field(default="", description="email template id, with a ((link)) placeholder")
    max_attempts: int = Field(default=5, ge=1, le=20)
    # Notify's delivery receipts: the bearer token set for the callback in Notify (API integration > Callbacks).
    # Empty: no callback is accepted, and the notify_send job asks Notify for each notice's status instead.
    callback_token: str = Field(default="", description="bearer token Notify sends with delivery receipts")
    poll_days: int = Field(default=3, ge=1, le=7, description="how long after sending a status is asked for")

    def template(self, kind: str) -> str:
        return self.sms_template if kind == "sms" else self.email_template


class Refused(Exception):
    """Notify will never take this notice (a number that is not a UK mobile, an unknown template, a bad key)."""


class Unavailable(Exception):
    """Notify could not be reached or failed this time; try again later."""


class Notifier(Protocol):
    """Sends one templated notice and returns the provider's id; tells a sent notice's delivery status. Raises
    Refused or Unavailable."""

    def send(self, kind: str, to: str, template_id: str, *, personalisation: dict[str, str], reference: str) -> str: ...

    def status(self, notify_id: str) -> str: ...


class GovNotify:
    """The official client (`notifications-python-client`) behind the Notifier interface."""

    def __init__(self, settings: NotifySettings) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client: Any = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.api_key, base_url=settings.base_url, timeout=10
        )

    def send(self, kind: str, to: str, template_id: str, *, personalisation: dict[str, str], reference: str) -> str:
        from notifications_python_client.errors import APIError
        from requests import RequestException

        try:
            if kind == "sms":
                answer = self.client.send_sms_notification(to, template_id, personalisation, reference)
            else:
                answer = self.client.send_email_notification(to, template_id, personalisation, reference)
        except APIError as exc:
            if exc.status_code in (400, 403):
                raise Refused(_words(exc.message)) from None
            raise Unavailable(f"Notify answered {exc.status_code}") from None
        except RequestException as exc:
            raise Unavailable(type(exc).__name__) from None
        return str(answer["id"])

    def status(self, notify_id: str) -> str:
        from notifications_python_client.errors import APIError
        from requests import RequestException

        try:
            return str(self.client.get_notification_by_id(notify_id)["status"])
        except APIError as exc:
            raise Unavailable(f"Notify answered {exc.status_code}") from None
        except RequestException as exc:
            raise Unavailable(type(exc).__name__) from None


def _words(message: Any) -> str:
    """Notify's error list as one line ("phone_number Not a UK mobile number")."""
    if isinstance(message, list):
        return "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in message)
    return str(message)


def normalise(kind: str, address: str) -> str:
    """A tidied address, or ValueError with a clear message (checked again by Notify when sending)."""
    return address_rules.normalise(kind, address)


def add_contact(session: Session, keyring: Keyring, participant_id: int, kind: str, address: str, *,
                now: datetime) -> int:
    """Store an address for short notices, encrypted; ValueError (a clear message) when it is not one."""
    return notify_store.add_contact(session, participant_id, kind, keyring.encrypt(normalise(kind, address)), now=now)


@dataclass(frozen=True)
class Queued:
    """What `notify_first` did: the rule's decision and the notices it queued (one per address)."""

    decision: reach.Decision | None
    ids: tuple[int, ...]


def notify_first(
    session: Session, participant_id: int, notice: str, *, purpose: str, now: datetime,
    reach_settings: reach.ReachSettings, settings: NotifySettings, request_id: int | None = None,
) -> Queued:
    """Queue a short notice to each of someone's working addresses under the one rule (held through quiet hours and
    the daily cap; none while paused). With `request_id`, only to the address given for that request (and never to
    that one otherwise). Nothing when they gave no address or Notify is not set up."""
    person = participants.get(session, participant_id)
    given = notify_store.for_request(session, request_id) if request_id is not None else notify_store.contacts(
        session, participant_id)
    points = [p for p in given if p.not_working_at is None]
    if person is None or person.status != "active" or not points or not settings.api_key:
        return Queued(None, ())
    presence = waves.presence(session, [participant_id]).get(participant_id)

    def sent_on(day: date) -> int:
        start, end = reach.day_bounds(day, reach_settings.timezone)
        return notify_store.count_between(session, participant_id, start, end)

    decision = reach.decide(
        purpose=purpose, audience=person.audience, paused=bool(presence and presence.paused), channel="notify",
        text_length=0, sent_on=sent_on, now=now, settings=reach_settings,
    )
    if not decision.goes:
        log.info("notify.skipped participant=%s reason=%s", participant_id, decision.reason)
        return Queued(decision, ())
    ids = []
    for point in points:
        template = settings.template(point.kind)
        if not template:
            continue
        ids.append(notify_store.queue(
            session, participant_id=participant_id, contact_point_id=point.id, kind=point.kind,  # type: ignore[arg-type]
            template_id=template, notice=notice, reference=f"ov-{uuid.uuid4().hex[:20]}", now=now,
            not_before=decision.at,
        ))
    return Queued(decision, tuple(ids))


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed try, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def send_due(
    open_session: Callable[[], Any], keyring: Keyring, notifier: Notifier, settings: NotifySettings, *,
    link: str, now: datetime,
) -> dict[str, int]:
    """Send every due notice once: sent, refused (recorded in Notify's words), retried later after an outage, or
    failed after `max_attempts`; a notice to someone who has paused since it was queued is cancelled."""
    counts = {"sent": 0, "refused": 0, "retry": 0, "failed": 0, "cancelled": 0}
    with open_session() as s:
        due = [(int(m.id or 0), m.participant_id, m.contact_point_id, m.kind, m.template_id, m.reference, m.attempts,
                m.notice) for m in notify_store.due(s, now=now)]
    for mid, pid, cid, kind, template, reference, attempts, notice in due:
        with open_session() as s:
            point = notify_store.contact(s, cid) if cid is not None else None
            presence = waves.presence(s, [pid]).get(pid) if pid is not None else None
            if point is None or (presence is not None and presence.paused):
                notify_store.mark(s, mid, status="cancelled", now=now, tried=False,
                                  error="paused" if point is not None else "address removed")
                counts["cancelled"] += 1
                continue
            to = keyring.decrypt(point.address_enc)
        try:
            notify_id = notifier.send(kind, to, template, reference=reference,
                                      personalisation={"link": link, "what": words_for(notice)})
        except Refused as exc:
            with open_session() as s:
                notify_store.mark(s, mid, status="refused", now=now, error=str(exc))
            log.warning("notify.refused reference=%s", reference)
            counts["refused"] += 1
            continue
        except Unavailable as exc:
            tries = attempts + 1
            with open_session() as s:
                if tries >= settings.max_attempts:
                    notify_store.mark(s, mid, status="failed", now=now, error=f"{exc} (after {tries} tries)")
                    counts["failed"] += 1
                else:
                    notify_store.mark(s, mid, status="pending", now=now, error=str(exc),
                                      retry_at=now + retry_delay(tries))
                    counts["retry"] += 1
            log.warning("notify.unavailable reference=%s try=%d", reference, tries)
            continue
        with open_session() as s:
            notify_store.mark(s, mid, status="sent", now=now, notify_id=notify_id)
        counts["sent"] += 1
    return counts


# Notify's delivery statuses that will not change again; "permanent-failure" means the address will never work.
FINAL = frozenset({"delivered", "permanent-failure", "temporary-failure", "technical-failure"})
POLL_AFTER = timedelta(minutes=1)  # Notify needs a moment: a notice is first asked about on the run after it went


def record_receipt(
    session: Session, keyring: Keyring, library: Any, *, notify_id: str, reference: str | None, status: str,
    now: datetime, reach_settings: reach.ReachSettings,
) -> str:
    """Record Notify's delivery status for one notice (from its callback or a status poll): 'unknown' when it is
    not ours. A permanent failure marks the address as not working (never used again) and tells the person once,
    in their chat, under the one rule: the web chat shows it the next time they open it."""
    msg = notify_store.by_notify_id(session, notify_id) or (
        notify_store.by_reference(session, reference) if reference else None)
    if msg is None:
        return "unknown"
    notify_store.record_receipt(session, int(msg.id or 0), receipt=status, now=now)
    log.info("notify.receipt reference=%s status=%s", msg.reference, status)
    if status != "permanent-failure" or msg.contact_point_id is None:
        return status
    point = notify_store.contact(session, msg.contact_point_id)
    if point is None or not notify_store.mark_not_working(session, int(point.id or 0), now=now):
        return status
    person = participants.get(session, point.participant_id)
    band = (person.band if person else None) or "default"
    shown = address_rules.mask(point.kind, keyring.decrypt(point.address_enc))
    text = text_for(library.string("contact_not_working"), band).format(shown=shown)
    if reach.send_first(session, point.participant_id, Outbound(text=text, meta={"kind": "notice"}),
                        purpose="address_not_working", now=now, settings=reach_settings) is not None:
        notify_store.mark_told(session, int(point.id or 0), now=now)
    log.info("notify.not_working participant=%s kind=%s", point.participant_id, point.kind)
    return status


def poll_receipts(
    open_session: Callable[[], Any], keyring: Keyring, library: Any, notifier: Notifier, settings: NotifySettings,
    *, now: datetime, reach_settings: reach.ReachSettings, limit: int = 100,
) -> dict[str, int]:
    """Ask Notify for the status of notices sent in the last `poll_days` that have no final receipt yet (used when
    no callback is set up); counts of the statuses recorded."""
    counts: dict[str, int] = {}
    with open_session() as s:
        waiting = [(m.notify_id, m.reference) for m in notify_store.awaiting_receipt(
            s, sent_after=now - timedelta(days=settings.poll_days), sent_before=now - POLL_AFTER, limit=limit)]
    for notify_id, reference in waiting:
        try:
            status = notifier.status(str(notify_id))
        except (Unavailable, Refused):
            counts["unavailable"] = counts.get("unavailable", 0) + 1
            break  # Notify is struggling: ask again next run
        if status not in FINAL:  # still on its way: ask again next run
            counts["pending"] = counts.get("pending", 0) + 1
            continue
        with open_session() as s:
            done = record_receipt(s, keyring, library, notify_id=str(notify_id), reference=reference, status=status,
                                  now=now, reach_settings=reach_settings)
        counts[done] = counts.get(done, 0) + 1
    return counts
