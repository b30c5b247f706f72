"""OURVOICE_TELEGRAM_* settings: built only in entry points and passed down."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramSettings(BaseSettings):
    """OURVOICE_TELEGRAM_* settings; instantiated only in entry points and passed down."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_TELEGRAM_", env_file=".env", extra="ignore")

    token: SecretStr = SecretStr("")
    api_base_url: str = Field(default="", description="PTB base_url, e.g. http://127.0.0.1:8081/bot")
    webhook_url: str = Field(default="", description="public https URL for /telegram/webhook; empty: polling")
    webhook_secret: SecretStr = SecretStr("")
    bot_username: str = Field(default="", description="checked against getMe at start; used for t.me links")
    per_chat_interval: float = Field(default=1.0, ge=0, description="seconds between messages to one chat")
    global_per_second: float = Field(default=30.0, gt=0, description="messages per second over all chats")
    poll_timeout: int = Field(default=25, ge=0, le=50, description="getUpdates long-poll seconds")
    webhook_max_connections: int = Field(default=8, ge=1, le=100)
    dispatch_workers: int = Field(default=0, ge=0, le=32, description="0: 1 on SQLite, 4 on PostgreSQL")
    send_concurrency: int = Field(default=8, ge=1, le=64, description="sends in flight at once")
    claim_ttl: float = Field(
        default=30.0, ge=1, le=600,
        description="seconds a process's claim on chats' replies, and the polling lease, last unless renewed "
        "(renewed every third of it): how long a dead process's work waits for another host to take it over",
    )
    rate_jitter: float = Field(
        default=0.05, ge=0, le=1,
        description="PostgreSQL: seconds a send may leave late; the shared slots are spaced for it",
    )

    @field_validator("api_base_url", "webhook_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("api_base_url")
    @classmethod
    def _bot_path(cls, v: str) -> str:
        # PTB appends the token to base_url: "http://host:8081" and "http://host:8081/bot/" mean ".../bot".
        v = v.rstrip("/")
        return v if not v or v.endswith("/bot") or "{token}" in v else v + "/bot"

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if raw and not _SECRET_RE.match(raw):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return v

    @property
    def configured(self) -> bool:
        return bool(self.token.get_secret_value())

    def webhook_target(self) -> str:
        """The URL given to setWebhook: the configured URL, with /telegram/webhook added if it has no path."""
        parts = urlsplit(self.webhook_url)
        if parts.path in ("", "/"):
            parts = parts._replace(path=WEBHOOK_PATH)
        return urlunsplit(parts)

    def problems(self) -> list[str]:
        """Reasons this configuration cannot start, as one line each."""
        out: list[str] = []
        if not self.configured:
            out.append("OURVOICE_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token")
        if self.webhook_url and not self.webhook_secret.get_secret_value():
            out.append("OURVOICE_TELEGRAM_WEBHOOK_SECRET must be set when OURVOICE_TELEGRAM_WEBHOOK_URL is")
        return out


