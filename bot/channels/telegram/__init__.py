"""The Telegram channel, one job per module, and the only package that imports python-telegram-bot.

- `translate`: updates in, neutral Inbound out (pure; recorded payloads in tests/payloads/telegram).
- `render`: neutral Outbound in, text and inline keyboards out (pure).
- `channel`: the Bot API side on the real PTB Application (stock httpx); SDK errors become DeliveryError.
- `runner`: the polling loop and the webhook route feeding the dispatcher, chats in parallel, each in order;
  what then happens to the replies is bot/delivery.py's, the same for every channel.
- `settings`: OURVOICE_TELEGRAM_*.

It never stores or logs names, usernames, media or message text (logs carry update ids and event names), and
knows nothing of storage or the engine: the dispatcher and the outbox sender are handed in by
bot/telegram_service.py.
"""

from bot.channels.telegram.channel import COMMANDS, TelegramChannel, retry_after_seconds
from bot.channels.telegram.render import MAX_TEXT, keyboard, render, split_text
from bot.channels.telegram.runner import MAX_WEBHOOK_BODY, TelegramRunner
from bot.channels.telegram.settings import WEBHOOK_PATH, TelegramSettings
from bot.channels.telegram.translate import CHANNEL, PrivateOnly, as_update, chat_key, to_inbound

__all__ = [
    "CHANNEL", "COMMANDS", "MAX_TEXT", "MAX_WEBHOOK_BODY", "WEBHOOK_PATH", "PrivateOnly", "TelegramChannel",
    "TelegramRunner", "TelegramSettings", "as_update", "chat_key", "keyboard", "render", "retry_after_seconds",
    "split_text", "to_inbound",
]
