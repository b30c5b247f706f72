"""Loopback test doubles: fake Telegram Bot API, fake Slack Web API and an SMTP sink, all on 127.0.0.1."""
