"""Which words are people's names, from maintained lists rather than from capital letters (issue 19, item 6).

Young people write names in lower case ("me n leah"), from every heritage, and a hand-kept list of a few hundred
names misses most of them. So the scrubber asks two lists kept up to date by others:
- **first names**: Faker's person data for every locale it ships (about 20,000 names written in Latin letters,
  accents folded: "Ciarán" is "ciaran"), zxcvbn's lists of first names, and the council's own additions in
  `content/scrub/names.txt`;
- **ordinary English words**: zxcvbn's frequency lists of English words (Wikipedia and TV and film) plus
  `content/scrub/ordinary.txt`, the words found to be names somewhere that our own everyday messages use as words.

A word in lower case is taken for a name when it is a first name and not an ordinary word; ordinary words that
are also names ("will", "hope", "long") are left to the rules that need a capital letter or a place where a name
goes. Both sets are built once, on first use (about 0.3 s), and never logged.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "content" / "scrub"


def fold(word: str) -> str:
    """Lower case without accents, so "Ciarán", "ciaran" and "CIARAN" are one name."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def _is_latin_name(name: str) -> bool:
    return bool(name) and all((c.isalpha() and ord(c) < 0x250) or c in "-'" for c in name)


def _faker_first_names() -> set[str]:
    import faker.providers.person as person

    out: set[str] = set()
    for info in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{info.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            value = next((k.__dict__[attr] for k in provider.__mro__ if attr in k.__dict__), None)
            if isinstance(value, dict):
                value = tuple(value)
            if isinstance(value, (tuple, list, set, frozenset)):
                out.update(fold(n) for n in value if isinstance(n, str) and _is_latin_name(n))
    return out


def _data_words(name: str) -> set[str]:
    path = DATA / name
    if not path.exists():
        return set()
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    return {fold(w) for ln in lines for w in ln.split()}


@functools.cache
def listed_names() -> frozenset[str]:
    """The council's own additions (content/scrub/names.txt): names in any case, ordinary word or not."""
    return frozenset(_data_words("names.txt"))


@functools.cache
def first_names() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    names = _faker_first_names()
    names.update(FREQUENCY_LISTS["male_names"], FREQUENCY_LISTS["female_names"])
    return frozenset(n for n in names if len(n) >= 2) | listed_names()


@functools.cache
def everyday_words() -> frozenset[str]:
    """Our own list of everyday words that are also names somewhere (content/scrub/ordinary.txt)."""
    return frozenset(_data_words("ordinary.txt"))


@functools.cache
def ordinary_words() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = set(FREQUENCY_LISTS["english_wikipedia"]) | set(FREQUENCY_LISTS["us_tv_and_film"])
    return frozenset((words | _data_words("ordinary.txt")) - listed_names())


def is_first_name(word: str) -> bool:
    """A first name that is not also an ordinary English word (for words written in lower case)."""
    w = fold(word)
    return w in listed_names() or (w in first_names() and w not in ordinary_words())


def is_name_at_start(word: str) -> bool:
    """A capitalised first word that is a first name: any name in the lists unless it is an everyday word of
    speech ("Will", "Grace", "Love" and "Send" start sentences too)."""
    w = re.sub(r"['’]s$", "", fold(word))
    parts = [p for p in w.split("-") if p]
    return any(len(p) >= 3 and (p in listed_names() or (p in first_names() and p not in ordinary_words()))
               for p in parts)
