"""The web chat's device side: the key that signs its cookie, and "forget this device" through storage.

Owns no HTTP (bot.channels.web does) and no SQL (storage.invites does); never logs a cookie or its id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.channels.web_cookie import ChatCookie
from bot.crypto import Keyring
from bot.identity import serving_sender
from storage import audit, participants
from storage import invites as store
from storage.db import Session, session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.web_device")
COOKIE_KEY_LABEL = "web-chat-cookie"


def chat_cookie(keyring: Keyring, *, previous: Keyring | None = None) -> ChatCookie:
    """Signs with a key derived from the identity key under its own label; during an identity-key change the old
    key's cookies still verify (and are signed again under the new key on their next use)."""
    keys = [keyring.derived_key(COOKIE_KEY_LABEL)]
    if previous is not None:
        keys.append(previous.derived_key(COOKIE_KEY_LABEL))
    return ChatCookie(keys)


def forget_device(s: Session, keyring: Keyring, channel: str, sender: str, *, now: datetime) -> int | None:
    """Unlink this app or browser from its participant (their answers and conversation stay); audited.

    Returns the participant's id, or None when this device was not linked to anyone."""
    pid = store.unlink_identity(s, keyring.identity_hash(channel, sender))
    if pid is None:
        return None
    p = participants.get(s, pid)
    audit.record(s, actor="participant", action="device.forget", target=(p.case_ref if p else None) or str(pid),
                 now=now)
    log.info("device.forgotten participant=%s channel=%s", pid, channel)
    return pid


def wiring(rt: Services) -> dict[str, Any]:
    """The web router's `cookies` and `forget` for a runtime (the identity key's previous value, if set, too)."""
    old = rt.identity_settings.id_hash_key_previous
    previous = Keyring(old, rt.settings.fernet_keys()) if old and rt.settings.fernet_keys() else None

    def forget(sender: str, now: datetime) -> None:
        with serving_sender(rt, "web", sender), session(rt.engine) as s:  # the browser's council (issue 26)
            forget_device(s, rt.keyring, "web", sender, now=now)

    fn: Callable[[str, datetime], None] = forget
    return {"cookies": chat_cookie(rt.keyring, previous=previous), "forget": fn}
