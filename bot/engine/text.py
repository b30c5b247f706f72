"""Cleaning participant text before the engine reads it: invisible characters out, nothing cut."""

from __future__ import annotations

import unicodedata

_KEEP_FORMAT = {"\u200d"}  # zero-width joiner keeps multi-part emoji (family, flags) intact


def clean(text: str) -> str:
    """Drop control and invisible format characters (except ZWJ inside emoji); keep everything else."""
    if text.isascii() and text.isprintable():
        return text.strip()  # most input: NFC already, and nothing in it to drop
    out = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(ch)
        elif cat == "Cf" and ch not in _KEEP_FORMAT or cat in ("Cc", "Cs", "Co"):
            continue
        else:
            out.append(ch)
    return "".join(out).strip()


def has_words(text: str) -> bool:
    """True when the text holds at least one letter, digit or symbol a person typed."""
    return any(unicodedata.category(ch)[0] in "LNS" for ch in text)


def fold(text: str) -> str:
    """Case- and space-insensitive form for matching typed answers against button labels."""
    return " ".join(clean(text).casefold().split())


def label_key(text: str) -> str:
    """Looser form for matching: also drops emoji and punctuation, so "have your say" matches "🗣 Have your say"."""
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNZ" else " " for ch in fold(text))
    return " ".join(kept.split())
