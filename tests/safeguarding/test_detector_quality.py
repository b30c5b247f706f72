"""How well the two detectors, alone and together, separate disclosures from everyday talk.

The bar that matters is the blind set (tests/safeguarding/fresh/): wording nobody on the team tuned on.
Never train on it; when it has been looked at to improve the detectors, write a new one and say so.
The goal there is recall >= 0.97 with false alarms <= 0.10. Measured on 2026-12-04: recall 0.918, false alarms
0.033, so the goal is NOT met yet; the floors below sit just under what was measured, so any change that makes
the detectors worse on fresh wording fails here. Raise them as the detectors improve; never lower them to pass.
"""

from __future__ import annotations

import pytest

from bot.risk_model import RiskModel, cached_model
from bot.safeguarding import Lexicon, default_lexicon_path
from tests.safeguarding.quality import fresh_rows, score, team_holdout_rows, tuning_rows

BLIND_RECALL_FLOOR = 0.91  # the goal is 0.97: see the module docstring


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return cached_model()


def test_blind_set_is_big_enough() -> None:
    rows = fresh_rows()
    assert sum(must for _, must, _ in rows) >= 150
    assert sum(not must for _, must, _ in rows) >= 150


def test_blind_set_combined_recall_and_false_alarms(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(fresh_rows(), lexicon, model)
    print(f"fresh: recall {s.recall('combined'):.3f} fpr {s.fpr('combined'):.3f} ({s.n_flag}/{s.n_not})")
    assert s.recall("combined") >= BLIND_RECALL_FLOOR, f"{len(s.missed)} disclosures missed on the blind set"
    assert s.fpr("combined") <= 0.10, f"{len(s.false_alarms)} false alarms on the blind set"


def test_tuning_set(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(tuning_rows(), lexicon, model)
    assert s.recall("combined") >= 0.92, len(s.missed)
    assert s.fpr("combined") <= 0.05, len(s.false_alarms)


def test_team_holdout(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(team_holdout_rows(), lexicon, model)
    assert s.recall("combined") >= 0.95, len(s.missed)
    assert s.fpr("combined") <= 0.10, len(s.false_alarms)


def test_each_detector_adds_something_on_the_blind_set(lexicon: Lexicon, model: RiskModel) -> None:
    """If one detector caught everything the other did, it would be dead weight; both must earn their place."""
    s = score(fresh_rows(), lexicon, model)
    assert s.caught["combined"] > s.caught["lexicon"]
    assert s.caught["combined"] > s.caught["model"]
