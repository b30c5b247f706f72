"""The parts every entry point builds from settings: the compiled lexicon, the keys and the alert routes.

Apart from bot.runtime (which re-exports them) so that a module the admin web reaches, such as
admin.quote_safety, can build them for the CLI without importing the composition root, which imports the admin
web itself.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bot.alert_routes import demo_recipients
from bot.alerts import AlertNotifier, EmailRoute, Recipient
from bot.channels.slack import staff_recipients
from bot.crypto import Keyring
from bot.safeguarding import Lexicon
from bot.services import SetupError
from bot.settings import BotSettings


@functools.lru_cache(maxsize=4)
def _lexicon_at(path: str, mtime_ns: int) -> Lexicon:
    return Lexicon.from_file(Path(path))


def cached_lexicon(path: Path) -> Lexicon:
    """The compiled lexicon, rebuilt only when the file changes (compiling takes a few hundred ms)."""
    return _lexicon_at(str(path), path.stat().st_mtime_ns)


def build_keyring(settings: BotSettings) -> Keyring:
    if not settings.id_hash_key:
        raise SetupError("OURVOICE_ID_HASH_KEY is not set: run `ourvoice init` to create a .env with fresh keys")
    if not settings.fernet_keys():
        raise SetupError("OURVOICE_ENCRYPTION_KEYS is not set: run `ourvoice init` to create a .env with fresh keys")
    try:
        return Keyring(settings.id_hash_key, settings.fernet_keys())
    except ValueError as exc:
        raise SetupError(f"OURVOICE_ENCRYPTION_KEYS is invalid: {exc}") from exc


def build_notifier(settings: BotSettings, extra: list[Recipient] | None = None) -> AlertNotifier:
    recipients: list[Recipient] = []
    email = EmailRoute(settings.smtp_host, settings.smtp_port, settings.alert_email_from)
    for addr in filter(None, (a.strip() for a in settings.alert_email_to.split(","))):
        recipients.append(Recipient(email, addr, level=0))
    for addr in filter(None, (a.strip() for a in settings.alert_email_escalate_to.split(","))):
        recipients.append(Recipient(email, addr, level=1))
    recipients += staff_recipients()  # Slack staff (issue 10)
    recipients += extra or []
    if settings.demo:  # no inbox in a demo: alerts are shown in the admin and said on the console
        recipients += demo_recipients(recipients)
    return AlertNotifier(recipients)
