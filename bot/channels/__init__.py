"""Thin channel adapters: SDK types in, neutral messages out. Registered in CHANNELS."""

CHANNELS: dict[str, str] = {
    "web": "bot.channels.web",
    "telegram": "bot.channels.telegram",
    "slack": "bot.channels.slack",
}
