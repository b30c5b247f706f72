"""Each council's data keys (issue 26 item 4, bot/crypto): what one council's rows hold opens with that council's
keys only, the deployment's own council keeps the configured keys (data written before is still readable), and
rotating the deployment's keys rotates every council's."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.crypto import Keyring, council_key
from storage import tenancy

OWN = tenancy.default_id()
OTHER = "borsetshire"


def test_a_councils_words_open_with_its_own_keys_only() -> None:
    keyring = Keyring("h" * 64, [Fernet.generate_key().decode()])
    with tenancy.use(OTHER):
        theirs = keyring.encrypt("my foster carer shouts at me")
        assert keyring.decrypt(theirs) == "my foster carer shouts at me"
    ours = keyring.encrypt("I like my school")
    assert keyring.decrypt(ours) == "I like my school"
    with pytest.raises(ValueError):
        keyring.decrypt(theirs)  # served as the deployment's own council
    with tenancy.use(OTHER), pytest.raises(ValueError):
        keyring.decrypt(ours)
    assert keyring.decrypt(theirs, council=OTHER) == "my foster carer shouts at me"  # the outbox sender's way
    with pytest.raises(ValueError):
        keyring.decrypt(theirs, council="another_council")


def test_the_deployments_own_council_keeps_the_configured_key() -> None:
    key = Fernet.generate_key().decode()
    assert Fernet(key.encode()).decrypt(Keyring("h" * 64, [key]).encrypt("kept as before")) == b"kept as before"
    assert council_key(key, OTHER) == council_key(key, OTHER) != council_key(key, "another_council") != key


def test_rotating_the_deployment_keys_rotates_every_councils() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with tenancy.use(OTHER):
        token = Keyring("h" * 64, [old]).encrypt("words")
        both = Keyring("h" * 64, [new, old])
        assert both.decrypt(token) == "words"
        rotated = both.rotate(token)
        assert Keyring("h" * 64, [new]).decrypt(rotated) == "words"
        with pytest.raises(ValueError):
            Keyring("h" * 64, [old]).decrypt(rotated)
