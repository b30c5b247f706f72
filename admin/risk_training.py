"""Builds the risk model file from the labelled messages in `content/safeguarding/labelled/`.

`ourvoice safeguarding train` calls `train_model`; `ourvoice content check` calls `stale_reason` to refuse a
stored model that was not built from the labelled data as it stands. Training is deterministic (fixed folds,
a deterministic solver, rounded weights, sorted output), so two runs give byte-identical files. The held-out
sets in `tests/safeguarding/fresh/` are never read here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from admin import risk_content
from bot.risk_model import FEATURIZER, Concepts, features, tokens
from bot.safeguarding import (
    LEXICON_OVERRULED_BELOW,
    LEXICON_OVERRULED_IN,
    OVERRULE_UNKNOWN_WORDS,
    Lexicon,
    assess_lexicon,
    default_lexicon_path,
    lexicon_stands,
)

TARGET_RECALL = 0.9725
"""Recall first: the threshold is the highest one at which the COMBINED detector (lexicon hit, or model score at
or above it) catches this share of the training disclosures, scored out of fold. A miss can cost a child and a
false alarm costs a worker a minute, so the model is tuned to recall and the false-alarm rate is what follows
(reported, and bounded by the quality tests on the blind sets)."""
MIN_DF = 2
C = 64.0
"""Weak regularisation: with folds held out by whole file, C of 1, 4, 16, 32 and 64 were tried; 64 gave the best
recall at the lowest false-alarm rate on wording from unseen files (and on blind sets 1 and 2)."""
FOLDS = 5
DIGITS = 5
RECIPE = (
    "recall-first, folds by source file", TARGET_RECALL,
    "lexicon overruled below", LEXICON_OVERRULED_BELOW, sorted(LEXICON_OVERRULED_IN), OVERRULE_UNKNOWN_WORDS,
)  # fmt: skip
"""The English model's training recipe beyond the constants above, part of its data digest: changing any of it
makes the stored model stale."""

CATEGORIES = (
    "suicide_self_harm", "physical_abuse", "sexual_abuse", "neglect",
    "exploitation_grooming", "missing_homeless", "threats_violence", "not_safe",
)  # fmt: skip

# Section headings of the older plain-text files, mapped to a category (lines under other headings
# train the flag/no-flag model only).
_HEADINGS = (
    ("suicide", "suicide_self_harm"), ("self-harm", "suicide_self_harm"), ("physical", "physical_abuse"),
    ("sexual", "sexual_abuse"), ("neglect", "neglect"), ("exploitation", "exploitation_grooming"),
    ("grooming", "exploitation_grooming"), ("missing", "missing_homeless"), ("homeless", "missing_homeless"),
    ("threat", "threats_violence"), ("violence", "threats_violence"), ("not safe", "not_safe"),
    ("unsafe", "not_safe"), ("urgent", "not_safe"),
)  # fmt: skip


@dataclass(frozen=True)
class Example:
    text: str
    flag: bool
    category: str | None
    source: str = ""
    """The labelled file it came from: each file is one author's wording, so cross-validation holds out whole
    files, imitating wording the model never saw (holding out single lines would let a sister sentence from
    the same file leak the answer)."""


def labelled_dir() -> Path:
    """The folder of labelled training messages shipped with the content."""
    import content

    return Path(content.__file__).parent / "safeguarding" / "labelled"


def _heading_category(line: str) -> str | None:
    low = line.lower()
    if "holdout" in low or "stress" in low or "extra" in low:
        return None
    for word, cid in _HEADINGS:
        if word in low:
            return cid
    return None


def _read_txt(path: Path, flag: bool) -> list[Example]:
    """One message per line; `#` lines are comments and their `# ---` headings name the category."""
    out: list[Example] = []
    category: str | None = None
    for raw in path.read_text(encoding="utf-8").split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("#"):
            if flag and (line.startswith("# ---") or line.startswith("# round")):
                category = _heading_category(line)
            continue
        if line.strip():
            out.append(Example(line, flag, category if flag else None, path.name))
    return out


FORMER_BLIND_CATEGORIES = {
    "exploitation": "exploitation_grooming", "missing": "missing_homeless", "bullying_threat": "threats_violence",
    "domestic_abuse": "not_safe", "emotional_abuse": "not_safe",
}  # fmt: skip
"""Blind sets 4-10 were written to a brief with ten categories; the model's eight take them as the
other-languages model does (admin/risk_training_languages.py)."""


def _read_yaml(path: Path) -> list[Example]:
    return list(_parse_yaml(path.name, path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=64)
def _parse_yaml(name: str, text: str) -> tuple[Example, ...]:
    """A labelled file's messages, parsed once per process for the same name and words: naming the language of a
    former blind set's messages is the slow part of `content check`, which the suite runs many times."""
    data = yaml.safe_load(text)
    flag = [(str(row["text"]), row.get("category")) for row in data.get("flag") or ()]
    not_flag = [str(row["text"]) for row in data.get("not_flag") or ()]
    if data.get("former_blind_set"):
        # A blind set, once measured and then folded into training (README, "How well it works"): its messages in
        # other languages stay out (the English model does not answer for them; the other-languages model is
        # still measured on them), and its categories take the model's names.
        from bot.language_id import ENGLISH, identify

        flag = [(t, FORMER_BLIND_CATEGORIES.get(c, c)) for t, c in flag if identify(t).locale == ENGLISH]
        not_flag = [t for t in not_flag if identify(t).locale == ENGLISH]
    out = [Example(t, True, c, name) for t, c in flag]
    out += [Example(t, False, None, name) for t in not_flag]
    return tuple(out)


def load_labelled(root: Path | None = None, lexicon: Lexicon | None = None) -> list[Example]:
    """Every labelled message, in a fixed order (files by name, lines as written), then the product's own
    buttons and questions when `root` sits in a content folder (admin/risk_content.py; the lexicon, the live
    one unless given, keeps out those it flags). Raises ValueError on an unknown category so a typo cannot
    quietly train a new one."""
    folder = root or labelled_dir()
    examples: list[Example] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".txt":
            examples += _read_txt(path, flag=not path.stem.endswith("not_flag"))
        elif path.suffix in (".yaml", ".yml"):
            examples += _read_yaml(path)
    content_root = folder.resolve().parents[1]
    if (content_root / "flows").is_dir():
        lex = lexicon or Lexicon.from_file(default_lexicon_path())
        texts = risk_content.everyday_texts(content_root, lambda t: assess_lexicon(t, lex).flagged)
        examples += [Example(t, False, None, risk_content.SOURCE) for t in texts]
    for ex in examples:
        if ex.category is not None and ex.category not in CATEGORIES:
            raise ValueError(f"unknown category {ex.category!r} in the labelled data")
    return examples


def concepts_of(lexicon: Lexicon) -> Concepts:
    """The lexicon's one-word group members, text-speak and spellings, as the model's word classes."""
    words: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for group, members in sorted(lexicon.groups.items()):
        for member in members:
            if " " in member:
                continue
            if member.endswith("*"):
                stem = member[:-1]
                if len(stem) >= 3:
                    prefixes.setdefault(stem, []).append(group)
            else:
                words.setdefault(member, []).append(group)
    expand: dict[str, tuple[str, ...]] = {}
    for source in (lexicon.text_speak, lexicon.spelling):
        for short, long in sorted(source.items()):
            if long != short:
                expand[short] = tuple(long.split())
    return Concepts(
        {k: tuple(sorted(set(v))) for k, v in words.items()},
        {k: tuple(sorted(set(v))) for k, v in prefixes.items()},
        expand,
    )


def live_concepts() -> Concepts:
    return concepts_of(Lexicon.from_file(default_lexicon_path()))


def data_digest(
    examples: list[Example], concepts: Concepts | None = None, lexicon_hits: list[bool] | None = None,
    recipe_extra: tuple[object, ...] = RECIPE,
) -> str:
    """What the stored model must have been trained on: the examples and their source files, the lexicon's word
    classes, which examples the lexicon catches (the threshold is set for both detectors together, so a lexicon
    edit that changes what it catches makes the model stale too) and the training recipe."""
    if concepts is None or lexicon_hits is None:
        lexicon = Lexicon.from_file(default_lexicon_path())
        concepts = concepts or concepts_of(lexicon)
        lexicon_hits = [assess_lexicon(ex.text, lexicon).flagged for ex in examples]
    h = hashlib.sha256()
    recipe = [FEATURIZER, *recipe_extra, MIN_DF, C, FOLDS, DIGITS]
    h.update(json.dumps(recipe).encode())
    h.update(json.dumps(concepts.as_data(), sort_keys=True).encode())
    h.update("".join("1" if hit else "0" for hit in lexicon_hits).encode())
    for ex in examples:
        h.update(json.dumps([ex.text, ex.flag, ex.category, ex.source], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _vocabulary(counts: list[Counter[str]]) -> tuple[list[str], dict[str, float]]:
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    names = sorted(f for f, n in df.items() if n >= MIN_DF)
    total = len(counts)
    idf = {f: math.log((1 + total) / (1 + df[f])) + 1.0 for f in names}
    return names, idf


def _matrix(counts: list[Counter[str]], names: list[str], idf: dict[str, float]) -> Any:
    from scipy.sparse import csr_matrix

    index = {f: i for i, f in enumerate(names)}
    rows, cols, vals = [], [], []
    for r, c in enumerate(counts):
        raw = [(index[f], (1.0 + math.log(n)) * idf[f]) for f, n in c.items() if f in idf]
        norm = math.sqrt(sum(v * v for _, v in raw)) or 1.0
        for j, v in raw:
            rows.append(r)
            cols.append(j)
            vals.append(v / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(counts), len(names)))


def _fit(x: Any, y: list[int]) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
    return model.fit(x, y)


def source_folds(examples: list[Example]) -> list[int]:
    """Each example's fold, whole source files together: files largest first, each to the fold holding the
    fewest examples so far (ties to the lower fold; the same rule as scikit-learn's GroupKFold, written out so
    the folds, and so the model's bytes, cannot change with a library upgrade)."""
    sizes = Counter(ex.source for ex in examples)
    load = [0] * FOLDS
    fold_of_source: dict[str, int] = {}
    for source, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = min(range(FOLDS), key=lambda j: (load[j], j))
        fold_of_source[source] = k
        load[k] += n
    return [fold_of_source[ex.source] for ex in examples]


def out_of_fold_scores(
    examples: list[Example], counts: list[Counter[str]], fold_of: list[int] | None = None
) -> list[float]:
    """Each example's model score from a model that never saw its fold (by default: its source file)."""
    flags = [ex.flag for ex in examples]
    fold_of = fold_of if fold_of is not None else source_folds(examples)
    scores = [0.0] * len(examples)
    for k in range(FOLDS):
        train = [i for i in range(len(examples)) if fold_of[i] != k]
        test = [i for i in range(len(examples)) if fold_of[i] == k]
        if not test or len({flags[i] for i in train}) < 2:
            continue
        names, idf = _vocabulary([counts[i] for i in train])
        model = _fit(_matrix([counts[i] for i in train], names, idf), [int(flags[i]) for i in train])
        probs = model.predict_proba(_matrix([counts[i] for i in test], names, idf))[:, 1]
        for i, p in zip(test, probs, strict=True):
            scores[i] = float(p)
    return scores


def recall_first_threshold(
    flags: list[bool], lexicon_hits: list[bool], scores: list[float], target: float = TARGET_RECALL
) -> float:
    """The highest threshold at which lexicon-or-model catches `target` of the disclosures."""
    positives = [i for i, f in enumerate(flags) if f]
    need = math.ceil(target * len(positives))
    caught_by_lexicon = sum(lexicon_hits[i] for i in positives)
    if caught_by_lexicon >= need:
        return 1.0
    # The model must add `need - caught_by_lexicon` of those the lexicon misses: the threshold is the score
    # of the one that makes up the number, rounded down so it is still caught after rounding.
    rest = sorted((scores[i] for i in positives if not lexicon_hits[i]), reverse=True)
    kth = rest[need - caught_by_lexicon - 1]
    return float(math.floor(kth * 10**DIGITS) / 10**DIGITS)


def _rates(flags: list[bool], fired: list[bool]) -> tuple[float, float]:
    """Recall on the disclosures and false-alarm rate on the everyday messages."""
    positives = sum(flags)
    caught = sum(x for f, x in zip(flags, fired, strict=True) if f)
    alarms = sum(x for f, x in zip(flags, fired, strict=True) if not f)
    return round(caught / max(1, positives), 4), round(alarms / max(1, len(flags) - positives), 4)


def _threshold(
    examples: list[Example], counts: list[Counter[str]], lexicon_hits: list[bool],
    fold_of: list[int] | None = None, target: float = TARGET_RECALL,
    lexicon_categories: list[tuple[str, ...]] | None = None,
) -> tuple[float, dict[str, float]]:
    """Pick the threshold from out-of-fold scores, so it reflects unseen wording rather than memory. With the
    lexicon's categories, a lexicon hit counts only where it would stand against the model's score (the live rule,
    bot.safeguarding.lexicon_stands, taking every word as known: the rule's unknown-word test can only make more hits
    stand live than counted here, so the threshold errs towards catching more)."""
    flags = [ex.flag for ex in examples]
    scores = out_of_fold_scores(examples, counts, fold_of)
    if lexicon_categories is not None:
        lexicon_hits = [
            hit and lexicon_stands(cats, score)
            for hit, cats, score in zip(lexicon_hits, lexicon_categories, scores, strict=True)
        ]
    threshold = recall_first_threshold(flags, lexicon_hits, scores, target)
    model_fired = [s >= threshold for s in scores]
    both = [m or h for m, h in zip(model_fired, lexicon_hits, strict=True)]
    recall, fpr = _rates(flags, model_fired)
    both_recall, both_fpr = _rates(flags, both)
    return threshold, {
        "cv_recall": recall,
        "cv_false_positive_rate": fpr,
        "cv_combined_recall": both_recall,
        "cv_combined_false_positive_rate": both_fpr,
    }


def train_model(root: Path | None = None) -> dict[str, Any]:
    """Train on every labelled message and return the model as plain data (see `dumps`)."""
    lexicon = Lexicon.from_file(default_lexicon_path())
    return train_examples(load_labelled(root, lexicon), concepts_of(lexicon), lexicon)


def train_examples(
    examples: list[Example], concepts: Concepts, lexicon: Lexicon | None = None, *,
    fold_of: list[int] | None = None, target: float = TARGET_RECALL, model_id: str = "safeguarding_model",
    recipe_extra: tuple[object, ...] = RECIPE,
) -> dict[str, Any]:
    """Train on these examples (in this order) and return the model as plain data. With a lexicon the threshold
    is set for the two detectors together (see TARGET_RECALL); without one, for the model alone. `fold_of` and
    `target` change how the threshold is chosen (the other-languages model, admin/risk_training_languages.py)."""
    counts = [features(tokens(ex.text), concepts) for ex in examples]
    verdicts = [assess_lexicon(ex.text, lexicon) if lexicon else None for ex in examples]
    hits = [bool(v and v.flagged) for v in verdicts]
    lexicon_categories = [v.categories if v else () for v in verdicts] if lexicon else None
    threshold, cv = _threshold(examples, counts, hits, fold_of, target, lexicon_categories)
    names, idf = _vocabulary(counts)
    x = _matrix(counts, names, idf)
    model = _fit(x, [int(ex.flag) for ex in examples])
    weights = model.coef_[0]
    feats = {f: [round(idf[f], DIGITS), round(float(w), DIGITS)] for f, w in zip(names, weights, strict=True)}

    flagged = [i for i, ex in enumerate(examples) if ex.flag and ex.category]
    cat_names = sorted({examples[i].category for i in flagged if examples[i].category})
    from sklearn.linear_model import LogisticRegression

    cat_model = LogisticRegression(C=C, solver="lbfgs", max_iter=2000)
    cat_model.fit(x[flagged], [examples[i].category for i in flagged])
    assert list(cat_model.classes_) == cat_names
    cat_weights: dict[str, list[float]] = {}
    for j, f in enumerate(names):
        row = [round(float(cat_model.coef_[k][j]), DIGITS - 2) for k in range(len(cat_names))]
        if any(abs(v) >= 0.05 for v in row):
            cat_weights[f] = row
    return {
        "schema_version": 1,
        "id": model_id,
        "featurizer": FEATURIZER,
        "data_digest": data_digest(examples, concepts, hits, recipe_extra),
        "trained_on": {
            "flag": sum(ex.flag for ex in examples),
            "not_flag": sum(not ex.flag for ex in examples),
            **cv,
        },
        "threshold": threshold,
        "bias": round(float(model.intercept_[0]), DIGITS),
        "concepts": concepts.as_data(),
        "features": feats,
        "categories": {
            "names": cat_names,
            "bias": [round(float(b), DIGITS - 2) for b in cat_model.intercept_],
            "weights": cat_weights,
        },
    }


def dumps(model: dict[str, Any]) -> str:
    """The model as JSON with one feature per line, so a change to it reads well in a diff."""
    head = {k: v for k, v in model.items() if k not in ("features", "categories", "concepts")}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)},")
    concepts = model["concepts"]
    lines.append('  "concepts": {')
    parts = []
    for part in ("words", "prefixes", "expand"):
        rows = [f"      {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in concepts[part].items()]
        parts.append(f'    "{part}": {{\n' + ",\n".join(rows) + "\n    }")
    lines.append(",\n".join(parts))
    lines.append("  },")
    cats = model["categories"]
    lines.append('  "categories": {')
    lines.append(f'    "names": {json.dumps(cats["names"])},')
    lines.append(f'    "bias": {json.dumps(cats["bias"])},')
    lines.append('    "weights": {')
    rows = [f"      {json.dumps(f, ensure_ascii=False)}: {json.dumps(w)}" for f, w in sorted(cats["weights"].items())]
    lines.append(",\n".join(rows))
    lines.append("    }")
    lines.append("  },")
    lines.append('  "features": {')
    rows = [f"    {json.dumps(f, ensure_ascii=False)}: {json.dumps(v)}" for f, v in sorted(model["features"].items())]
    lines.append(",\n".join(rows))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


RETRAIN = "run `ourvoice safeguarding train`"


def stale_reason(model_path: Path, root: Path | None = None) -> str | None:
    """Why the stored model does not match the labelled data (None when it does)."""
    try:
        stored = json.loads(model_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{model_path}: cannot be read ({exc.__class__.__name__})"
    if stored.get("featurizer") != FEATURIZER:
        return f"{model_path}: built with another feature recipe; " + RETRAIN
    if stored.get("data_digest") != data_digest(load_labelled(root)):
        return f"{model_path}: stale (the labelled data changed since it was trained); " + RETRAIN
    return None

