"""OURVOICE_SLACK_* settings and the map of staff Slack users: built only in entry points and passed down."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SlackSettings(BaseSettings):
    """OURVOICE_SLACK_* settings; instantiated only in entry points and passed down."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_SLACK_", env_file=".env", extra="ignore")

    bot_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")  # xapp-... for Socket Mode
    api_base_url: str = Field(default="", description="Web API base URL, e.g. http://127.0.0.1:PORT/api/")
    staff_channel: str = Field(default="", description="channel id that receives staff notifications")
    staff_user_map: str = Field(
        default="", description="Slack user -> staff username, e.g. U123=jdoe,U456=asmith"
    )
    per_channel_interval: float = Field(
        default=1.0, ge=0, description="seconds between messages to one channel"
    )
    global_per_second: float = Field(default=8.0, gt=0, description="messages per second over all channels")

    @field_validator("api_base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if not v or v.endswith("/") else v + "/"

    @field_validator("staff_user_map")
    @classmethod
    def _map(cls, v: str) -> str:
        parse_user_map(v)
        return v

    @property
    def configured(self) -> bool:
        return bool(self.bot_token.get_secret_value())

    def staff_users(self) -> dict[str, str]:
        return parse_user_map(self.staff_user_map)

    def problems(self, *, socket_mode: bool) -> list[str]:
        """Reasons this configuration cannot start, as one line each."""
        out: list[str] = []
        if not self.configured:
            out.append(
                "OURVOICE_SLACK_BOT_TOKEN is not set: install the Slack app and copy its xoxb- token there"
            )
        if socket_mode and not self.app_token.get_secret_value():
            out.append(
                "OURVOICE_SLACK_APP_TOKEN is not set: Socket Mode needs an app-level xapp- token "
                "with the connections:write scope"
            )
        if not socket_mode and not self.signing_secret.get_secret_value():
            out.append(
                "OURVOICE_SLACK_SIGNING_SECRET is not set: copy it from the Slack app's Basic Information"
            )
        return out


def parse_user_map(raw: str) -> dict[str, str]:
    """'U123=jdoe, U456=asmith' -> {'U123': 'jdoe', 'U456': 'asmith'}; ValueError on a malformed pair."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        user, sep, name = (x.strip() for x in pair.partition("="))
        if not sep or not _USER_ID.match(user) or not name:
            raise ValueError(f"expected SLACKUSERID=staffusername pairs separated by commas, got {pair!r}")
        out[user] = name
    return out


