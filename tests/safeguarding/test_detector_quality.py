"""How well the two detectors, alone and together, separate disclosures from everyday talk.

The bar that matters is the blind sets (tests/safeguarding/fresh/): wording nobody on the team tuned on.
Never train on them; when one has been looked at to improve the detectors, write a new one and say so.
The goal there is recall >= 0.97 with false alarms <= 0.10 for both detectors together, on the messages the check
reads as English (the rest go to a person or to the other-languages model; their own test is below).

Round 6 (2026-12-06/07): blind sets 1-10, each measured while blind (README, "How well it works", keeps their
figures), were folded into training after blind sets 11 and 12 were written to replace them, and the model may
overrule some lexicon hits (bot.safeguarding.lexicon_stands). Two reviews each found disclosures the rule of the
day let pass; each time the rule was narrowed and two new blind sets were written before it was scored: 11 and 12
(first rule), 13 and 14 (second), 15 and 16 (final, scored once, in totals only). Held here: all six together,
15 and 16 together and each alone, 13, 14 and 11 to the goal; set 12 to what it measured (27 of 237 false alarms,
0.114, over the goal). Never lower a bar to pass; the next change to either detector needs a seventeenth set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.risk_model import RiskModel, cached_model
from bot.safeguarding import Lexicon, default_lexicon_path
from tests.safeguarding.quality import (
    BLIND_SETS,
    FRESH_ELEVENTH,
    FRESH_FIFTEENTH,
    FRESH_FOURTEENTH,
    FRESH_SIXTEENTH,
    FRESH_THIRTEENTH,
    FRESH_TWELFTH,
    Score,
    english_rows,
    former_blind_sets,
    fresh_rows,
    score,
    team_holdout_rows,
    tuning_rows,
)

GOAL_RECALL = 0.97
GOAL_FALSE_ALARMS = 0.10


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return cached_model()


@pytest.mark.parametrize("path", BLIND_SETS, ids=lambda p: p.stem)
def test_blind_set_is_big_enough(path: Path) -> None:
    rows = fresh_rows(path)
    assert sum(must for _, must, _ in rows) >= 150
    assert sum(not must for _, must, _ in rows) >= 150


def _english(paths: tuple[Path, ...], lexicon: Lexicon, model: RiskModel) -> Score:
    return score([r for path in paths for r in english_rows(fresh_rows(path))], lexicon, model, live=False)


@pytest.mark.parametrize(
    "paths",
    [BLIND_SETS, (FRESH_FIFTEENTH, FRESH_SIXTEENTH), (FRESH_FIFTEENTH,), (FRESH_SIXTEENTH,), (FRESH_THIRTEENTH,),
     (FRESH_FOURTEENTH,), (FRESH_ELEVENTH,)],
    ids=["sets 11-16", "sets 15 and 16", "set 15", "set 16", "set 13", "set 14", "set 11"],
)
def test_blind_sets_meet_the_goal_in_english(paths: tuple[Path, ...], lexicon: Lexicon, model: RiskModel) -> None:
    """Scored with the final models of round 6 (sets 15 and 16 once): sets 11-16 1,293 of 1,305 disclosures (0.991)
    and 115 of 1,420 everyday messages (0.081); 15: 216 / 218 and 14 / 235; 16: 214 / 218 and 16 / 238; 13: 214 /
    218 and 22 / 238; 14: 215 / 216 and 19 / 235; 11: 218 / 219 and 17 / 237."""
    s = _english(paths, lexicon, model)
    assert s.recall("combined") >= GOAL_RECALL, f"{len(s.missed)} English disclosures missed"
    assert s.fpr("combined") <= GOAL_FALSE_ALARMS, f"{len(s.false_alarms)} English false alarms"


def test_the_twelfth_blind_set_holds_what_it_measured_in_english(lexicon: Lexicon, model: RiskModel) -> None:
    """216 of 216 (1.000) and 27 of 237 everyday messages (0.114): over the false-alarm goal (24 with round 6's
    first rule, before the review narrowed it)."""
    s = _english((FRESH_TWELFTH,), lexicon, model)
    assert s.recall("combined") >= GOAL_RECALL, f"{len(s.missed)} English disclosures missed"
    assert s.alarms["combined"] <= 27, f"{len(s.false_alarms)} English false alarms"


# Blind sets 11-16 over all their messages, as the bot reads them (live check): every disclosure in another
# language reaches a person; everyday messages in other languages that the other-languages model cannot vouch for
# go to a person too, so the live false-alarm rate is higher. The English disclosures both detectors miss (1, 0, 4,
# 1, 2 and 4) are the only ones that pass; when they are answers to a question, they are still read in the "To read" queue.
LIVE_ALARMS = {FRESH_ELEVENTH: 38, FRESH_TWELFTH: 51, FRESH_THIRTEENTH: 45, FRESH_FOURTEENTH: 42, FRESH_FIFTEENTH: 36,
               FRESH_SIXTEENTH: 39}
LIVE_CAUGHT = {FRESH_ELEVENTH: 249, FRESH_TWELFTH: 250, FRESH_THIRTEENTH: 246, FRESH_FOURTEENTH: 249,
               FRESH_FIFTEENTH: 248, FRESH_SIXTEENTH: 246}


@pytest.mark.parametrize("path", BLIND_SETS, ids=lambda p: p.stem)
def test_the_live_check_on_the_blind_sets_holds_what_it_measured(
    path: Path, lexicon: Lexicon, model: RiskModel
) -> None:
    s = score(fresh_rows(path), lexicon, model)
    assert s.caught["live"] >= LIVE_CAUGHT[path], f"{s.n_flag - s.caught['live']} disclosures unanswered"
    assert s.alarms["live"] <= LIVE_ALARMS[path]
    read_as_english = set(english_rows(fresh_rows(path)))
    other = [r for r in fresh_rows(path) if r not in read_as_english and r[1]]
    assert other and score(other, lexicon, model).caught["live"] == len(other)  # none in another language unanswered


# The other-languages model on the messages in other languages of blind sets 5-16 (it never trained on them; sets
# 5-10 are training data for the English model only): every disclosure the check sent to a person without it still
# goes, and it lets some everyday messages pass (at most this many still alert; without it, every one would).
OTHER_LANGUAGES_ALARMS = {
    "former_blind_05_2026-12-05": 24, "former_blind_06_2026-12-05": 26, "former_blind_07_2026-12-05": 25,
    "former_blind_08_2026-12-06": 19, "former_blind_09_2026-12-06": 26, "former_blind_10_2026-12-06": 24,
    FRESH_ELEVENTH.stem: 21, FRESH_TWELFTH.stem: 24, FRESH_THIRTEENTH.stem: 23, FRESH_FOURTEENTH.stem: 23,
    FRESH_FIFTEENTH.stem: 22, FRESH_SIXTEENTH.stem: 23,
}  # fmt: skip


def _sets_in_other_languages() -> list[Path]:
    return [p for p in [*former_blind_sets(), *BLIND_SETS] if p.stem in OTHER_LANGUAGES_ALARMS]


@pytest.mark.parametrize("path", _sets_in_other_languages(), ids=lambda p: p.stem)
def test_the_other_languages_model_costs_no_disclosure_and_spares_everyday_messages(
    path: Path, lexicon: Lexicon, model: RiskModel
) -> None:
    rows = fresh_rows(path)
    read_as_english = set(english_rows(rows))
    s = score([r for r in rows if r not in read_as_english], lexicon, model)
    assert s.n_flag and s.caught["live"] == s.caught["live_without"] == s.n_flag, "a disclosure passes"
    assert s.alarms["live"] <= OTHER_LANGUAGES_ALARMS[path.stem] < s.alarms["live_without"]


def test_all_twelve_sets_in_other_languages_are_found() -> None:
    assert len(_sets_in_other_languages()) == len(OTHER_LANGUAGES_ALARMS)


def test_the_former_blind_sets_are_marked_and_trained_on_in_english_only() -> None:
    """The loader keeps a former blind set's English messages by its `former_blind_set` key, and the English
    vocabulary (bot.language_id) leaves the files out by their name: the two must agree."""
    import yaml

    from admin.risk_training import labelled_dir, load_labelled

    marked = {p.name for p in labelled_dir().glob("*.yaml")
              if yaml.safe_load(p.read_text(encoding="utf-8")).get("former_blind_set")}
    assert marked == {p.name for p in former_blind_sets()} and len(marked) == 10
    trained = {ex.text for ex in load_labelled() if ex.source in marked}
    for path in former_blind_sets():
        rows = fresh_rows(path)
        english = {r[0] for r in english_rows(rows)}
        assert english <= trained and not ({r[0] for r in rows} - english) & trained


def test_tuning_set(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(tuning_rows(), lexicon, model, live=False)
    recall, fpr = s.recall("combined"), s.fpr("combined")
    assert recall >= 0.94, recall
    assert fpr <= 0.07, fpr


def test_team_holdout(lexicon: Lexicon, model: RiskModel) -> None:
    s = score(team_holdout_rows(), lexicon, model, live=False)
    assert s.recall("combined") >= 0.95, len(s.missed)
    assert s.fpr("combined") <= 0.10, len(s.false_alarms)


@pytest.mark.parametrize(
    "text",
    ["No", "no", "Mum", "Dad", "yes", "ok", "someone else", "Someone else", "something", "nothing",
     "they listen to me", "Someone who really listens and has time for me", "my nan", "not sure", "idk"],
)
def test_everyday_short_answers_do_not_alert(text: str, lexicon: Lexicon, model: RiskModel) -> None:
    """Short answers carry little evidence; an early model read "No" and "Mum" as worrying."""
    from bot.safeguarding import assess

    assert not assess(text, lexicon, model).flagged
