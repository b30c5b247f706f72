"""Email addresses and UK mobile numbers as people type them (issue 25): tidy and check one, and mask one for
showing back ("em***@…", "07*** ***123"). Pure, so the engine can re-ask at once and notify can check again.

GOV.UK Notify checks each address again when it sends; this only catches what is plainly not one.
"""

from __future__ import annotations

import re

KINDS = ("sms", "email")
UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise(kind: str, address: str) -> str:
    """A tidied address, or ValueError with a clear message."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if kind == "sms":
        number = re.sub(r"[\s().-]", "", address)
        if not UK_MOBILE.match(number):
            raise ValueError("that is not a UK mobile number (it should start 07 or +447 and have 11 digits)")
        return number
    email = address.strip()
    if not EMAIL.match(email):
        raise ValueError("that does not look like an email address")
    return email


def mask(kind: str, address: str) -> str:
    """Enough to recognise one's own address and no more: "em***@…" or "07*** ***123"."""
    if kind == "sms":
        digits = re.sub(r"\D", "", address)
        local = "0" + digits[2:] if digits.startswith("44") else digits
        return f"{local[:2]}*** ***{local[-3:]}"
    return f"{address.split('@', 1)[0][:2]}***@…"
