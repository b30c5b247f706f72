"""Email as an outbox channel (issue 21 item 6, issue 25): review statements and staff notices are outbox rows
written in the same transaction as whatever causes them, and the outbox sender (bot/outbox.py) delivers them by
SMTP with its usual claim, retries and back-off. Nothing is sent from a commit hook or from process state.

Owns the settings (OURVOICE_EMAIL_*: sender, relay login, each team's addresses), reading the row format and the
SMTP transport (rows are written by bot/mail_queue.py: channels never touch storage). A row's payload holds the
subject and body encrypted (a review statement is a young person's own words; a staff notice holds only
references and counts, but is sealed the same way), and its address is encrypted like every other outbox
address. Logs carry row ids and error types, never an address or a body.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.base import DeliveryError
from bot.crypto import Keyring
from bot.messages import Inbound, Outbound

CHANNEL = "email"
# The teams a staff notice can go to, as the council file names their roles' work (content/council.yaml):
# participation (workers and the participation lead), fostering (the fostering team), safeguarding (the
# safeguarding lead's team inbox: never alerts, which keep their own database-free path in bot/alerts.py).
TEAMS = ("participation", "fostering", "safeguarding")

# SMTP answers that mean this address will never take this message (a retry would only repeat it).
_PERMANENT_CODES = range(500, 600)


def _addresses(raw: str) -> list[str]:
    return [a.strip() for a in raw.split(",") if a.strip()]


def valid_address(text: str) -> bool:
    """A plain `name@domain` address, as staff type it into an invite (no display name, no spaces)."""
    text = text.strip()
    _, addr = parseaddr(text)
    local, at, domain = addr.partition("@")
    return bool(at) and addr == text and bool(local) and "." in domain and " " not in text and len(text) <= 254


class EmailSettings(BaseSettings):
    """Where staff notices go and how mail leaves (OURVOICE_EMAIL_*). The relay is OURVOICE_SMTP_HOST/PORT,
    the same one safeguarding alerts use."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_EMAIL_", env_file=".env", extra="ignore")

    mail_from: str = ""  # "" = OURVOICE_ALERT_EMAIL_FROM
    starttls: bool = False
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout: float = 10.0
    per_second: float = 5.0  # messages a second at most (a relay may throttle bursts)
    # Each team's addresses, comma-separated. Staff notices go here when no Slack staff channel is set, and to
    # both when both are set; a team without an address gets no email.
    participation_to: str = ""
    fostering_to: str = ""
    safeguarding_to: str = ""

    def team(self, name: str) -> list[str]:
        """A team's addresses ([] when not set)."""
        if name not in TEAMS:
            raise ValueError(f"unknown team {name!r}: one of {', '.join(TEAMS)}")
        return _addresses(str(getattr(self, f"{name}_to")))


def opened(keyring: Keyring, message: Outbound) -> tuple[str, str]:
    """(subject, body) of a queued email's payload, opened with its council's keys (the outbox sender puts the
    row's council in `meta`; bot/crypto)."""
    data = json.loads(keyring.decrypt(message.text.encode(), council=message.meta.get("council") or None))
    return str(data["subject"]), str(data["body"])


class EmailChannel:
    """The outbox sender's transport for email: one SMTP connection per message, on a worker thread."""

    name = CHANNEL

    def __init__(self, keyring: Keyring, settings: EmailSettings, *, host: str, port: int, mail_from: str) -> None:
        self.keyring = keyring
        self.settings = settings
        self.host, self.port = host, port
        self.mail_from = settings.mail_from or mail_from

    def to_inbound(self, payload: Any) -> Inbound | None:
        return None  # email only sends: replies come back through the bot, never by mail

    def render(self, message: Outbound) -> EmailMessage:
        subject, body = opened(self.keyring, message)
        msg = EmailMessage()
        msg["From"] = self.mail_from
        msg["Subject"] = subject
        msg.set_content(body)
        return msg

    async def send(self, address: str, message: Outbound) -> None:
        try:
            msg = self.render(message)
        except (ValueError, KeyError) as exc:
            raise DeliveryError(f"unreadable: {type(exc).__name__}", permanent=True) from None
        msg["To"] = address
        await asyncio.to_thread(self._deliver, msg)

    def _deliver(self, msg: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(self.host, self.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value())
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError("recipient refused", permanent=all(c in _PERMANENT_CODES for c in codes)) from None
        except smtplib.SMTPDataError as exc:
            # 5xx: the relay will never take this message; 4xx: try again later.
            raise DeliveryError(f"smtp {exc.smtp_code}", permanent=exc.smtp_code in _PERMANENT_CODES) from None
        except (OSError, smtplib.SMTPException) as exc:
            # Relay down, connection dropped, our login or sender refused (an operator fixes the settings): every
            # message waits for that, none is given up.
            raise DeliveryError(type(exc).__name__) from None
