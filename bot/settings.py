"""Settings for the bot runtime, read from OURVOICE_* environment variables or a .env file.

Instantiated only in entry points and passed down; invalid values stop the start with one line.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# OURVOICE_REVIEW_WITHIN: "<n> working day(s)" or "<n>h"; the escalation job reads it with this pattern.
REVIEW_WITHIN = re.compile(r"(\d+) ?(working days?|h)")


def _council_value(section: str, key: str) -> str:
    """One number or name from the council file (content/council.yaml), the default for its setting."""
    from content.loader import current_council

    return str(getattr(current_council(), section)[key])


def _council_duty_team_names() -> dict[str, str]:
    """The duty team's name in each language the council has named it in (content/council.yaml)."""
    from content.loader import current_council

    return dict(current_council().duty_team_names)


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OURVOICE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/ourvoice.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For/-Proto uvicorn believes, comma-separated,
    # e.g. "127.0.0.1" behind nginx on the same machine. Empty (default) = believe no proxy header (issue 22, 7).
    trusted_proxies: str = ""
    id_hash_key: str = Field(default="", description="secret for keyed hashes of channel ids")
    encryption_keys: str = Field(default="", description="comma-separated Fernet keys, newest first")
    # Audit chain (issue 22): HMAC key kept outside the database (else derived from id_hash_key under its own
    # label), and the append-only file each append's anchor line goes to ("" = system log only).
    audit_key: str = Field(default="", description="secret key for the audit log's HMAC chain")
    audit_anchor_file: str = "var/audit-anchors.log"
    content_dir: str = ""
    invite_only: bool = True
    # Demo on one machine (`make demo`): may start without an alert inbox; alerts show in the admin and on the console.
    demo: bool = False
    # Issue 24: offer languages whose safety-critical strings are still draft translations (marked "draft
    # translation" in the picker and on every message). For demos and trying the workflow, never live.
    show_draft_languages: bool = False
    # Safeguarding: every number in one place, reviewed by the council's safeguarding lead.
    # Defaults come from the council file's duty_contacts; OURVOICE_DUTY_* settings override them.
    duty_team_name: str = Field(default_factory=lambda: _council_value("duty_contacts", "duty_team"))
    duty_team_names: dict[str, str] = Field(default_factory=lambda: _council_duty_team_names())
    duty_number: str = Field(default_factory=lambda: _council_value("duty_contacts", "duty_number"))
    out_of_hours_number: str = Field(default_factory=lambda: _council_value("duty_contacts", "out_of_hours"))
    office_hours: str = "08:30-17:00"
    timezone: str = "Europe/London"
    alert_email_to: str = ""
    alert_email_escalate_to: str = ""
    alert_email_from: str = "ourvoice@localhost"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    alert_ack_minutes_office: int = Field(default=30, ge=1)
    alert_ack_minutes_out_of_hours: int = Field(default=10, ge=1)
    alert_spool_dir: str = "var/spool"
    # A flagged message's safe reply is handed back after at most this long, whatever the database is doing.
    safe_reply_within: float = Field(default=0.8, gt=0, le=5)
    # How long a write waits for a locked SQLite database before giving up (the record is then spooled).
    db_busy_timeout: float = Field(default=30.0, gt=0)
    # "To read" queue: how long a free-text message may wait unread before the participation manager is
    # told, e.g. "1 working day" (Mon-Fri in `timezone`), "2 working days" or "4h" (clock hours).
    review_within: str = "1 working day"
    # Requests to be contacted (issue 25): how long a request may wait before it is overdue in its queue.
    request_within: str = "2 working days"
    # Public holidays that are not working days (office hours and "working day" deadlines skip them):
    # "<country>" or "<country>-<subdivision>" as the holidays package names them; "" for weekends only.
    bank_holidays: str = "GB-ENG"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        import ipaddress

        items = [p.strip() for p in v.split(",") if p.strip()]
        for item in items:
            if item == "*":
                continue  # every peer: only when nothing but the proxy can reach the port
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)") from exc
        return ",".join(items)

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        try:
            start, end = v.split("-")
            for part in (start, end):
                h, m = part.split(":")
                if not (0 <= int(h) < 24 and 0 <= int(m) < 60):
                    raise ValueError(part)
        except ValueError as exc:
            raise ValueError("must look like 08:30-17:00") from exc
        return v

    @field_validator("bank_holidays")
    @classmethod
    def _bank_holidays(cls, v: str) -> str:
        from bot.working_days import check_region

        return check_region(v.strip())

    @field_validator("review_within", "request_within")
    @classmethod
    def _review_within(cls, v: str) -> str:
        if not REVIEW_WITHIN.fullmatch(v.strip().lower()) or int(v.strip().split()[0].rstrip("h")) < 1:
            raise ValueError('must look like "1 working day", "2 working days" or "4h"')
        return v

    def fernet_keys(self) -> list[str]:
        return [k.strip() for k in self.encryption_keys.split(",") if k.strip()]


def settings_error_line(exc: Exception) -> str:
    """One clear line naming the first bad setting, for start-up failures."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        name = "OURVOICE_" + str(first["loc"][0]).upper() if first.get("loc") else "a setting"
        return f"invalid setting {name}: {first['msg']}"
    return f"invalid settings: {exc}"


class HelpNumbers(BaseSettings):
    """Helpline numbers shown in every safe reply: one source, reviewed by the safeguarding lead."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_HELP_", env_file=".env", extra="ignore")

    # Defaults from the council file's help_numbers; OURVOICE_HELP_* settings override them.
    emergency: str = Field(default_factory=lambda: _council_value("help_numbers", "emergency"))
    childline: str = Field(default_factory=lambda: _council_value("help_numbers", "childline"))
    samaritans: str = Field(default_factory=lambda: _council_value("help_numbers", "samaritans"))
    shout_text: str = Field(default_factory=lambda: _council_value("help_numbers", "shout_text"))
