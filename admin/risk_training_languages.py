"""Builds the other-languages risk model, `content/safeguarding/languages/model.json`, from the labelled messages
in `content/safeguarding/languages/labelled/` (one file per language, each line with its English meaning).

Why a second model rather than more rows in the English one: the English model's threshold is set on English, its
word classes are English, and every English figure in the README was measured with it; adding a few thousand
messages in twenty languages would move all of that. This model reads only messages the check has already
identified as not English (bot/language_check.py), and is trusted on its own only where it knows most of a
message's words (`coverage`); anything else still goes to a person.

How its threshold is chosen differs from the English model's on purpose. The English folds hold out whole files
(each file is one author's wording). Here each file is one language, so holding a file out would measure a language
the model has never seen, which the live check never asks of it (such a message is not covered and goes to a
person). So folds interleave within each file (every fifth message), and to allow for sister sentences by the same
author being on both sides of a fold the recall target is set higher than the English one. The blind sets measure
what that gives on wording nobody tuned on.

Deterministic like the English model: the same files give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from admin.risk_training import CATEGORIES, FOLDS, Example, data_digest, train_examples
from bot.language_check import fold
from bot.risk_model import FEATURIZER, Concepts

TARGET_RECALL = 0.995
"""Out of fold, this share of the other-language disclosures must score at or above the threshold. Chosen on the
development sets only (the multilingual set of 2026-12-05 and blind sets 6 and 7, other-language messages): 0.985
missed 2 of 178 disclosures there and flagged 79 of 135 everyday messages; 0.99 missed 1 and flagged 82; 0.995 missed
none but flagged 101 (without the model, all 135 go to a person). 0.99 shipped first; the suite's own check that
the multilingual set never passes a disclosure silently (tests/languages) then failed on the one it missed ("I don't
want to be here any more, I'm tired of everything", in French text-speak), so 0.995: a miss can cost a child."""


def labelled_dir() -> Path:
    import content

    return Path(content.__file__).parent / "safeguarding" / "languages" / "labelled"


def model_path() -> Path:
    import content

    return Path(content.__file__).parent / "safeguarding" / "languages" / "model.json"


def load_labelled(root: Path | None = None) -> tuple[list[Example], list[str]]:
    """Every labelled message (Arabic-script letters folded as the live check folds them), files by name and
    lines as written, and the locales the files are for.
    Raises ValueError on an unknown category or a file whose locale is not its name."""
    examples: list[Example] = []
    locales: list[str] = []
    for path in sorted((root or labelled_dir()).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("locale") != path.stem:
            raise ValueError(f"{path}: locale {data.get('locale')!r} does not match the file name")
        locales.append(path.stem)
        for row in data.get("flag") or ():
            if row.get("category") not in CATEGORIES:
                raise ValueError(f"{path}: unknown category {row.get('category')!r}")
            examples.append(Example(fold(str(row["text"])), True, row["category"], path.name))
        examples += [Example(fold(str(row["text"])), False, None, path.name) for row in data.get("not_flag") or ()]
    return examples, locales


def interleaved_folds(examples: list[Example]) -> list[int]:
    """Every fifth message of each file in the same fold, counted within the file."""
    seen: dict[str, int] = {}
    out = []
    for ex in examples:
        n = seen.get(ex.source, 0)
        seen[ex.source] = n + 1
        out.append(n % FOLDS)
    return out


RECIPE = ("recall-first, other languages, folds interleaved within each file", TARGET_RECALL)


def train_languages_model(root: Path | None = None) -> dict[str, Any]:
    """Train on every other-language message and return the model as plain data (`risk_training.dumps`)."""
    examples, locales = load_labelled(root)
    if not examples:
        raise ValueError("no labelled messages in other languages")
    model = train_examples(examples, Concepts.empty(), None, fold_of=interleaved_folds(examples),
                           target=TARGET_RECALL, model_id="safeguarding_model_languages", recipe_extra=RECIPE)
    model["languages"] = locales
    return model


def stale_reason(path: Path | None = None, root: Path | None = None) -> str | None:
    """Why the stored other-languages model does not match its labelled data (None when it does)."""
    target = path or model_path()
    try:
        stored = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{target}: cannot be read ({exc.__class__.__name__})"
    if stored.get("featurizer") != FEATURIZER:
        return f"{target}: built with another feature recipe; run `ourvoice safeguarding train`"
    examples, locales = load_labelled(root)
    if stored.get("data_digest") != data_digest(examples, Concepts.empty(), [False] * len(examples), RECIPE) or (
        stored.get("languages") != locales
    ):
        return f"{target}: stale (the labelled messages in other languages changed); run `ourvoice safeguarding train`"
    return None
