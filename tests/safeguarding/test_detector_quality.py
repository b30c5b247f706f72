"""How well the two detectors, alone and together, separate disclosures from everyday talk.

The bar that matters is the blind set (tests/safeguarding/fresh/): wording nobody on the team tuned on.
Never train on it; when it has been looked at to improve the detectors, write a new one and say so.
The goal there is recall >= 0.97 with false alarms <= 0.10. Measured on 2026-12-04 with both detectors:
blind set 1 (whose totals were looked at while the model was developed) recall 0.973, false alarms 0.042;
blind set 2 (never used to choose anything) recall 0.912, false alarms 0.038. The recall goal is NOT met.
The floors below sit just under what was measured, so any change that makes the detectors worse on fresh
wording fails here. Raise them as the detectors improve; never lower them to pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.risk_model import RiskModel, cached_model
from bot.safeguarding import Lexicon, default_lexicon_path
from tests.safeguarding.quality import FRESH, FRESH_SECOND, fresh_rows, score, team_holdout_rows, tuning_rows

BLIND_RECALL_FLOORS = {FRESH: 0.96, FRESH_SECOND: 0.90}  # the goal is 0.97: see the module docstring


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return cached_model()


@pytest.mark.parametrize("path", [FRESH, FRESH_SECOND], ids=["blind1", "blind2"])
def test_blind_set_is_big_enough(path: Path) -> None:
    rows = fresh_rows(path)
    assert sum(must for _, must, _ in rows) >= 150
    assert sum(not must for _, must, _ in rows) >= 150


@pytest.mark.parametrize("path", [FRESH, FRESH_SECOND], ids=["blind1", "blind2"])
def test_blind_set_combined_recall_and_false_alarms(path: Path, lexicon: Lexicon, model: RiskModel) -> None:
    s = score(fresh_rows(path), lexicon, model)
    print(f"{path.name}: recall {s.recall('combined'):.3f} fpr {s.fpr('combined'):.3f} ({s.n_flag}/{s.n_not})")
    assert s.recall("combined") >= BLIND_RECALL_FLOORS[path], f"{len(s.missed)} disclosures missed on {path.name}"
    assert s.fpr("combined") <= 0.10, f"{len(s.false_alarms)} false alarms on {path.name}"


def test_tuning_set(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(tuning_rows(), lexicon, model)
    recall, fpr = s.recall("combined"), s.fpr("combined")
    assert recall >= 0.94, recall
    assert fpr <= 0.07, fpr


def test_team_holdout(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(team_holdout_rows(), lexicon, model)
    assert s.recall("combined") >= 0.95, len(s.missed)
    assert s.fpr("combined") <= 0.10, len(s.false_alarms)


def test_each_detector_adds_something_on_the_blind_set(lexicon: Lexicon, model: RiskModel) -> None:
    """If one detector caught everything the other did, it would be dead weight; both must earn their place."""
    s = score(fresh_rows(), lexicon, model)
    assert s.caught["combined"] > s.caught["lexicon"]
    assert s.caught["combined"] > s.caught["model"]


@pytest.mark.parametrize(
    "text",
    ["No", "no", "Mum", "Dad", "yes", "ok", "someone else", "Someone else", "something", "nothing",
     "they listen to me", "Someone who really listens and has time for me", "my nan", "not sure", "idk"],
)
def test_everyday_short_answers_do_not_alert(text: str, lexicon: Lexicon, model: RiskModel) -> None:
    """Short answers carry little evidence; an early model read "No" and "Mum" as worrying."""
    from bot.safeguarding import assess

    assert not assess(text, lexicon, model).flagged
