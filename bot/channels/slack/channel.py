"""The Web API side on the real slack_sdk AsyncWebClient; SDK errors become DeliveryError."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.channels.base import DeliveryError
from bot.channels.slack.notices import delivery_error, retry_after_of
from bot.channels.slack.render import mrkdwn_escape, render
from bot.channels.slack.settings import SlackSettings
from bot.channels.slack.translate import CHANNEL, AlertAck, DmOnly, to_inbound
from bot.messages import Inbound, Outbound

# The SDK is imported where it is used: its package import alone (slack_sdk.errors pulls in the whole WebClient
# and Block Kit models) is about 0.2 s of every start, Telegram and web-only included (issue 27).
if TYPE_CHECKING:  # the async half of the SDK pulls in aiohttp (~0.7 s): imported only when a shell is built
    from slack_sdk.web.async_client import AsyncWebClient


log = logging.getLogger("ourvoice.slack")

# ------------------------------------------------------------------------------------------ the SDK shell


def _async_client(settings: SlackSettings) -> AsyncWebClient:
    from slack_sdk.web.async_client import AsyncWebClient

    kwargs: dict[str, Any] = {"token": settings.bot_token.get_secret_value(), "timeout": 15}
    if settings.api_base_url:
        kwargs["base_url"] = settings.api_base_url
    return AsyncWebClient(**kwargs)


class SlackChannel:
    """The Web API side: sends Block Kit replies and turns SDK errors into DeliveryError."""

    name = CHANNEL
    UPDATE_TRIES = 4

    def __init__(self, settings: SlackSettings) -> None:
        self.settings = settings
        self.client = _async_client(settings)

    async def open(self) -> None:
        """One HTTP connection pool for the channel's life (the SDK opens one per call otherwise)."""
        import aiohttp  # the async SDK's own transport

        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession()

    async def close(self) -> None:
        session, self.client.session = self.client.session, None
        if session is not None and not session.closed:
            await session.close()

    def to_inbound(self, payload: dict[str, Any]) -> Inbound | DmOnly | AlertAck | None:
        return to_inbound(payload)

    def render(self, message: Outbound) -> dict[str, Any]:
        return render(message)

    async def send(self, address: str, message: Outbound) -> None:
        """Deliver one message; raises DeliveryError (retry_after on 429, permanent when unreachable)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        payload = render(message)
        try:
            await self.client.chat_postMessage(
                channel=address,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise delivery_error(exc) from None
        except (SlackClientError, OSError, TimeoutError) as exc:  # network trouble: try again later
            raise DeliveryError(type(exc).__name__) from None

    async def update(self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]]) -> bool:
        """Replace a message's blocks (waiting out 429s); False if Slack refused (e.g. it is gone)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        for attempt in range(self.UPDATE_TRIES):
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
                return True
            except SlackApiError as exc:
                wait = retry_after_of(exc)
                if wait is None or attempt == self.UPDATE_TRIES - 1:
                    log.warning("slack.update_failed error=%s", delivery_error(exc))
                    return False
                await asyncio.sleep(min(wait, 60.0))
            except (SlackClientError, OSError, TimeoutError) as exc:
                log.warning("slack.update_failed error=%s", type(exc).__name__)
                return False
        return False

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees, in `channel`; failures are logged and dropped (it stores nothing)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=mrkdwn_escape(text))
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("slack.ephemeral_failed error=%s", type(exc).__name__)


