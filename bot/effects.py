"""The feature modules that answer `action:` nodes: one list, read by the runtime and by `content check`.

Kept apart from `bot/runtime.py` so the content check can ask which actions exist without importing the whole
composition root (and the admin web with it).
"""

from __future__ import annotations

from collections.abc import Callable

from bot import identity
from bot.crypto import Keyring
from bot.dispatcher import EffectHandler
from bot.features import carers, contact, events, young_people
from bot.settings import BotSettings
from content.loader import Library

# Each feature's `effects(keyring, library, settings)` returns {action_name: handler}. Features add one line here.
EFFECTS: tuple[Callable[[Keyring, Library, BotSettings], dict[str, EffectHandler]], ...] = (
    carers.effects,  # carer survey waves: "stop reminders"
    contact.effects,  # My stuff: email address or mobile number; "talk to my worker" (issue 25)
    events.effects,  # the evaluation after a council meeting or event (issue 20)
    identity.effects,  # My stuff: summary, copy, pause, link code, delete (issue 5)
    young_people.effects,  # good news, review statements, challenge cards (issue 6)
)
