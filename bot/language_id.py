"""Which language a message is in, so the risk check knows whether it can read it (issue 24, item 5).

The English risk check is only trusted on English. Anything else must be read by a lexicon for its language or
go to a person as unassessed, so this module's one job is to say "English" only when it is fairly sure, and to
name the language otherwise. It works in three layers, cheapest first:

1. Script. Ethiopic, Arabic, Cyrillic, Chinese and the rest are never English. Within the Arabic script the
   letters each language adds tell Pashto, Sorani, Dari/Persian and Urdu from Arabic; within Ethiopic a few
   very common words tell Tigrinya from Amharic.
2. Latin script: Vietnamese letters and Albanian letters or marker words; then how much of the message is
   English as this project already knows it (the safeguarding lexicon, its text-speak and the labelled
   English messages), so "lol", "idk", "ye" and misspelt English stay English.
3. Only a Latin message of three or more words that is mostly not known English is shown to `lingua`
   (restricted to Latin-script languages, low-accuracy mode: ~70 MB, models inside the wheel, nothing
   fetched). If it names a language confidently, that is the answer; if not, the language is unknown (`und`).

Nothing here logs or keeps the text.
"""
# ruff: noqa: E501  (word lists in other scripts read better on one line)

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import content

ENGLISH = "en"
UNKNOWN = "und"

# Letters only some Arabic-script languages use (Unicode code points, so the source stays readable).
_PASHTO = frozenset("\u067c\u0681\u0685\u0689\u0693\u0696\u069a\u06ab\u06bc\u06cd\u06d0")
_SORANI = frozenset("\u0695\u06b5\u06c6\u06ce\u06d5\u06a4")
_URDU = frozenset("\u0679\u0688\u0691\u06ba\u06d2\u06c1")
_PERSIAN = frozenset("\u067e\u0686\u0698\u06af\u06a9\u06cc")  # also used by Pashto, Sorani and Urdu
_ARABIC_ONLY = frozenset("\u0629\u0643\u0649\u0623\u0625")  # ta marbuta, Arabic kaf, alif maqsura, hamza seats
# Very common Pashto words, for Pashto typed without the letters only Pashto has.
# Words Arabic shares ("ما", "هم", "دا", "من") are left out: they made Levantine Arabic read as Pashto or Dari.
_PASHTO_WORDS = frozenset(["زه", "زما", "یم", "یی", "دی", "ده", "کې", "ته", "ولې", "څه", "مې"])
_DARI_WORDS = frozenset(["است", "هستم", "میکنم", "نیستم", "را", "برای", "چه", "خود"])

# Very common words: Tigrinya and Amharic share the Ethiopic script.
_TIGRINYA_WORDS = frozenset(
    ["ኣነ", "ኣለኹ", "እየ", "ኣይ", "ኣብ", "እዩ", "ኣሎ", "ዘሎ", "የለን", "ኣቦይ", "ኣደይ", "ብዙሕ", "ሓደ", "ከም", "ኣይኮንኩን", "ኣይፈልጥን", "ሓገዝ", "ገዛ", "ንዓይ", "እንታይ", "ዝኾነ", "ይወቕዓኒ", "ክሞት", "ደሓን", "የቐንየለይ"]
)
_AMHARIC_WORDS = frozenset(
    ["እኔ", "ነኝ", "ነው", "አለ", "የለም", "በጣም", "ውስጥ", "እና", "አባቴ", "እናቴ", "ይመታኛል", "እፈልጋለሁ", "አይደለሁም", "ምን", "ቤት", "እርዳታ", "መሞት", "ደህና", "አመሰግናለሁ"]
)
_TIGRINYA_LETTERS = frozenset("ኣቐቑቒቓቔቕቖኸኹኺኻኼኽኾ")

_VIETNAMESE_LETTERS = frozenset("ăâđêôơưĂÂĐÊÔƠƯ")
_ALBANIAN_LETTERS = frozenset("ëË")
_ALBANIAN_WORDS = frozenset(
    ["nuk", "jam", "është", "eshte", "dhe", "unë", "une", "më", "mua", "kam", "ndihmë", "ndihme", "faleminderit", "mirë", "mire", "shtëpi", "shtepi", "babai", "nëna", "nena", "vdes", "rrah", "rrahu", "sigurt", "kush", "çfarë", "cfare", "jemi", "janë", "jane", "shumë", "shume"]
)
_VIETNAMESE_WORDS = frozenset(["toi", "khong", "bi", "danh", "cam", "on", "giup", "nha", "muon", "chet", "an", "toan"])

_WORD = re.compile(r"[^\W\d_]+")
_CODE = re.compile(r"\d|_|^[A-Z0-9]{2,}(-[A-Z0-9]{2,})+$")
_DOUBLE = re.compile(r"(.)\1+")
ENGLISH_SHARE = 0.5
"""A Latin message is English if at least this share of its words are known English."""
LINGUA_MIN_WORDS = 3
LINGUA_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Identified:
    """The language a message is in: a locale code (`en`, `ar`, `so` ...) or `und`, and its main script."""

    locale: str
    script: str

    @property
    def english(self) -> bool:
        return self.locale == ENGLISH


def _script_of(ch: str) -> str:
    if ch.isascii():
        return "Latn"
    name = unicodedata.name(ch, "")
    for word, script in (
        ("LATIN", "Latn"), ("ARABIC", "Arab"), ("ETHIOPIC", "Ethi"), ("CYRILLIC", "Cyrl"), ("GREEK", "Grek"),
        ("CJK", "Hani"), ("HIRAGANA", "Jpan"), ("KATAKANA", "Jpan"), ("HANGUL", "Kore"), ("DEVANAGARI", "Deva"),
        ("BENGALI", "Beng"), ("GURMUKHI", "Guru"), ("THAI", "Thai"), ("HEBREW", "Hebr"), ("TAMIL", "Taml"),
    ):  # fmt: skip
        if name.startswith(word):
            return script
    return "Zyyy"  # some other script


def main_script(text: str) -> str:
    """The script most of the message's letters are in (`Zyyy` when it has no letters)."""
    counts = Counter(_script_of(ch) for ch in text if ch.isalpha())
    return counts.most_common(1)[0][0] if counts else "Zyyy"


def identify(text: str) -> Identified:
    """The language of a message, as sure as the text allows. Never raises on odd input."""
    text = unicodedata.normalize("NFC", text)
    script = main_script(text)
    if script == "Zyyy":
        return Identified(ENGLISH, script)  # numbers, emoji and punctuation: nothing to read in any language
    if script == "Arab":
        return Identified(_arabic_script(text), script)
    if script == "Ethi":
        return Identified(_ethiopic(text), script)
    if script != "Latn":
        return Identified(UNKNOWN, script)
    return Identified(_latin(text), script)


def _arabic_script(text: str) -> str:
    letters = set(text)
    if letters & _URDU and not letters & _PASHTO:
        return "ur"
    if letters & _PASHTO:
        return "ps"
    if letters & _SORANI:
        return "ckb"
    words = text.replace("\u064a", "\u06cc").split()
    pashto, dari = sum(w in _PASHTO_WORDS for w in words), sum(w in _DARI_WORDS for w in words)
    if pashto > dari:
        return "ps"
    if dari > pashto:
        return "fa-AF"
    if letters & _PERSIAN and not letters & _ARABIC_ONLY:
        return "fa-AF"
    return "ar"


def _ethiopic(text: str) -> str:
    words = text.split()
    ti = sum(w in _TIGRINYA_WORDS for w in words) + sum(ch in _TIGRINYA_LETTERS for ch in text)
    am = sum(w in _AMHARIC_WORDS for w in words) + 2 * sum(ch == "አ" for ch in text)
    return "am" if am > ti else "ti"


def _latin(text: str) -> str:
    letters = set(text)
    if letters & _VIETNAMESE_LETTERS or any("\u1ea0" <= ch <= "\u1ef9" for ch in letters):
        return "vi"
    # Codes and references ("K7PQ-XM3R", "ev_ABCDEF", "2nd") are not words of any language, nor are capitals
    # amid ordinary words ("start ABCDEF", "my IRO"); a message all in capitals is read as it is.
    tokens = [t for t in text.split() if not _CODE.search(t)]
    if any(any(ch.islower() for ch in t) for t in tokens):
        tokens = [t for t in tokens if not (len(t) > 1 and t.isupper())]
    kept = " ".join(tokens)
    words = [w.casefold() for w in _WORD.findall(kept.replace("'", "").replace("\u2019", ""))]
    if not words:
        return ENGLISH
    if letters & _ALBANIAN_LETTERS or sum(w in _ALBANIAN_WORDS for w in words) >= 2:
        return "sq"
    vocab = english_vocabulary()
    # One- and two-letter words ("e", "co", "la", "an") are words in many languages and in text-speak, and
    # the labelled data holds most of them: they are not evidence of English when longer words are there.
    longer = [w for w in words if len(w) >= 3]
    judged = longer if len(longer) >= 2 else words
    known = sum(w in vocab or _DOUBLE.sub(r"\1", w) in vocab for w in judged)
    if known >= ENGLISH_SHARE * len(judged):
        return ENGLISH
    if sum(w in _VIETNAMESE_WORDS for w in words) >= 2:
        return "vi"
    if len(words) < LINGUA_MIN_WORDS:
        return ENGLISH  # one or two unknown words: slang, a name, a typo; the English check reads them
    return _lingua(text)


def _lingua(text: str) -> str:
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return UNKNOWN
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    if code == ENGLISH:
        return ENGLISH
    return code if top.value >= LINGUA_CONFIDENCE else UNKNOWN


@functools.lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language as L
    from lingua import LanguageDetectorBuilder

    latin = (
        L.ENGLISH, L.ALBANIAN, L.VIETNAMESE, L.SOMALI, L.FRENCH, L.SPANISH, L.PORTUGUESE, L.ITALIAN, L.GERMAN,
        L.TURKISH, L.SWAHILI, L.ROMANIAN, L.POLISH, L.LITHUANIAN, L.CROATIAN, L.TAGALOG, L.YORUBA, L.MALAY,
        L.DUTCH, L.SHONA, L.ZULU, L.AFRIKAANS, L.CZECH, L.HUNGARIAN,
    )  # fmt: skip
    return LanguageDetectorBuilder.from_languages(*latin).with_low_accuracy_mode().build()


@functools.lru_cache(maxsize=1)
def english_vocabulary() -> frozenset[str]:
    """English words as this project knows them: the lexicon and its text-speak, the labelled English
    messages the risk model learnt from, and the bot's own English strings and flows."""
    root = Path(content.__file__).parent
    sources = [root / "safeguarding" / "lexicon.yaml", root / "strings" / "en.yaml"]
    # Not the former blind sets: they mix in other languages, and which of their messages are English is decided
    # by this very vocabulary (admin/risk_training.py keeps only those for the English model).
    sources += sorted(p for p in (root / "safeguarding" / "labelled").glob("*") if not p.name.startswith("former_blind_"))
    sources += sorted((root / "flows").glob("*.yaml")) + sorted((root / "topics").glob("*.yaml"))
    words: set[str] = set()
    for path in sources:
        if path.is_file():
            raw = path.read_text(encoding="utf-8").casefold().replace("'", "").replace("\u2019", "")
            words.update(w for w in _WORD.findall(raw) if w.isascii())
    for word in list(words):
        words.add(_DOUBLE.sub(r"\1", word))
    return frozenset(words)
