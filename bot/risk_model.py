"""The statistical half of the risk check: a linear model over word and character n-grams.

The lexicon catches the phrases it knows; this model generalises to wording nobody wrote down. It is stored as
reviewable data (`content/safeguarding/model.json`: vocabulary, weights, threshold), never as a pickle, and is
scored here in plain Python so the live check needs no machine-learning library. `admin/risk_training.py`
builds the file from the labelled data with scikit-learn, using `features()` below, so training and live
scoring cannot disagree about what a message looks like. Nothing here logs or keeps the text.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import content

FEATURIZER = "ourvoice-risk-features-4"
"""Names the feature recipe below; a stored model made with another recipe is refused."""

CHAR_NGRAMS = (2, 3, 4, 5)
CROSS_NGRAMS = (5,)
"""Character n-grams that span a word boundary ("ts me", "o die"): they carry the short phrases and the
spellings that split or join words ("hits me", "hitsme", "wanna d ie"). With whole labelled files held out they
lowered false alarms at the same recall (0.156 without them, 0.150 with 4- and 5-grams, 0.1445 with 5-grams
alone, on 2026-12-05)."""
WINDOW = 20
"""Long messages are scored in overlapping windows of this many words, so a disclosure inside a long
message is not diluted by everything around it; the message scores as its most worrying window."""
STRIDE = 10
MAX_CHARS = 40_000
"""The model reads this much of a message (the lexicon reads all of it): cost stays bounded per message."""

# Lookalike letters from other scripts used to dodge filters (after casefold), and digits standing for letters.
_CONFUSABLES = str.maketrans({
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d", "\u0261": "g",
    "\u03bf": "o", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03c1": "p", "\u0131": "i",
    "\u0442": "t", "\u043a": "k", "\u043c": "m", "\u043d": "h", "\u0432": "b",
})  # fmt: skip
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t"})
_LEETY = re.compile(r"[\w@$]+")
_LETTER = re.compile(r"[^\W\d_]")
_BANG_IN_WORD = re.compile(r"(?<=[^\W\d_])[!|](?=[^\W\d_])")
_RUN = re.compile(r"([^\W\d_])\1{2,}")
_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")


def _is_symbol(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk")


def _unleet(m: re.Match[str]) -> str:
    """"d1e" -> "die", "$h1t" -> "shit"; a plain number ("14", "2nd") is left as it is."""
    word = m.group(0)
    return word.translate(_LEET) if _LETTER.search(word) else word


def tokens(text: str) -> list[str]:
    """Words as the model sees them: folded, de-obfuscated, apostrophes dropped; emoji kept as words."""
    t = unicodedata.normalize("NFKD", text[:MAX_CHARS]).casefold()
    t = "".join(c for c in t if unicodedata.category(c) not in ("Mn", "Cf"))
    t = t.translate(_CONFUSABLES)
    t = re.sub(r"['\u2018\u2019\u02bc`]", "", t)
    t = _BANG_IN_WORD.sub("i", t)
    t = _LEETY.sub(_unleet, t)
    t = _RUN.sub(r"\1\1", t)
    out: list[str] = []
    for tok in _TOKEN.findall(t):
        if tok.isalnum() or _is_symbol(tok):
            out.append(tok)
    return out


@dataclass(frozen=True)
class Concepts:
    """Word classes the model generalises over, copied from the lexicon when it is trained: its groups
    ("hit", "thump", "batter" are all `hurt_verb`), text-speak and spellings ("kms" -> "kill myself"). A word
    the training data never used still lands on a weight through its class. Stored inside the model file, so
    the live model does not depend on the lexicon's current state."""

    words: dict[str, tuple[str, ...]]
    prefixes: dict[str, tuple[str, ...]]
    expand: dict[str, tuple[str, ...]]

    @classmethod
    def empty(cls) -> Concepts:
        return cls({}, {}, {})

    def classes(self, word: str) -> tuple[str, ...]:
        found = self.words.get(word, ())
        for n in range(3, min(len(word), 9) + 1):
            more = self.prefixes.get(word[:n])
            if more:
                found = found + more
        return found

    def as_data(self) -> dict[str, dict[str, list[str]]]:
        return {
            "words": {k: list(v) for k, v in sorted(self.words.items())},
            "prefixes": {k: list(v) for k, v in sorted(self.prefixes.items())},
            "expand": {k: list(v) for k, v in sorted(self.expand.items())},
        }

    @classmethod
    def from_data(cls, data: dict) -> Concepts:
        return cls(
            {k: tuple(v) for k, v in data.get("words", {}).items()},
            {k: tuple(v) for k, v in data.get("prefixes", {}).items()},
            {k: tuple(v) for k, v in data.get("expand", {}).items()},
        )


def features(words: list[str], concepts: Concepts | None = None) -> Counter[str]:
    """Counts of word unigrams and bigrams, character n-grams within each padded word and across word
    boundaries, the message's length
    band, and (with concepts) word classes, pairs of neighbouring classes and text-speak expansions."""
    counts: Counter[str] = Counter()
    # How long the message is: short answers ("No", "Mum") carry little evidence, and the model learns how
    # much a message of each length needs before it is worrying.
    counts["n:" + _length_bucket(len(words))] += 1
    joined = " " + " ".join(words) + " "
    for n in CROSS_NGRAMS:
        for j in range(len(joined) - n + 1):
            gram = joined[j : j + n]
            if " " in gram.strip():
                counts["x:" + gram] += 1
    prev_classes: tuple[str, ...] = ()
    for i, w in enumerate(words):
        counts["w:" + w] += 1
        if i:
            counts["b:" + words[i - 1] + " " + w] += 1
        padded = f" {w} "
        for n in CHAR_NGRAMS:
            for j in range(len(padded) - n + 1):
                counts["c:" + padded[j : j + n]] += 1
        if concepts is None:
            continue
        for e in concepts.expand.get(w, ()):
            counts["w:" + e] += 1
        classes = concepts.classes(w)
        for g in classes:
            counts["g:" + g] += 1
            for pg in prev_classes:
                counts["gg:" + pg + " " + g] += 1
        prev_classes = classes
    return counts


def _length_bucket(n: int) -> str:
    for limit, name in ((1, "1"), (2, "2"), (3, "3"), (6, "4-6"), (12, "7-12")):
        if n <= limit:
            return name
    return "13+"


def windows(words: list[str]) -> Iterator[list[str]]:
    """The whole message when short; overlapping word windows when long (linear in its length)."""
    if len(words) <= WINDOW:
        yield words
        return
    for start in range(0, len(words) - STRIDE, STRIDE):
        yield words[start : start + WINDOW]


def vector(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """Sublinear tf-idf over the known vocabulary, scaled to unit length (the same recipe training uses)."""
    raw = {f: (1.0 + math.log(c)) * idf[f] for f, c in counts.items() if f in idf}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    if not norm:
        return {}
    return {f: v / norm for f, v in raw.items()}


@dataclass(frozen=True)
class ModelVerdict:
    """The model's view of one message: probability of a disclosure, whether it crosses the threshold,
    and the category it thinks most likely (only meaningful when it fires)."""

    score: float
    fired: bool
    category: str | None


class RiskModel:
    """A trained model read from its stored file; `score` is pure and safe to share between threads."""

    def __init__(self, data: dict) -> None:
        if data.get("featurizer") != FEATURIZER:
            raise ValueError(f"model was built with {data.get('featurizer')!r}, this code reads {FEATURIZER!r}")
        self.data_digest: str = data["data_digest"]
        self.threshold: float = float(data["threshold"])
        self.concepts = Concepts.from_data(data.get("concepts") or {})
        self.bias: float = float(data["bias"])
        self.idf: dict[str, float] = {}
        self.weight: dict[str, float] = {}
        for name, (idf, w) in data["features"].items():
            self.idf[name] = float(idf)
            if w:
                self.weight[name] = float(w)
        cats = data["categories"]
        self.category_names: list[str] = list(cats["names"])
        self.category_bias: list[float] = [float(b) for b in cats["bias"]]
        self.category_weight: dict[str, list[float]] = {k: [float(x) for x in v] for k, v in cats["weights"].items()}
        self.languages: tuple[str, ...] = tuple(data.get("languages") or ())
        """The locales the other-languages model was trained on (empty for the English model)."""

    @classmethod
    def from_file(cls, path: str | Path) -> RiskModel:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def margin(self, words: list[str]) -> float:
        """The linear score of one window (log-odds of a disclosure)."""
        vec = vector(features(words, self.concepts), self.idf)
        w = self.weight
        return self.bias + sum(v * w[f] for f, v in vec.items() if f in w)

    def _category(self, words: list[str]) -> str | None:
        if not self.category_names:
            return None
        vec = vector(features(words, self.concepts), self.idf)
        totals = list(self.category_bias)
        for f, v in vec.items():
            row = self.category_weight.get(f)
            if row:
                for k, x in enumerate(row):
                    totals[k] += v * x
        return self.category_names[max(range(len(totals)), key=totals.__getitem__)]

    def coverage(self, text: str) -> float:
        """The share of the message's words the model learned (as words, not only as letters): how far its
        verdict on a message can be trusted. 0.0 for a message with no words."""
        words = [w for w in tokens(text) if _LETTER.search(w)]
        if not words:
            return 0.0
        return sum(f"w:{w}" in self.idf for w in words) / len(words)

    def unknown_words(self, text: str) -> int:
        """How many of the message's words the model never learned (as words): words it cannot vouch for."""
        return sum(f"w:{w}" not in self.idf for w in tokens(text) if _LETTER.search(w))

    def assess(self, text: str) -> ModelVerdict:
        """Score a message as its most worrying window."""
        words = tokens(text)
        if not words:
            return ModelVerdict(0.0, False, None)
        best, best_words = -math.inf, words
        for part in windows(words):
            m = self.margin(part)
            if m > best:
                best, best_words = m, part
        p = 1.0 / (1.0 + math.exp(-best)) if best > -700 else 0.0
        fired = p >= self.threshold
        return ModelVerdict(round(p, 4), fired, self._category(best_words) if fired else None)


def languages_model_path() -> Path:
    """The other-languages model (admin/risk_training_languages.py), read only for messages not in English."""
    return Path(content.__file__).parent / "safeguarding" / "languages" / "model.json"


def cached_languages_model() -> RiskModel | None:
    """The stored other-languages model, or None when there is none (then every message in another language
    that no lexicon flags goes to a person, as before it existed)."""
    p = languages_model_path()
    try:
        return _model_at(str(p), p.stat().st_mtime_ns)
    except FileNotFoundError:
        return None


def default_model_path() -> Path:
    """Where the live model lives, found through the `content` package so it works when installed."""
    return Path(content.__file__).parent / "safeguarding" / "model.json"


@functools.lru_cache(maxsize=4)
def _model_at(path: str, mtime_ns: int) -> RiskModel:
    return RiskModel.from_file(path)


def cached_model(path: Path | None = None) -> RiskModel:
    """The stored model, read once per file version (a retrained file is picked up on its next use)."""
    p = path or default_model_path()
    return _model_at(str(p), p.stat().st_mtime_ns)
