"""Safeguarding risk check: flags free text that may disclose harm so a human is alerted.

The phrases live in content/safeguarding/lexicon.yaml so the safeguarding lead can extend them without code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

import content

ANY_WORD = "*"
GAP = "..."
MAX_GAP = 3
"""How many words `...` may stand for (zero to this many)."""

_ID = r"^[a-z][a-z0-9_]{0,47}$"
_APOSTROPHES = frozenset("'\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032")
_LEET = str.maketrans({"3": "e", "1": "i", "0": "o", "4": "a", "@": "a", "$": "s"})
# Lookalike letters from other scripts that are used to dodge filters; lower case only, as casefold runs first.
_CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d", "\u0261": "g",
    "\u03bf": "o", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03c1": "p", "\u0131": "i",
}  # fmt: skip
_TABLE_LIMIT = 20_000
_FUZZY_CACHE_LIMIT = 20_000

_LEET_HINT = re.compile(r"[0134@$]")
_LEET_TOKEN = re.compile(r"[\w@$]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_NUMBER_WITH_SUFFIX = re.compile(r"\d+[^\W\d_]{0,3}")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")
_ANY_RUN = re.compile(r"([^\W\d_])\1+")


@dataclass(frozen=True)
class Assessment:
    """The verdict on one message: whether to alert a human, and which kinds of harm it may disclose."""

    flagged: bool
    categories: tuple[str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """One kind of harm: its label for staff, the phrases that flag it and phrases that cancel them."""

    label: str = Field(min_length=1)
    patterns: tuple[str, ...] = Field(min_length=1)
    exclusions: tuple[str, ...] = ()


class _CharTable(dict[int, str | None]):
    """A `str.translate` table that decides what each code point becomes on first sight, then remembers.

    Deciding per code point (rather than per character of every message) keeps normalisation fast.
    """

    def __init__(self, emoji: Mapping[str, str]) -> None:
        super().__init__()
        self._emoji = {_strip_selectors(k): f" {v} " for k, v in emoji.items()}
        for cp in range(128):
            self[cp] = self._decide(chr(cp))

    def __missing__(self, cp: int) -> str | None:
        out = self._decide(chr(cp))
        if len(self) < _TABLE_LIMIT:
            self[cp] = out
        return out

    def _decide(self, ch: str) -> str | None:
        if ch in self._emoji:
            return self._emoji[ch]
        if ch in _APOSTROPHES:
            return None  # "don't" and "dont" become the same word
        if ch in "@$":
            return ch  # may be leetspeak inside a word; decided later
        cat = unicodedata.category(ch)
        if cat == "Cf" or cat[0] == "M":
            return None  # zero-width characters, variation selectors, combining accents
        if cat[0] not in "LN":
            return " "  # punctuation, symbols, emoji, controls, spaces
        if ch in _CONFUSABLES:
            return _CONFUSABLES[ch]
        if ch.isascii():
            return ch
        bare = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c)[0] != "M")
        return bare or None


def _strip_selectors(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Mn" and unicodedata.category(c) != "Cf")


class _Node:
    """A trie node over squeezed words; `gap` and `any` are the wildcard edges."""

    __slots__ = ("any", "gap", "risk_ends", "safe_ends", "stems", "words")

    def __init__(self) -> None:
        self.words: dict[str, _Node] = {}
        self.stems: list[tuple[str, _Node]] = []
        self.any: _Node | None = None
        self.gap: _Node | None = None
        self.risk_ends: list[str] = []  # categories a pattern ending here flags
        self.safe_ends: list[str | None] = []  # exclusions (their category) and everyday phrases (None)


Piece = tuple[Literal["word", "stem", "any", "gap"], str]


class Lexicon(_Strict):
    """The safeguarding phrases, validated and compiled once at load into a word trie.

    Risk patterns, per-category exclusions and everyday (`not_risk`) phrases share one trie, so one pass
    over a message finds them all.
    """

    schema_version: Literal[1]
    id: str = Field(default="safeguarding_lexicon", pattern=_ID)
    categories: dict[str, Category] = Field(min_length=1)
    text_speak: dict[str, str] = Field(default_factory=dict)
    spelling: dict[str, str] = Field(default_factory=dict)
    emoji: dict[str, str] = Field(default_factory=dict)
    fuzzy_words: tuple[str, ...] = ()
    not_risk: tuple[str, ...] = ()

    _table: _CharTable = PrivateAttr()
    _rewrite: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = PrivateAttr()
    _root: _Node = PrivateAttr()
    _root_stems: dict[str, list[tuple[str, _Node]]] = PrivateAttr()
    _vocab: frozenset[str] = PrivateAttr()
    _fuzzy_words: frozenset[str] = PrivateAttr()
    _fuzzy_index: dict[str, frozenset[str]] = PrivateAttr()
    _fuzzy_cache: dict[str, str] = PrivateAttr()

    @field_validator("categories")
    @classmethod
    def _category_ids(cls, value: dict[str, Category]) -> dict[str, Category]:
        for cid in value:
            if not re.match(_ID, cid):
                raise ValueError(f"category id {cid!r} must be lower case letters, digits and _")
        return value

    @field_validator("fuzzy_words")
    @classmethod
    def _long_enough(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        short = [w for w in value if len(w) < 6 or " " in w.strip()]
        if short:
            raise ValueError(f"fuzzy_words must be single words of 6+ letters (one typo is too loose below): {short}")
        return value

    @model_validator(mode="after")
    def _compile(self) -> Lexicon:
        self._table = _CharTable(self.emoji)
        self._rewrite = {}
        for source in (self.text_speak, self.spelling):
            for raw, expansion in source.items():
                self._add_rewrite(str(raw), str(expansion))
        self._root = _Node()
        self._root_stems = {}
        vocab: set[str] = set()
        for expansion in self._rewrite.values():
            vocab.update(expansion[1])
        for cid, cat in self.categories.items():
            for pattern in cat.patterns:
                self._add(pattern, True, cid, vocab, where=f"category {cid}")
            for pattern in cat.exclusions:
                self._add(pattern, False, cid, vocab, where=f"exclusions of {cid}")
        for pattern in self.not_risk:
            self._add(pattern, False, None, vocab, where="not_risk")
        self._vocab = frozenset(vocab)
        self._build_fuzzy()
        return self

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lexicon:
        """Build from already-parsed data; raises pydantic.ValidationError naming what is wrong."""
        return cls.model_validate(dict(data))

    @classmethod
    def from_file(cls, path: str | Path) -> Lexicon:
        """Load a lexicon YAML file; errors say which file so staff know where to look."""
        path = Path(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(data)

    def _add_rewrite(self, raw: str, expansion: str) -> None:
        keys = [_squeeze(t) for t in self._basic_tokens(raw, leet=False)]
        if len(keys) != 1:
            raise ValueError(f"text_speak/spelling key {raw!r} must be a single word")
        tokens = self._basic_tokens(expansion)
        if not tokens:
            raise ValueError(f"text_speak/spelling {raw!r} expands to nothing")
        value = (tuple(tokens), tuple(_squeeze(t) for t in tokens))
        old = self._rewrite.get(keys[0])
        if old is not None and old != value:
            raise ValueError(f"text_speak/spelling {raw!r} clashes with another entry spelt the same way")
        self._rewrite[keys[0]] = value

    def _add(self, pattern: str, risk: bool, cid: str | None, vocab: set[str], where: str) -> None:
        pieces = self._pieces(pattern, where)
        node = self._root
        for i, (kind, value) in enumerate(pieces):
            if kind == "word":
                vocab.add(value)
                node = node.words.setdefault(value, _Node())
            elif kind == "stem":
                stems = node.stems if i else self._root_stems.setdefault(value[:3], [])
                found = next((n for s, n in stems if s == value), None)
                if found is None:
                    found = _Node()
                    stems.append((value, found))
                node = found
            elif kind == "any":
                node.any = node.any or _Node()
                node = node.any
            else:
                node.gap = node.gap or _Node()
                node = node.gap
        ends: list[Any] = node.risk_ends if risk else node.safe_ends
        if cid not in ends:
            ends.append(cid)

    def _pieces(self, pattern: str, where: str) -> list[Piece]:
        pieces: list[Piece] = []
        for raw in str(pattern).split():
            if raw == ANY_WORD:
                pieces.append(("any", ""))
            elif raw == GAP:
                pieces.append(("gap", ""))
            elif raw.endswith("*") and raw != ANY_WORD:
                keys = self._keys_of(raw[:-1], rewrite=False)
                if len(keys) != 1 or len(keys[0]) < 3:
                    raise ValueError(f"{where}: {pattern!r}: a word ending in * needs 3+ letters before the *")
                pieces.append(("stem", keys[0]))
            else:
                pieces.extend(("word", k) for k in self._keys_of(raw))
        if not pieces or pieces[0][0] == "gap":
            raise ValueError(f"{where}: {pattern!r} must start with a word or *")
        if pieces[-1][0] not in ("word", "stem"):
            raise ValueError(f"{where}: {pattern!r} must end with a word")
        for a, b in zip(pieces, pieces[1:], strict=False):
            if a[0] == "gap" and b[0] != "word" and b[0] != "stem":
                raise ValueError(f"{where}: {pattern!r}: '...' must be followed by a word")
        return pieces

    def _build_fuzzy(self) -> None:
        words = {k for w in self.fuzzy_words for k in self._keys_of(w, rewrite=False)}
        index: dict[str, set[str]] = {}
        for word in words:
            for variant in _deletions(word):
                index.setdefault(variant, set()).add(word)
        self._fuzzy_words = frozenset(words)
        self._fuzzy_index = {k: frozenset(v) for k, v in index.items()}
        self._fuzzy_cache = {}

    # ---- normalisation ---------------------------------------------------------------------------

    def _basic_tokens(self, text: str, leet: bool = True) -> list[str]:
        """Everything normalise does except expanding text-speak."""
        s = unicodedata.normalize("NFKC", text).casefold().translate(self._table)
        if _LEET_HINT.search(s):
            if leet:
                s = _LEET_TOKEN.sub(self._unleet, s)
            s = s.replace("@", " ").replace("$", " ")
        return _LONG_RUN.sub(r"\1\1", s).split()

    def _unleet(self, match: re.Match[str]) -> str:
        token = match.group()
        # Only inside words: "k1ll" is kill, but "10pm", "4th", "999" and known text-speak like "b4" stay.
        if not _HAS_LETTER.search(token) or _NUMBER_WITH_SUFFIX.fullmatch(token):
            return token
        if _squeeze(token) in self._rewrite:
            return token
        return token.translate(_LEET)

    def _keys_of(self, text: str, rewrite: bool = True) -> list[str]:
        tokens = self._basic_tokens(text)
        if not rewrite:
            return [_squeeze(t) for t in tokens]
        return self._tokens_and_keys(tokens)[1]

    def _tokens_and_keys(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        out_tokens: list[str] = []
        out_keys: list[str] = []
        rewrite = self._rewrite
        for token in tokens:
            key = _squeeze(token)
            expansion = rewrite.get(key)
            if expansion is None:
                out_tokens.append(token)
                out_keys.append(key)
            else:
                out_tokens.extend(expansion[0])
                out_keys.extend(expansion[1])
        return out_tokens, out_keys

    def _fuzzy(self, key: str) -> str:
        """Map a one-typo spelling of a listed fuzzy word to that word ("sucidal" -> "suicidal")."""
        if len(key) < 5 or key in self._vocab:
            return key
        cached = self._fuzzy_cache.get(key)
        if cached is not None:
            return cached
        found: set[str] = set(self._fuzzy_index.get(key, ()))  # a letter missing
        for variant in _deletions(key):
            if variant in self._fuzzy_words:  # a letter too many
                found.add(variant)
            found.update(self._fuzzy_index.get(variant, ()))  # a letter wrong or two swapped
        result = min(found) if found else key
        if len(self._fuzzy_cache) < _FUZZY_CACHE_LIMIT:
            self._fuzzy_cache[key] = result
        return result

    # ---- matching ----------------------------------------------------------------------------------

    def _scan(self, keys: list[str]) -> set[str]:
        """Categories with at least one match that no everyday phrase or exclusion fully covers."""
        n = len(keys)
        root_words = self._root.words
        root_stems = self._root_stems
        root_any = self._root.any
        risks: list[tuple[int, int, str]] = []
        safe: list[tuple[int, int, str | None]] = []
        for start in range(n):
            key = keys[start]
            first = root_words.get(key)
            stems = root_stems.get(key[:3])
            if first is None and stems is None and root_any is None:
                continue
            stack = [(first, start + 1)] if first is not None else []
            if root_any is not None:
                stack.append((root_any, start + 1))
            if stems is not None:
                stack.extend((node, start + 1) for stem, node in stems if key.startswith(stem))
            while stack:
                node, i = stack.pop()
                if node.risk_ends:
                    risks.extend((start, i, cid) for cid in node.risk_ends)
                if node.safe_ends:
                    safe.extend((start, i, scope) for scope in node.safe_ends)
                if node.gap is not None:
                    gap = node.gap
                    stack.extend((gap, j) for j in range(i, min(i + MAX_GAP, n) + 1))
                if i >= n:
                    continue
                word = keys[i]
                child = node.words.get(word)
                if child is not None:
                    stack.append((child, i + 1))
                for stem, child in node.stems:
                    if word.startswith(stem):
                        stack.append((child, i + 1))
                if node.any is not None:
                    stack.append((node.any, i + 1))
        if not risks:
            return set()
        if not safe:
            return {cid for _, _, cid in risks}
        reach: dict[str | None, list[int]] = {}  # reach[scope][s] = furthest end of a safe span starting <= s
        for scope in {cid for _, _, cid in safe}:
            furthest = [0] * (n + 1)
            for a, b, cid in safe:
                if cid == scope and b > furthest[a]:
                    furthest[a] = b
            for s in range(1, n + 1):
                furthest[s] = max(furthest[s], furthest[s - 1])
            reach[scope] = furthest
        flagged: set[str] = set()
        everyday = reach.get(None)
        for s, e, cid in risks:
            if cid in flagged:
                continue
            if everyday is not None and everyday[s] >= e:
                continue
            own = reach.get(cid)
            if own is not None and own[s] >= e:
                continue
            flagged.add(cid)
        return flagged

    def _assess(self, text: str) -> Assessment:
        tokens, keys = self._tokens_and_keys(self._basic_tokens(text))
        if self._fuzzy_words:
            keys = [self._fuzzy(k) for k in keys]
        found = self._scan(keys)
        return Assessment(flagged=bool(found), categories=tuple(sorted(found)))


def _squeeze(word: str) -> str:
    """Collapse doubled letters, so "kill", "kil" and "killll" all meet on one key."""
    return _ANY_RUN.sub(r"\1", word)


def _deletions(word: str) -> Iterable[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def default_lexicon_path() -> Path:
    """Where the live lexicon lives, found through the `content` package so it works when installed."""
    return Path(content.__file__).parent / "safeguarding" / "lexicon.yaml"


def normalise(text: str, lexicon: Lexicon) -> str:
    """The form messages are matched in: folded, de-obfuscated, punctuation-free, text-speak expanded.

    Runs of three or more of a letter become two ("hellllp" -> "hellp"); matching then also treats any
    doubled letter as single, so that meets "help", and "kil myself" meets "kill myself".
    """
    return " ".join(lexicon._tokens_and_keys(lexicon._basic_tokens(text))[0])


def assess(text: str, lexicon: Lexicon) -> Assessment:
    """Decide whether a message needs a human to look at it. Used live and by the staff CLI alike.

    Negation does not un-flag: "i'm not going to kill myself" still flags, because a person should check.
    The whole message is read however long it is; the work is linear in its length. Never raises: if
    something unexpected goes wrong the message is flagged as `unassessed` so it fails towards a human.
    """
    try:
        return lexicon._assess(text)
    except Exception:  # noqa: BLE001 - failing open would hide a disclosure; no text is logged
        return Assessment(flagged=True, categories=("unassessed",))
