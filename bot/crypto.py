"""Keyed hashing of channel ids, encryption of addresses and free text, and the audit chain's key.

Keys come from settings (the environment), never from the database or the repository.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from bot.settings import BotSettings
    from storage.audit import AuditSeal


class Keyring:
    """Holds the identity hash key and the Fernet key(s); the first Fernet key encrypts."""

    def __init__(self, hash_key: str, fernet_keys: list[str]) -> None:
        if not hash_key or not fernet_keys:
            raise ValueError("both an identity hash key and an encryption key are required")
        self._hash_key = hash_key.encode()
        self._fernet = MultiFernet([Fernet(k.encode()) for k in fernet_keys])

    def identity_hash(self, channel: str, user_id: str) -> str:
        """HMAC-SHA256 of channel and user id: stable lookups without storing the id."""
        return hmac.new(self._hash_key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()

    def derived_key(self, label: str) -> bytes:
        """A key for another job (e.g. signing the web chat cookie), derived from the identity key under its own
        label, so the one secret never signs two kinds of thing with the same key. Identity hashes always hash a
        text with a colon in it; a label never has one, so the two can never coincide."""
        if ":" in label or not label:
            raise ValueError("a key label is a non-empty name without a colon")
        return hmac.new(self._hash_key, f"ourvoice derived key {label}".encode(), hashlib.sha256).digest()

    def encrypt(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong or rotated-out key") from exc

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (used by `ourvoice keys rotate`)."""
        return self._fernet.rotate(token)

    @staticmethod
    def new_fernet_key() -> str:
        return Fernet.generate_key().decode()


def audit_seal(settings: BotSettings) -> AuditSeal:
    """The audit chain's key and anchor file from settings (OURVOICE_AUDIT_KEY, OURVOICE_AUDIT_ANCHOR_FILE)."""
    from pathlib import Path

    from storage.audit import AuditSeal, derive_key

    key = derive_key(settings.audit_key, settings.id_hash_key)
    anchor = settings.audit_anchor_file
    return AuditSeal(key, Path(anchor) if anchor else None)


def configure_audit(settings: BotSettings) -> None:
    """Entry points: sign and anchor audit rows on `settings.database_url` with the configured key."""
    from storage.audit import configure

    configure(settings.database_url, audit_seal(settings))
