"""The risk check for every language: English as before, other languages by their own lexicon, and anything
the check cannot read sent to a person as unassessed (issue 24, item 5).

Rules, in order:
- A message identified as English is checked exactly as before (`bot.safeguarding.assess`), nothing added.
- Any other message is also read by the English check (mixed messages), and by its language's lexicon
  (content/safeguarding/languages/<locale>.yaml) when there is one. Either flagging it flags it.
- A message that is, as a whole, one of a language's everyday answers ("yes", "thanks", "I don't know") and that
  no lexicon flags passes (too short for the model to judge).
- Otherwise it is scored by the other-languages model (content/safeguarding/languages/model.json, trained on
  labelled messages in 27 languages, admin/risk_training_languages.py). Its firing flags it too (with the model's
  category only when no lexicon gave one).
- If nothing flags it, it passes when its language's lexicon has been reviewed by a native speaker, or the
  other-languages model knows at least COVERAGE of its words (so its quiet verdict means something). Otherwise
  it is flagged `unassessed`, scored 1.0 (top of the "To read" queue) and alerts a person. A message in a
  language nothing here has learned never passes silently. Every message that passes is still read by a person
  (the "To read" queue).
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

import content
from bot.language_id import ENGLISH, UNKNOWN, identify
from bot.risk_model import RiskModel, cached_languages_model
from bot.safeguarding import UNASSESSED, Assessment, Lexicon, assess, assess_lexicon, normalise

COVERAGE = 0.6
"""The other-languages model's quiet verdict lets a message pass only when it learned at least this share of the
message's words; below it, the message is in wording (or a language) it has not seen, and a person reads it first."""

LANGUAGE_TAG = "language:"
"""Alert categories carry the message's language as `language:<locale>` so staff see it on every notice."""


class LanguageLexicon(BaseModel):
    """One language's safeguarding phrases, with whether a native speaker has reviewed them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    locale: str = Field(min_length=2)
    status: Literal["draft", "reviewed"]
    reviewed_by: str | None = None
    reviewed_on: date | None = None
    everyday: tuple[str, ...] = ()
    lexicon: Lexicon

    _everyday: frozenset[str] = PrivateAttr(default=frozenset())

    def model_post_init(self, _context: object) -> None:
        self._everyday = frozenset(normalise(fold(e), self.lexicon) for e in self.everyday)

    def is_everyday(self, text: str) -> bool:
        """The whole message is one of this language's everyday answers."""
        return normalise(fold(text), self.lexicon) in self._everyday


# Arabic-script letters written differently in different countries and keyboards: Arabic ya and kaf against
# the Persian forms, alif maqsura. Folded in messages and in the lexicon files alike.
_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی", "ۀ": "ه"})


def fold(text: str) -> str:
    """One spelling for letters that vary by keyboard, so one pattern meets them all."""
    return text.translate(_FOLD)


def languages_dir() -> Path:
    return Path(content.__file__).parent / "safeguarding" / "languages"


def load_language_lexicons(folder: Path | None = None) -> dict[str, LanguageLexicon]:
    """Every language lexicon in the folder, by locale; a file whose locale is not its name is refused."""
    out: dict[str, LanguageLexicon] = {}
    for path in sorted((folder or languages_dir()).glob("*.yaml")):
        lx = LanguageLexicon.model_validate(yaml.safe_load(fold(path.read_text(encoding="utf-8"))))
        if lx.locale != path.stem:
            raise ValueError(f"{path}: locale {lx.locale!r} does not match the file name")
        out[lx.locale] = lx
    return out


@functools.lru_cache(maxsize=1)
def default_language_lexicons() -> dict[str, LanguageLexicon]:
    return load_language_lexicons()


def assess_message(
    text: str,
    lexicon: Lexicon,
    languages: dict[str, LanguageLexicon] | None = None,
    model: RiskModel | None = None,
    others: RiskModel | None | Literal[False] = None,
) -> Assessment:
    """The live risk check for a message in any language. Never raises (fails towards a person).

    `others` is the other-languages model: None for the stored one, False for none (to measure without it)."""
    english = assess(text, lexicon, model)
    try:
        locale = identify(text).locale
    except Exception:
        locale = UNKNOWN
    if locale == ENGLISH:
        return english
    try:
        known = languages if languages is not None else default_language_lexicons()
        own = known.get(locale)
        categories = set(english.categories) if english.flagged else set()
        detectors = list(english.detectors)
        if english.overruled:
            # The English model cannot vouch for a message in another language, so it overrules nothing here.
            categories.update(english.overruled)
            detectors.append("lexicon")
        score = english.score
        if own is not None:
            verdict = assess_lexicon(fold(text), own.lexicon)
            if verdict.flagged:
                categories.update(verdict.categories)
                detectors.append(f"lexicon_{locale}")
        # A one- or two-word everyday answer ("no", "I don't know") cannot always be told apart by language ("نه"
        # is no in Pashto and Dari), and carries too little for the model: when no lexicon flags it, an everyday
        # answer of any language we read is everyday.
        if not categories and any(lx.is_everyday(text) for lx in known.values()):
            return Assessment(flagged=False, categories=(), score=score, language=locale)
        other = cached_languages_model() if others is None else (others or None)
        covered = False
        if other is not None:
            folded = fold(text)  # trained on folded text too (admin/risk_training_languages.py)
            verdict_other = other.assess(folded)
            score = max(score, verdict_other.score)
            if verdict_other.fired:
                # Its category is a best guess: a lexicon's, when one flagged the message, says more.
                if not categories:
                    categories.add(verdict_other.category or UNASSESSED)
                detectors.append("model_languages")
            covered = other.coverage(folded) >= COVERAGE
        if not categories and (covered or (own is not None and own.status == "reviewed")):
            return Assessment(flagged=False, categories=(), score=score, language=locale)
        if categories:
            return Assessment(
                flagged=True, categories=tuple(sorted(categories)), score=1.0, detectors=tuple(detectors),
                language=locale,
            )
    except Exception:
        pass
    return Assessment(flagged=True, categories=(UNASSESSED,), score=1.0, detectors=("language",), language=locale)


def language_name(locale: str) -> str:
    """A language's name for staff ("Arabic", "Somali"), from Babel's CLDR data; `und` is "unknown"."""
    if locale == UNKNOWN:
        return "unknown language"
    from content.translations import languages

    ours = languages().get(locale)
    if ours is not None:
        return ours.name
    try:
        from babel import Locale

        return str(Locale.parse(locale.replace("-", "_")).english_name)
    except Exception:
        return locale


def alert_categories(assessment: Assessment) -> tuple[str, ...]:
    """What an alert records: the categories, plus the language when it is not English."""
    if assessment.language == ENGLISH:
        return assessment.categories
    return (*assessment.categories, f"{LANGUAGE_TAG}{assessment.language}")
