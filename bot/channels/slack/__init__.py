"""The Slack channel, one job per module, and the only package that imports slack_bolt and slack_sdk.

- `verify`: the signature, its age and a well-formed body, checked before anything is read.
- `translate`: Events API, interactivity and slash-command payloads in, neutral Inbound out (pure).
- `render`: neutral Outbound in, Block Kit out (pure).
- `notices`: staff notices (safeguarding alerts with an Acknowledge button, cards, digests) and what an
  acknowledgement changes; SDK errors turned into DeliveryError.
- `channel`: the Web API side on the real AsyncWebClient.
- `runner`: the real Bolt AsyncApp (HTTP on the shared ASGI app, or Socket Mode) feeding the dispatcher, store
  then acknowledge; what then happens to the replies is bot/delivery.py's, the same for every channel.
- `settings`: OURVOICE_SLACK_*.

It never stores or logs message text, file names or names (logs carry event ids and event names), and knows
nothing of storage or the engine: the dispatcher, the outbox sender and the alert-acknowledging function are
handed in by bot/slack_service.py.
"""

from bot.channels.slack.channel import SlackChannel
from bot.channels.slack.notices import (
    AckOutcome,
    SlackNoticeRoute,
    acknowledged_blocks,
    render_notice,
    staff_recipients,
)
from bot.channels.slack.render import answered_blocks, mrkdwn_escape, render, split_text
from bot.channels.slack.runner import SlackRunner
from bot.channels.slack.settings import SlackSettings, parse_user_map
from bot.channels.slack.translate import ACK_ACTION, CHANNEL, DM_ONLY_FALLBACK, AlertAck, DmOnly, to_inbound
from bot.channels.slack.verify import MAX_BODY, verify_signature, well_formed

__all__ = [
    "ACK_ACTION", "CHANNEL", "DM_ONLY_FALLBACK", "MAX_BODY", "AckOutcome", "AlertAck", "DmOnly", "SlackChannel",
    "SlackNoticeRoute", "SlackRunner", "SlackSettings", "acknowledged_blocks", "answered_blocks", "mrkdwn_escape",
    "parse_user_map", "render", "render_notice", "split_text", "staff_recipients", "to_inbound", "verify_signature",
    "well_formed",
]
