"""Keyed hashing of channel ids, encryption of addresses and free text, and the audit chain's key.

Keys come from settings (the environment), never from the database or the repository.

Each council has its own data keys (issue 26 item 4): the deployment's own council uses the configured Fernet keys
as they are; every other council on the service uses keys derived from them with HKDF-SHA256 under the council's
id. What one council's rows hold cannot be read with another council's keys, so a query that strayed past the
council filter and row-level security would still find only ciphertext it cannot open. Rotating the deployment's
keys (`ourvoice keys rotate`, per council with `--council`) rotates every council's, since each derives from them.
The current council comes from storage.tenancy (the entry point set it); the outbox sender, which works for every
council at once, passes each row's council explicitly. Identity hashes stay deployment-wide: a channel id is
looked up before anyone knows which council it belongs to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from threading import Lock
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage import tenancy

if TYPE_CHECKING:
    from bot.settings import BotSettings
    from storage.audit import AuditSeal


def council_key(fernet_key: str, council: str) -> str:
    """The Fernet key a council's data uses, derived from one deployment key (32 bytes: signing + encryption)."""
    raw = base64.urlsafe_b64decode(fernet_key.encode())
    derived = HKDF(algorithm=SHA256(), length=32, salt=None,
                   info=f"ourvoice council data key {council}".encode()).derive(raw)
    return base64.urlsafe_b64encode(derived).decode()


class Keyring:
    """Holds the identity hash key and the Fernet key(s); the first Fernet key encrypts. Encryption is per
    council (see the module docstring): the deployment's own council uses the keys as given."""

    def __init__(self, hash_key: str, fernet_keys: list[str]) -> None:
        if not hash_key or not fernet_keys:
            raise ValueError("both an identity hash key and an encryption key are required")
        self._hash_key = hash_key.encode()
        self._keys = list(fernet_keys)
        self._fernet = MultiFernet([Fernet(k.encode()) for k in fernet_keys])
        self._councils: dict[str, MultiFernet] = {}
        self._lock = Lock()

    def _for(self, council: str | None) -> MultiFernet:
        """The keys of `council` (default: the current one)."""
        council = council or tenancy.current()
        if council == tenancy.default_id():
            return self._fernet
        with self._lock:
            found = self._councils.get(council)
            if found is None:
                found = MultiFernet([Fernet(council_key(k, council).encode()) for k in self._keys])
                self._councils[council] = found
            return found

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

    def encrypt(self, text: str, *, council: str | None = None) -> bytes:
        """Encrypt under the newest key of `council` (default: the council being served)."""
        return self._for(council).encrypt(text.encode("utf-8"))

    def decrypt(self, token: bytes, *, council: str | None = None) -> str:
        """Open a token with the keys of `council` (default: the council being served); ValueError if they
        cannot (another council's data, or a key rotated out)."""
        try:
            return self._for(council).decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong or rotated-out key") from exc

    def rotate(self, token: bytes, *, council: str | None = None) -> bytes:
        """Re-encrypt under the council's newest key (used by `ourvoice keys rotate`)."""
        return self._for(council).rotate(token)

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
