"""The risk check on quote approval: wording approved for a report is read like any message a young person
sends. A quote whose original or edited wording worries the check is withdrawn (never approved, kept out of
every report) and raised as a safeguarding alert: a record plus the usual notice, which carries no words.

Owns only that check; approving, auditing and scrubbing stay with the approval action and storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.alerts import AlertNotice, AlertNotifier, new_alert_ref
from bot.crypto import Keyring
from bot.safeguarding import Lexicon, assess, default_lexicon_path
from storage import alerts as alert_store
from storage import quotes

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.quotes")


@dataclass
class QuoteGuard:
    """What the check needs: the lexicon (and model), keys to seal the words in the alert, and the notifier."""

    lexicon: Lexicon
    keyring: Keyring | None = None
    notifier: AlertNotifier | None = None
    public_url: str = ""
    timezone: str = "Europe/London"

    @classmethod
    def from_runtime(cls, rt: Services) -> QuoteGuard:
        """The running server's own parts (the admin web)."""
        return cls(rt.lexicon, rt.keyring, rt.notifier, rt.settings.public_url, rt.settings.timezone)

    @classmethod
    def from_settings(cls, settings: Any) -> QuoteGuard:
        """For the CLI: keys and alert routes from settings (a missing key only means no sealed copy)."""
        from bot.parts import build_keyring, build_notifier, cached_lexicon
        from bot.services import SetupError

        try:
            keyring: Keyring | None = build_keyring(settings)
        except SetupError:
            keyring = None
        return cls(
            cached_lexicon(default_lexicon_path()), keyring, build_notifier(settings), settings.public_url,
            settings.timezone,
        )

    @classmethod
    def record_only(cls) -> QuoteGuard:
        """No notifier at hand: the alert record is written and the escalation job sends its notice."""
        from bot.parts import cached_lexicon

        return cls(cached_lexicon(default_lexicon_path()))


def screen(s: Any, guard: QuoteGuard, quote_id: int, edited: str | None, *, by: str, now: datetime) -> str | None:
    """Risk-check a quote's wordings before approval; if flagged, withdraw it and alert. Returns the alert ref."""
    found = quotes.screening(s, quote_id)
    if found is None:
        return None
    original, participant_id = found
    texts = [original, *([edited] if edited else [])]  # as approved: the quote's wording and any edit
    checks = [assess(t, guard.lexicon) for t in texts if t and t.strip()]
    flagged = [a for a in checks if a.flagged]
    if not flagged:
        return None
    categories = sorted({c for a in flagged for c in a.categories})
    ref = new_alert_ref(now, key=f"quote:{quote_id}:{len(texts)}:{sum(len(t) for t in texts)}")
    person = alert_store_person(s, participant_id)
    words = "\n".join(texts)
    notifying = guard.notifier is not None and bool(guard.notifier.recipients)
    alert_store.create(
        s,
        alert_ref=ref,
        participant_id=participant_id,
        case_ref=person.case_ref if person is not None else None,
        channel="quote",
        categories=categories,
        text_enc=guard.keyring.encrypt(words) if guard.keyring is not None else None,
        now=now,
        notified=notifying,
    )
    quotes.withdraw(s, quote_id, by=by, now=now)
    if guard.notifier is not None:
        guard.notifier.notify(
            AlertNotice(
                alert_ref=ref,
                categories=tuple(categories),
                at=now.astimezone(ZoneInfo(guard.timezone)).isoformat(timespec="minutes"),
                case_ref=person.case_ref if person is not None else "",
                admin_url=f"{guard.public_url}/admin/alerts/{ref}" if guard.public_url else "",
            )
        )
    log.warning("quote.withdrawn_flagged quote=%d ref=%s", quote_id, ref)
    return ref


def alert_store_person(s: Any, participant_id: int | None) -> Any:
    from storage import participants

    return participants.get(s, participant_id) if participant_id is not None else None
