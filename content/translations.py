"""Translated strings beside the English ones (issue 24, item 2), with who translated them and from what.

content/strings/<locale>.yaml holds, per message key, the translated text (per age band like the English), its
status (`draft`, or `reviewed` by a named qualified translator on a date) and `source`: a short hash of the English
text it was translated from. When the English changes, the hash no longer matches and the translation is stale:
`translation_status` and `ourvoice content check` say so, and a stale translation counts as not reviewed.
A language is offered to young people only when every safety-critical string is reviewed and current.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

import content
from content.schema import Text, text_for

SAFETY_CRITICAL = (
    "safe_reply", "safe_when_office", "safe_when_out_of_hours", "safe_reply_short", "help_now_label",
    "help_now_line", "yes_label", "no_label",
)  # fmt: skip
"""Strings a language cannot be offered without (reviewed): the safe reply and how soon a person reads it, the
help numbers in it, "I need help now", and the yes/no of consent questions. With them, every flow's privacy notice
and consent questions (content/localise.py: `safety_keys`)."""


class Translation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Text
    status: Literal["draft", "reviewed"] = "draft"
    source: str = Field(pattern=r"^[0-9a-f]{12}$", description="hash of the English text translated")
    translator: str | None = None
    reviewed_by: str | None = None
    reviewed_on: date | None = None


class LocaleStrings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    locale: str
    messages: dict[str, Translation]


class Language(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    own_name: str
    dir: Literal["ltr", "rtl"]
    script: str


def source_hash(text: Text) -> str:
    """A short, stable fingerprint of English text (a string, or wording per band)."""
    raw = json.dumps(text, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def content_root() -> Path:
    return Path(content.__file__).parent


@functools.lru_cache(maxsize=4)
def languages(root: Path | None = None) -> dict[str, Language]:
    raw = yaml.safe_load((root or content_root()).joinpath("languages.yaml").read_text(encoding="utf-8"))
    return {code: Language.model_validate(v) for code, v in raw["languages"].items()}


@functools.lru_cache(maxsize=4)
def load_translations(root: Path | None = None) -> dict[str, LocaleStrings]:
    """Every content/strings/<locale>.yaml except English, by locale."""
    out: dict[str, LocaleStrings] = {}
    for path in sorted((root or content_root()).joinpath("strings").glob("*.yaml")):
        if path.stem == "en":
            continue
        loc = LocaleStrings.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if loc.locale != path.stem:
            raise ValueError(f"{path}: locale {loc.locale!r} does not match the file name")
        out[loc.locale] = loc
    return out


def is_rtl(locale: str) -> bool:
    lang = languages().get(locale)
    return lang is not None and lang.dir == "rtl"


def translated(english: dict[str, Text], key: str, locale: str, band: str) -> str | None:
    """The wording of `key` in `locale` for a band, or None when there is no current translation."""
    loc = load_translations().get(locale)
    entry = loc.messages.get(key) if loc else None
    if entry is None or key not in english or entry.source != source_hash(english[key]):
        return None
    return text_for(entry.text, band)


@dataclass(frozen=True)
class LocaleStatus:
    locale: str
    total: int
    translated: int
    reviewed: int
    stale: int
    missing: tuple[str, ...]
    stale_keys: tuple[str, ...]
    safety_reviewed: bool


def translation_status(english: dict[str, Text], locale: str) -> LocaleStatus:
    loc = load_translations().get(locale)
    messages = loc.messages if loc else {}
    current = {k for k, t in messages.items() if k in english and t.source == source_hash(english[k])}
    stale = tuple(sorted(k for k in messages if k in english and k not in current))
    reviewed = {k for k in current if messages[k].status == "reviewed"}
    return LocaleStatus(
        locale=locale,
        total=len(english),
        translated=len(current | set(stale)),
        reviewed=len(reviewed),
        stale=len(stale),
        missing=tuple(sorted(k for k in english if k not in messages)),
        stale_keys=stale,
        safety_reviewed=all(k in reviewed for k in SAFETY_CRITICAL),
    )
