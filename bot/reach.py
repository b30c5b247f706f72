"""One rule for every message ourvoice sends first (issue 25): quiet hours per audience, a daily cap per person,
/pause, and the channel's own limits, in one place for survey reminders and invitations, challenge card updates,
event invitations, "you said, we did" and staff replies. Urgent safeguarding messages are the only exception.

`decide` is pure (clock and counts passed in); `plan` reads what it needs through storage query functions and
`queue` writes the outbox row, held back (`not_before`) until the rule allows. Replies to what someone just
wrote are not "sent first" and never come here. Never sends anything itself and never logs message text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.messages import Outbound
from storage import outbox, participants, waves
from storage.db import Session

log = logging.getLogger("ourvoice.reach")

# What a message sent first is for. Only URGENT ones pass the rule untouched.
PURPOSES = frozenset(
    {"survey_invitation", "survey_reminder", "card_update", "event_invitation", "you_said_we_did",
     "staff_reply", "review_update", "safeguarding", "address_not_working"}
)
URGENT = frozenset({"safeguarding"})
# The longest text each channel takes in one message (Telegram 4096 characters; Slack's section blocks 3000;
# the web chat's own bubble limit). Longer first messages are not sent: nobody should get half a notice.
CHANNEL_TEXT_LIMITS: dict[str, int] = {"telegram": 4096, "slack": 3000, "web": 4000}
MAX_DAYS_AHEAD = 14  # a notice the cap keeps pushing back is dropped after this long, not queued for ever


def _window(v: str) -> str:
    if v.strip():
        try:
            start, end = v.split("-")
            time.fromisoformat(start.strip())
            time.fromisoformat(end.strip())
        except ValueError as exc:
            raise ValueError("must look like 21:00-08:00 (or be empty for none)") from exc
    return v


class ReachSettings(BaseSettings):
    """Quiet hours per audience and the daily cap (OURVOICE_QUIET_HOURS_YOUNG_PERSON, _CARER, OURVOICE_DAILY_CAP)."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_", env_file=".env", extra="ignore")

    quiet_hours_young_person: str = Field(default="21:00-08:00", description="local times nothing is sent first")
    quiet_hours_carer: str = Field(default="21:00-08:00", description="local times nothing is sent first")
    daily_cap: int = Field(default=3, ge=1, le=20, description="messages sent first, per person per local day")
    timezone: str = "Europe/London"

    @field_validator("quiet_hours_young_person", "quiet_hours_carer")
    @classmethod
    def _quiet(cls, v: str) -> str:
        return _window(v)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    def quiet_hours(self, audience: str) -> tuple[time, time] | None:
        """(start, end) of the audience's quiet hours, or None for none (unknown audiences: the young people's)."""
        raw = self.quiet_hours_carer if audience == "carer" else self.quiet_hours_young_person
        if not raw.strip():
            return None
        start, end = raw.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


@dataclass(frozen=True)
class Decision:
    """Send now, hold until `at`, or skip (with the reason, for logs and callers)."""

    action: str  # send | hold | skip
    at: datetime
    reason: str = ""

    @property
    def goes(self) -> bool:
        return self.action != "skip"


def _quiet(t: time, window: tuple[time, time]) -> bool:
    start, end = window
    return start <= t < end if start <= end else (t >= start or t < end)


def quiet_until(now: datetime, audience: str, settings: ReachSettings) -> datetime | None:
    """When the audience's quiet hours that `now` falls in end (aware), or None when `now` is not quiet."""
    window = settings.quiet_hours(audience)
    tz = ZoneInfo(settings.timezone)
    local = now.astimezone(tz)
    if window is None or not _quiet(local.time(), window):
        return None
    end = window[1]
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)


def in_quiet_hours(now: datetime, audience: str, settings: ReachSettings) -> bool:
    return quiet_until(now, audience, settings) is not None


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, aware."""
    zone = ZoneInfo(tz)
    return (datetime.combine(day, time(0), tzinfo=zone),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))


def decide(
    *,
    purpose: str,
    audience: str,
    paused: bool,
    channel: str,
    text_length: int,
    sent_on: Callable[[date], int],
    now: datetime,
    settings: ReachSettings,
) -> Decision:
    """The rule. `sent_on(day)` counts the person's messages sent first on that local day (already queued too)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if purpose in URGENT:
        return Decision("send", now, "urgent")
    if paused:
        return Decision("skip", now, "paused")
    if text_length > CHANNEL_TEXT_LIMITS.get(channel, 4000):
        return Decision("skip", now, "too_long")
    tz = ZoneInfo(settings.timezone)
    at = quiet_until(now, audience, settings) or now
    reason = "quiet_hours" if at != now else ""
    for _ in range(MAX_DAYS_AHEAD):
        day = at.astimezone(tz).date()
        if sent_on(day) < settings.daily_cap:
            return Decision("send" if at == now else "hold", at, reason)
        # Full that day: the first moment of the next day that is not quiet.
        start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(now.tzinfo)
        at = quiet_until(start, audience, settings) or start
        reason = "daily_cap"
    return Decision("skip", now, "daily_cap")


@dataclass(frozen=True)
class Planned:
    """A decision for one person, with the channel identity it would go to."""

    decision: Decision
    participant_id: int
    channel: str
    address_enc: bytes | None


def plan(
    session: Session, participant_id: int, message: Outbound, *, purpose: str, now: datetime,
    settings: ReachSettings, channel: str | None = None,
) -> Planned | None:
    """Apply the rule to one message for one person; None when they cannot be reached at all (no longer
    active, or no channel). `channel` picks that channel's identity when they still use it."""
    person = participants.get(session, participant_id)
    idents = participants.addresses(session, participant_id)
    if person is None or person.status != "active" or not idents:
        return None
    ident = next((i for i in idents if i.channel == channel), idents[0])
    presence = waves.presence(session, [participant_id]).get(participant_id)

    def sent_on(day: date) -> int:
        start, end = day_bounds(day, settings.timezone)
        return outbox.notices_between(session, participant_id, start, end)

    decision = decide(
        purpose=purpose, audience=person.audience, paused=bool(presence and presence.paused), channel=ident.channel,
        text_length=len(message.text), sent_on=sent_on, now=now, settings=settings,
    )
    return Planned(decision, participant_id, ident.channel, ident.address_enc)


def queue(session: Session, planned: Planned, message: Outbound, *, purpose: str, now: datetime) -> int | None:
    """Write the outbox row the plan allows (held until its time); None when the rule said skip."""
    d = planned.decision
    if not d.goes:
        log.info("reach.skipped purpose=%s participant=%s reason=%s", purpose, planned.participant_id, d.reason)
        return None
    if d.action == "hold":
        log.info("reach.held purpose=%s participant=%s reason=%s", purpose, planned.participant_id, d.reason)
    return int(outbox.add(
        session, channel=planned.channel, payload_json=json.dumps(message.to_json(), ensure_ascii=False), now=now,
        participant_id=planned.participant_id, address_enc=planned.address_enc, kind="notice", not_before=d.at,
    ))


def send_first(
    session: Session, participant_id: int, message: Outbound, *, purpose: str, now: datetime,
    settings: ReachSettings, channel: str | None = None,
) -> int | None:
    """Plan and queue in one call: the outbox row id, or None when it is not sent (unreachable, paused, ...)."""
    planned = plan(session, participant_id, message, purpose=purpose, now=now, settings=settings, channel=channel)
    return queue(session, planned, message, purpose=purpose, now=now) if planned is not None else None
