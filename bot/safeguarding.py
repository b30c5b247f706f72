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
from bot.risk_model import MAX_CHARS, RiskModel, cached_model

ANY_WORD = "*"
GAP = "..."
MAX_GAP = 3
"""How many words `...` may stand for (zero to this many)."""
UNASSESSED = "unassessed"
"""Category reported if the check itself fails: the message goes to a human rather than through."""

_ID = r"^[a-z][a-z0-9_]{0,47}$"
_GROUP_REF = re.compile(r"<([a-z][a-z0-9_]*)>")
_APOSTROPHES = frozenset("'\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032")
_LEET = str.maketrans({"3": "e", "1": "i", "0": "o", "4": "a", "@": "a", "$": "s"})
# Lookalike letters from other scripts used to dodge filters; lower case only, as casefold runs first.
_CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d", "\u0261": "g",
    "\u03bf": "o", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03c1": "p", "\u0131": "i",
}  # fmt: skip
_TABLE_LIMIT = 20_000
_FUZZY_CACHE_LIMIT = 20_000
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the lexicon far faster

_LEET_HINT = re.compile(r"[0134@$]")
_LEET_TOKEN = re.compile(r"[\w@$]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_NUMBER_WITH_SUFFIX = re.compile(r"\d+[^\W\d_]{0,3}")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")
_ANY_RUN = re.compile(r"([^\W\d_])\1+")

Piece = tuple[Literal["word", "stem", "any", "gap", "group"], str]
_Expansion = tuple[tuple[str, ...], tuple[str, ...]]  # (normalised words, their matching keys)


@dataclass(frozen=True)
class Assessment:
    """The verdict on one message: whether to alert a human, and which kinds of harm it may disclose."""

    flagged: bool
    categories: tuple[str, ...]
    score: float = 0.0
    """How likely the statistical model thinks a disclosure is (0-1); orders the "To read" queue."""
    detectors: tuple[str, ...] = ()
    """Which detectors fired: "lexicon", "model", or both; empty when neither did."""
    language: str = "en"
    """The language the message was identified as (bot/language_id.py); "und" when unknown."""
    overruled: tuple[str, ...] = ()
    """The lexicon's categories for a hit the model overruled (`lexicon_stands`): shown by `safeguarding check` so
    whoever edits the lexicon sees why a phrase did not flag."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """One kind of harm: its label for staff, the phrases that flag it and phrases that cancel them."""

    label: str = Field(min_length=1)
    patterns: tuple[str, ...] = Field(min_length=1)
    exclusions: tuple[str, ...] = ()


class Lexicon(_Strict):
    """The safeguarding phrases as staff write them; validated, then compiled once into a `_Matcher`."""

    schema_version: Literal[1]
    id: str = Field(default="safeguarding_lexicon", pattern=_ID)
    categories: dict[str, Category] = Field(min_length=1)
    text_speak: dict[str, str] = Field(default_factory=dict)
    spelling: dict[str, str] = Field(default_factory=dict)
    emoji: dict[str, str] = Field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    fuzzy_words: tuple[str, ...] = ()
    not_risk: tuple[str, ...] = ()

    _matcher: _Matcher = PrivateAttr()

    @field_validator("categories", "groups")
    @classmethod
    def _plain_ids(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(_ID, name):
                raise ValueError(f"{name!r} must be lower case letters, digits and _")
        return value

    @field_validator("fuzzy_words")
    @classmethod
    def _long_enough(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        short = [w for w in value if len(w) < 6 or " " in w.strip()]
        if short:
            raise ValueError(
                f"fuzzy_words must be single words of 6+ letters (one typo is too loose): {short}"
            )
        return value

    @model_validator(mode="after")
    def _compile(self) -> Lexicon:
        self._matcher = _Matcher(self)
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lexicon:
        """Build from already-parsed data; raises pydantic.ValidationError naming what is wrong."""
        return cls.model_validate(dict(data))

    @classmethod
    def from_file(cls, path: str | Path) -> Lexicon:
        """Load a lexicon YAML file; errors say which file so staff know where to look."""
        path = Path(path)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(data)


class _Node:
    """A trie node over matching keys; `groups`, `any` and `gap` are the wildcard edges."""

    __slots__ = ("any", "gap", "groups", "risk_ends", "safe_ends", "stems", "words")

    def __init__(self) -> None:
        self.words: dict[str, _Node] = {}
        self.stems: list[tuple[str, _Node]] = []
        self.groups: list[tuple[str, _Node]] = []
        self.any: _Node | None = None
        self.gap: _Node | None = None
        self.risk_ends: list[str] = []  # categories a pattern ending here flags
        self.safe_ends: list[str | None] = []  # exclusions (their category) and everyday phrases (None)


class _CharTable(dict[int, str | None]):
    """A `str.translate` table that decides what each code point becomes on first sight, then remembers.

    Deciding per code point rather than per character of every message keeps normalisation fast.
    """

    def __init__(self, emoji: Mapping[str, str]) -> None:
        super().__init__()
        self._emoji = {_strip_marks(k): f" {v} " for k, v in emoji.items()}
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


class _Matcher:
    """Everything compiled from a lexicon: the character table, text-speak, the trie and fuzzy spellings.

    A plain slotted class, kept apart from the pydantic model so the hot path pays no attribute overhead.
    """

    __slots__ = (
        "fuzzy_cache", "fuzzy_index", "fuzzy_words", "group_first", "group_roots", "keys_memo", "known",
        "rewrite", "rewrite_squeezed", "root", "root_by_prefix", "root_by_word", "root_stems", "table",
        "vocab",
    )  # fmt: skip

    def __init__(self, lexicon: Lexicon) -> None:
        self.table = _CharTable(lexicon.emoji)
        # Words recur across patterns: normalise each one once while compiling.
        self.keys_memo: dict[tuple[str, bool], list[str]] = {}
        self.rewrite: dict[str, _Expansion] = {}
        self.rewrite_squeezed: dict[str, _Expansion | None] = {}
        for source in (lexicon.text_speak, lexicon.spelling):
            for raw, expansion in source.items():
                self._add_rewrite(str(raw), str(expansion))
        vocab: set[str] = set()
        for expansion in self.rewrite.values():
            vocab.update(expansion[1])
        self.group_roots: dict[str, _Node] = {}
        for name, options in lexicon.groups.items():
            root = _Node()
            for option in options:
                pieces = self._pieces(option, f"group {name}", lexicon.groups)
                if any(kind not in ("word", "stem") for kind, _ in pieces):
                    raise ValueError(f"group {name}: {option!r} may only use words and word*")
                self._insert(root, pieces, vocab, index=None).risk_ends.append(name)
            self.group_roots[name] = root
        self.root = _Node()
        self.root_stems: dict[str, list[tuple[str, _Node]]] = {}
        for cid, cat in lexicon.categories.items():
            for pattern in cat.patterns:
                self._add(pattern, True, cid, vocab, f"category {cid}", lexicon.groups)
            for pattern in cat.exclusions:
                self._add(pattern, False, cid, vocab, f"exclusions of {cid}", lexicon.groups)
        for pattern in lexicon.not_risk:
            self._add(pattern, False, None, vocab, "not_risk", lexicon.groups)
        self.vocab = frozenset(vocab)
        # A group is only tried where the word in hand could start one of its phrases.
        self.group_first: dict[str, tuple[frozenset[str], dict[str, tuple[str, ...]]]] = {}
        for name, root in self.group_roots.items():
            by_prefix: dict[str, list[str]] = {}
            for stem, _ in root.stems:
                by_prefix.setdefault(stem[:3], []).append(stem)
            self.group_first[name] = (frozenset(root.words), {k: tuple(v) for k, v in by_prefix.items()})
        # Where a match can start, looked up once per word: by the whole word, then by its first 3 letters.
        group_words: dict[str, list[tuple[str, _Node]]] = {}
        group_stems: dict[str, list[tuple[str, str, _Node]]] = {}
        for name, child in self.root.groups:
            first_words, first_stems = self.group_first[name]
            for word in first_words:
                group_words.setdefault(word, []).append((name, child))
            for prefix, stems in first_stems.items():
                for stem in stems:
                    group_stems.setdefault(prefix, []).append((stem, name, child))
        self.root_by_word: dict[str, tuple[_Node | None, tuple[tuple[str, _Node], ...]]] = {
            word: (self.root.words.get(word), tuple(group_words.get(word, ())))
            for word in self.root.words.keys() | group_words.keys()
        }
        self.root_by_prefix: dict[
            str, tuple[tuple[tuple[str, _Node], ...], tuple[tuple[str, str, _Node], ...]]
        ] = {
            prefix: (tuple(self.root_stems.get(prefix, ())), tuple(group_stems.get(prefix, ())))
            for prefix in self.root_stems.keys() | group_stems.keys()
        }
        self.known = self.vocab | self.rewrite.keys() | self.rewrite_squeezed.keys()
        words = {k for w in lexicon.fuzzy_words for k in self._keys_of(w, rewrite=False)}
        index: dict[str, set[str]] = {}
        for word in words:
            for variant in _deletions(word):
                index.setdefault(variant, set()).add(word)
        self.fuzzy_words = frozenset(words)
        self.fuzzy_index = {k: frozenset(v) for k, v in index.items()}
        self.fuzzy_cache: dict[str, str] = {}
        self.keys_memo = {}  # only needed while compiling

    # ---- compiling -------------------------------------------------------------------------------

    def _add_rewrite(self, raw: str, expansion: str) -> None:
        words = self._basic_tokens(raw, leet=False)
        if len(words) != 1:
            raise ValueError(f"text_speak/spelling key {raw!r} must be a single word")
        tokens = self._basic_tokens(expansion)
        if not tokens:
            raise ValueError(f"text_speak/spelling {raw!r} expands to nothing")
        value = (tuple(tokens), tuple(_squeeze(t) for t in tokens))
        word = words[0]
        old = self.rewrite.get(word)
        if old is not None and old != value:
            raise ValueError(f"text_speak/spelling {raw!r} is listed twice with different meanings")
        self.rewrite[word] = value
        # Stretched spellings ("wannaaa") are found by their squeezed form, unless two entries share one
        # ("ppls" and "pls"): then only exact spellings expand.
        key = _squeeze(word)
        if key in self.rewrite_squeezed and self.rewrite_squeezed[key] != value:
            self.rewrite_squeezed[key] = None
        else:
            self.rewrite_squeezed[key] = value

    def _add(
        self,
        pattern: str,
        risk: bool,
        cid: str | None,
        vocab: set[str],
        where: str,
        groups: Mapping[str, Any],
    ) -> None:
        node = self._insert(self.root, self._pieces(pattern, where, groups), vocab, index=self.root_stems)
        ends: list[Any] = node.risk_ends if risk else node.safe_ends
        if cid not in ends:
            ends.append(cid)

    @staticmethod
    def _insert(
        root: _Node, pieces: list[Piece], vocab: set[str], index: dict[str, list[tuple[str, _Node]]] | None
    ) -> _Node:
        """Add one pattern below `root`; a leading stem goes in `index`, by its first 3 letters, if given."""
        node = root
        for i, (kind, value) in enumerate(pieces):
            if kind == "word":
                vocab.add(value)
                node = node.words.setdefault(value, _Node())
            elif kind in ("stem", "group"):
                if kind == "group":
                    edges = node.groups
                elif i == 0 and index is not None:
                    edges = index.setdefault(value[:3], [])
                else:
                    edges = node.stems
                found = next((n for s, n in edges if s == value), None)
                if found is None:
                    found = _Node()
                    edges.append((value, found))
                node = found
            elif kind == "any":
                node.any = node.any or _Node()
                node = node.any
            else:
                node.gap = node.gap or _Node()
                node = node.gap
        return node

    def _pieces(self, pattern: str, where: str, groups: Mapping[str, Any]) -> list[Piece]:
        pieces: list[Piece] = []
        for raw in str(pattern).split():
            group = _GROUP_REF.fullmatch(raw)
            if group is not None:
                if group.group(1) not in groups:
                    raise ValueError(f"{where}: {pattern!r} uses an unknown group <{group.group(1)}>")
                pieces.append(("group", group.group(1)))
            elif raw == ANY_WORD:
                pieces.append(("any", ""))
            elif raw == GAP:
                pieces.append(("gap", ""))
            elif raw.endswith("*"):
                keys = self._keys_of(raw[:-1], rewrite=False)
                if len(keys) != 1 or len(keys[0]) < 3:
                    raise ValueError(f"{where}: {pattern!r}: a word ending in * needs 3+ letters before *")
                pieces.append(("stem", keys[0]))
            else:
                pieces.extend(("word", k) for k in self._keys_of(raw))
        if not pieces or pieces[0][0] == "gap":
            raise ValueError(f"{where}: {pattern!r} must start with a word, * or a <group>")
        if pieces[-1][0] not in ("word", "stem", "group"):
            raise ValueError(f"{where}: {pattern!r} must end with a word or a <group>")
        for a, b in zip(pieces, pieces[1:], strict=False):
            if a[0] == "gap" and b[0] not in ("word", "stem", "group"):
                raise ValueError(f"{where}: {pattern!r}: '...' must be followed by a word or a <group>")
        return pieces

    def _keys_of(self, text: str, rewrite: bool = True) -> list[str]:
        found = self.keys_memo.get((text, rewrite))
        if found is None:
            tokens = self._basic_tokens(text)
            found = self._expand(tokens)[1] if rewrite else [_squeeze(t) for t in tokens]
            self.keys_memo[(text, rewrite)] = found
        return found

    # ---- normalising -------------------------------------------------------------------------------

    def _basic_tokens(self, text: str, leet: bool = True) -> list[str]:
        """Everything `normalise` does except rejoining spelt-out words and expanding text-speak."""
        s = unicodedata.normalize("NFKC", text).casefold().translate(self.table)
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
        if self._rewrite_of(token, _squeeze(token)) is not None:
            return token
        return token.translate(_LEET)

    def _rewrite_of(self, token: str, key: str) -> _Expansion | None:
        """Text-speak for a word: exact spelling first; the squeezed form only for stretched words.

        Only stretched words use the squeezed form, so "none" is not mistaken for "noone".
        """
        found = self.rewrite.get(token)
        if found is None and key != token:
            found = self.rewrite_squeezed.get(key)
        return found

    def _expand(self, tokens: list[str], keys: list[str] | None = None) -> tuple[list[str], list[str]]:
        """Expand text-speak; returns the words and their matching keys (doubled letters squeezed).

        `keys`, if given, are the tokens already squeezed (one regex over the whole message is cheaper).
        """
        out_tokens: list[str] = []
        out_keys: list[str] = []
        rewrite = self.rewrite
        squeezed = self.rewrite_squeezed
        for token, key in zip(tokens, keys or [_squeeze(t) for t in tokens], strict=True):
            expansion = rewrite.get(token)
            if expansion is None and key != token:
                expansion = squeezed.get(key)
            if expansion is None:
                out_tokens.append(token)
                out_keys.append(key)
            else:
                out_tokens.extend(expansion[0])
                out_keys.extend(expansion[1])
        return out_tokens, out_keys

    def _join_spelled(self, tokens: list[str]) -> list[str]:
        """Rejoin words typed letter by letter ("k i l l", "i w a n t") when they spell a known word."""
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            j = i
            while j < n and len(tokens[j]) == 1 and tokens[j].isalpha():
                j += 1
            if j - i >= 3:
                out.extend(self._split_known("".join(tokens[i:j])) or tokens[i:j])
                i = j
            else:
                out.append(tokens[i])
                i += 1
        return out

    def _split_known(self, joined: str) -> list[str] | None:
        known = self.known
        if _squeeze(joined) in known:
            return [joined]
        for cut in range(1, len(joined)):
            head, tail = joined[:cut], joined[cut:]
            if (head == "i" or _squeeze(head) in known) and _squeeze(tail) in known:
                return [head, tail]
        return None

    def analyse(self, text: str) -> tuple[list[str], list[str]]:
        """Normalised words of a message, and the keys they are matched by."""
        joined = " ".join(self._basic_tokens(text))
        tokens = joined.split()
        if _spelled_hint(tokens):
            return self._expand(self._join_spelled(tokens))
        return self._expand(tokens, _ANY_RUN.sub(r"\1", joined).split())

    def _fuzzy(self, key: str) -> str:
        """Map a one-typo spelling of a listed fuzzy word to that word ("sucidal" -> "suicidal")."""
        if len(key) < 5 or key in self.vocab:
            return key
        cached = self.fuzzy_cache.get(key)
        if cached is not None:
            return cached
        found: set[str] = set(self.fuzzy_index.get(key, ()))  # a letter missing
        for variant in _deletions(key):
            if variant in self.fuzzy_words:  # a letter too many
                found.add(variant)
            found.update(self.fuzzy_index.get(variant, ()))  # a letter wrong or two swapped
        result = min(found) if found else key
        if len(self.fuzzy_cache) < _FUZZY_CACHE_LIMIT:
            self.fuzzy_cache[key] = result
        return result

    # ---- matching ----------------------------------------------------------------------------------

    def _group_ends(
        self, name: str, keys: list[str], i: int, memo: dict[tuple[str, int], tuple[int, ...]]
    ) -> tuple[int, ...]:
        """Where a phrase of group `name` that starts at word i can end (remembered per message)."""
        found = memo.get((name, i))
        if found is not None:
            return found
        ends: list[int] = []
        frontier = [self.group_roots[name]]
        j, n = i, len(keys)
        while frontier and j < n:
            word = keys[j]
            j += 1
            following: list[_Node] = []
            for node in frontier:
                child = node.words.get(word)
                if child is not None:
                    following.append(child)
                following.extend(c for stem, c in node.stems if word.startswith(stem))
            if any(node.risk_ends for node in following):
                ends.append(j)
            frontier = following
        memo[(name, i)] = found = tuple(ends)
        return found

    def scan(self, keys: list[str]) -> set[str]:
        """Categories with at least one match that no everyday phrase or exclusion fully covers."""
        n = len(keys)
        root_by_word = self.root_by_word
        root_by_prefix = self.root_by_prefix
        root_any = self.root.any
        group_first = self.group_first
        memo: dict[tuple[str, int], tuple[int, ...]] = {}
        risks: list[tuple[int, int, str]] = []
        safe: list[tuple[int, int, str | None]] = []
        for start in range(n):
            key = keys[start]
            by_word = root_by_word.get(key)
            by_prefix = root_by_prefix.get(key[:3])
            if by_word is None and by_prefix is None and root_any is None:
                continue
            stack: list[tuple[_Node, int]] = []
            pop, push = stack.pop, stack.append
            starts: tuple[tuple[str, _Node], ...] | list[tuple[str, _Node]] = ()
            if by_word is not None:
                if by_word[0] is not None:
                    push((by_word[0], start + 1))
                starts = by_word[1]
            if by_prefix is not None:
                stack.extend((node, start + 1) for stem, node in by_prefix[0] if key.startswith(stem))
                if by_prefix[1]:
                    starts = list(starts)
                    starts.extend((name, child) for stem, name, child in by_prefix[1] if key.startswith(stem))
                    starts = list(dict.fromkeys(starts))
            if root_any is not None:
                push((root_any, start + 1))
            for name, child in starts:
                stack.extend((child, j) for j in self._group_ends(name, keys, start, memo))
            while stack:
                node, i = pop()
                if node.risk_ends:
                    risks.extend((start, i, cid) for cid in node.risk_ends)
                if node.safe_ends:
                    safe.extend((start, i, scope) for scope in node.safe_ends)
                # A gap node is always followed by a word, stem or group, so try those directly at each of
                # the next MAX_GAP + 1 positions instead of stacking the gap itself.
                gap = node.gap
                if gap is None:
                    if i >= n:
                        continue
                    steps: Iterable[tuple[_Node, int]] = ((node, i),)
                else:
                    steps = [(gap, j) for j in range(i, min(i + MAX_GAP, n - 1) + 1)]
                    if i < n:
                        steps.append((node, i))
                for here, j in steps:
                    word = keys[j]
                    child = here.words.get(word)
                    if child is not None:
                        push((child, j + 1))
                    for stem, child in here.stems:
                        if word.startswith(stem):
                            push((child, j + 1))
                    if here.any is not None:
                        push((here.any, j + 1))
                    for name, child in here.groups:
                        first_words, first_stems = group_first[name]
                        if word in first_words or any(
                            word.startswith(st) for st in first_stems.get(word[:3], ())
                        ):
                            stack.extend((child, end) for end in self._group_ends(name, keys, j, memo))
        return _uncovered(risks, safe, n)

    def assess(self, text: str) -> Assessment:
        keys = self.analyse(text)[1]
        if self.fuzzy_words:
            fuzzy = self._fuzzy
            keys = [k if len(k) < 5 else fuzzy(k) for k in keys]
        found = self.scan(keys)
        return Assessment(flagged=bool(found), categories=tuple(sorted(found)))


Span = tuple[int, int, str | None]  # (first word, one past the last word, category or None)


def _uncovered(risks: list[tuple[int, int, str]], safe: list[Span], n: int) -> set[str]:
    """Drop risk matches lying wholly inside an everyday phrase or an exclusion of their own category."""
    if not risks:
        return set()
    if not safe:
        return {cid for _, _, cid in risks}
    # reach[scope][s] is the furthest end of a safe span of that scope starting at or before word s.
    reach: dict[str | None, list[int]] = {}
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


def _spelled_hint(tokens: list[str]) -> bool:
    """Cheap test for three single letters in a row, so ordinary messages skip the rejoining."""
    run = 0
    for token in tokens:
        run = run + 1 if len(token) == 1 else 0
        if run == 3:
            return True
    return False


def _squeeze(word: str) -> str:
    """Collapse doubled letters, so "kill", "kil" and "killll" all meet on one key."""
    return _ANY_RUN.sub(r"\1", word)


def _deletions(word: str) -> Iterable[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _strip_marks(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Cf"))


def _matcher_of(lexicon: Lexicon) -> _Matcher:
    """The compiled matcher, read from pydantic's private store: `lexicon._matcher` is ~30x slower."""
    return lexicon.__pydantic_private__["_matcher"]  # type: ignore[index]


def default_lexicon_path() -> Path:
    """Where the live lexicon lives, found through the `content` package so it works when installed."""
    return Path(content.__file__).parent / "safeguarding" / "lexicon.yaml"


def normalise(text: str, lexicon: Lexicon) -> str:
    """The form messages are matched in: folded, de-obfuscated, punctuation-free, text-speak expanded.

    Runs of three or more of a letter become two ("hellllp" -> "hellp"); matching then also treats any
    doubled letter as single, so that meets "help", and "kil myself" meets "kill myself".
    """
    return " ".join(_matcher_of(lexicon).analyse(text)[0])


def assess_lexicon(text: str, lexicon: Lexicon) -> Assessment:
    """The lexicon alone: for trying a draft lexicon and measuring each detector on its own. Raises on error."""
    return _matcher_of(lexicon).assess(text)


LEXICON_OVERRULED_BELOW = 0.05
"""In the categories of LEXICON_OVERRULED_IN, a lexicon hit the model scores below this (about one in twenty) and
does not flag itself does not flag the message. Measured on the ten earlier blind sets, each scored by a model
trained without it (README, "How well it works"): the lexicon's hits that the model did not share were about nine
false alarms in ten ("we had a knife crime assembly", "i wanna run away to disneyland"), and below this score none
in these categories was a disclosure. Reviews found disclosures written to slip past it ("she'll kill me if im
late lol she meant it"), so an overruled answer is read early (READ_EARLY)."""
LEXICON_OVERRULED_IN = frozenset({"threats_violence", "missing_homeless", "neglect"})
"""The only categories the model can overrule: the ones whose words everyday talk borrows most ("she'll kill me if
i'm late lol", "we ran away with the league", "i'm starving, there's no food in this house till tea"). Any other
(suicide and self-harm, sexual abuse, physical abuse, exploitation and grooming, not safe, and any category the
safeguarding lead adds) flags on a lexicon hit alone, whatever the model says, and so does a hit that comes with
one of them. Two reviews of round 6 showed why: "i got beaten up by my dad yesterday lol" (physical abuse) scored
0.046, and "we did a lesson on sextortion today lol thats literally what that guy is doing to me" 0.001."""
OVERRULE_UNKNOWN_WORDS = 1
"""The model overrules only a message it has read to the end (`MAX_CHARS`) with at most this many words it never
learned: "she'll kill me if i'm late lol, ojczym mnie bije" is read as English, but the model cannot read its Polish
end ("my stepfather beats me"), so its silence there means nothing. (A share of known words was tried first; enough
English around a short clause in another language passed it.)"""
READ_EARLY = 0.5
"""The "To read" queue's score for an answer whose lexicon hit the model overruled: above most everyday answers, so
a person reads it early rather than last."""


def lexicon_stands(categories: Iterable[str], score: float, unknown_words: int = 0) -> bool:
    """Whether a lexicon hit in these categories flags a message the model scores `score`, does not flag, and
    has `unknown_words` words it never learned in."""
    cats = set(categories)
    if not cats or not cats <= LEXICON_OVERRULED_IN:
        return True
    return score >= LEXICON_OVERRULED_BELOW or unknown_words > OVERRULE_UNKNOWN_WORDS


def reading_score(assessment: Assessment) -> float:
    """Where a message's free-text answer sits in the "To read" queue: the model's score, raised to READ_EARLY when
    the model overruled a lexicon hit in it."""
    return max(assessment.score, READ_EARLY) if assessment.overruled else assessment.score


def _unread(text: str, model: RiskModel) -> int:
    """How many of the message's words the model cannot vouch for; all of them when it stops before the end."""
    return len(text) if len(text) > MAX_CHARS else model.unknown_words(text)


def assess(text: str, lexicon: Lexicon, model: RiskModel | None = None) -> Assessment:
    """Decide whether a message needs a human to look at it. Used live and by the staff CLI alike.

    Two detectors read every message: the lexicon (phrases the safeguarding lead wrote down) and the
    statistical model (`bot/risk_model.py`, the stored one unless `model` is given), which generalises to
    wording nobody wrote down. Either one firing flags the message; categories come from both. The one exception:
    in the categories everyday talk borrows most, a lexicon hit in a message the model has read in full, knows the
    words of, and all but rules out (below 0.05) does not flag (`lexicon_stands`); the answer is read early.
    Negation does not un-flag: "i'm not going to kill myself" still flags, because a person should check.
    The lexicon reads the whole message however long, in time linear in its length; the model reads a bounded
    prefix. Never raises: if something unexpected goes wrong the message is flagged `unassessed`, failing
    towards a human, not away from one.
    """
    try:
        lex = _matcher_of(lexicon).assess(text)
        rm = model or cached_model()
        verdict = rm.assess(text)
        lexicon_fired = lex.flagged and (
            verdict.fired or lexicon_stands(lex.categories, verdict.score, _unread(text, rm))
        )
    except Exception:
        return Assessment(flagged=True, categories=(UNASSESSED,), score=1.0)
    detectors = tuple(name for name, fired in (("lexicon", lexicon_fired), ("model", verdict.fired)) if fired)
    categories = set(lex.categories) if lexicon_fired else set()
    if verdict.fired and verdict.category:
        categories.add(verdict.category)
    return Assessment(
        flagged=bool(detectors), categories=tuple(sorted(categories)), score=verdict.score, detectors=detectors,
        overruled=() if lexicon_fired else tuple(lex.categories),
    )
