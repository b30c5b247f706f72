"""How well the live lexicon separates disclosures from everyday talk, on synthetic phrase files.

must_flag / must_not_flag are the tuning sets. holdout_flag / holdout_not_flag were written after the
lexicon was frozen and never used to tune it; the bar there is lower because it measures fresh wording.
Earlier holdout rounds scored recall 0.706, 0.596, 0.574 and 0.809 and were then moved into the tuning
files (see their "round N" comments), so a failing holdout here means: write a new holdout, don't tune to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safeguarding import Lexicon, assess, default_lexicon_path

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


def read_messages(name: str) -> list[tuple[int, str]]:
    """Non-comment lines with their 1-based line numbers. Split on \\n only: lines hold odd characters."""
    rows = []
    text = HERE.joinpath(name).read_text(encoding="utf-8")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip() and not line.startswith("#"):
            rows.append((number, line))
    return rows


Score = tuple[float, float, list[int], list[int], int, int]  # recall, fpr, missed lines, false alarms, sizes


def score(lexicon: Lexicon, flag_file: str, not_file: str) -> Score:
    flag = read_messages(flag_file)
    not_flag = read_messages(not_file)
    missed = [n for n, text in flag if not assess(text, lexicon).flagged]
    false_alarms = [n for n, text in not_flag if assess(text, lexicon).flagged]
    recall = 1 - len(missed) / len(flag)
    fpr = len(false_alarms) / len(not_flag)
    return recall, fpr, missed, false_alarms, len(flag), len(not_flag)


@pytest.mark.parametrize(
    ("name", "minimum"),
    [
        ("must_flag.txt", 150),
        ("must_not_flag.txt", 150),
        ("holdout_flag.txt", 40),
        ("holdout_not_flag.txt", 40),
    ],
)
def test_phrase_files_are_big_enough(name: str, minimum: int) -> None:
    assert len(read_messages(name)) >= minimum


def test_tuning_sets(lexicon: Lexicon) -> None:
    recall, fpr, missed, false_alarms, n_flag, n_not = score(lexicon, "must_flag.txt", "must_not_flag.txt")
    print(f"recall={recall:.3f} fpr={fpr:.3f} n_flag={n_flag} n_not={n_not}")
    assert recall >= 0.97, f"{len(missed)} disclosures missed, must_flag.txt lines {missed}"
    assert fpr <= 0.10, f"{len(false_alarms)} false alarms, must_not_flag.txt lines {false_alarms}"


def test_holdout_sets(lexicon: Lexicon) -> None:
    recall, fpr, missed, false_alarms, n_flag, n_not = score(
        lexicon, "holdout_flag.txt", "holdout_not_flag.txt"
    )
    print(f"holdout recall={recall:.3f} fpr={fpr:.3f} n_flag={n_flag} n_not={n_not}")
    assert recall >= 0.85, f"{len(missed)} disclosures missed, holdout_flag.txt lines {missed}"
    assert fpr <= 0.15, f"{len(false_alarms)} false alarms, holdout_not_flag.txt lines {false_alarms}"
