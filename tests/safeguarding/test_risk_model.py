"""The statistical detector: stored as data that training reproduces byte for byte, and read safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.cli import app
from admin.risk_training import labelled_dir
from bot.risk_model import WINDOW, RiskModel, cached_model, default_model_path, tokens
from bot.safeguarding import Lexicon, assess, default_lexicon_path

runner = CliRunner()


def test_training_reproduces_the_stored_model_byte_for_byte(tmp_path: Path) -> None:
    """The stored file was written by an earlier `train`: training again, now, gives the same bytes."""
    out = tmp_path / "model.json"
    result = runner.invoke(app, ["safeguarding", "train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == default_model_path().read_bytes(), "stored model is not what training gives"


def test_content_check_refuses_a_stale_model(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(Path(default_model_path()).parents[1], root)
    assert runner.invoke(app, ["content", "check", "--root", str(root)]).exit_code == 0
    extra = root / "safeguarding" / "labelled" / "zz_new.yaml"
    extra.write_text('flag:\n  - {text: "a brand new way of saying it", category: not_safe}\n', encoding="utf-8")
    result = runner.invoke(app, ["content", "check", "--root", str(root)])
    assert result.exit_code == 1
    assert "stale" in result.output


def test_labelled_data_rejects_an_unknown_category(tmp_path: Path) -> None:
    folder = tmp_path / "labelled"
    shutil.copytree(labelled_dir(), folder)
    (folder / "typo.yaml").write_text('flag:\n  - {text: "x y z", category: sucide}\n', encoding="utf-8")
    result = runner.invoke(app, ["safeguarding", "train", "--labelled", str(folder), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "sucide" in result.output


def test_check_reports_detectors_and_score() -> None:
    result = runner.invoke(app, ["safeguarding", "check", "he hits me every night", "my phone died"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["flagged"] and "lexicon" in rows[0]["detectors"] and 0 <= rows[0]["score"] <= 1
    assert not rows[1]["flagged"] and rows[1]["detectors"] == []


def test_a_disclosure_deep_in_a_long_message_is_not_diluted() -> None:
    model = cached_model()
    filler = "we went to the park and then had chips and watched a film and it was a nice day " * 30
    text = filler + " my stepdad hits me and locks me in my room " + filler
    assert len(tokens(text)) > 4 * WINDOW
    assert model.assess(text).fired
    assert not model.assess(filler + filler).fired


def test_obfuscation_is_undone_before_scoring() -> None:
    assert tokens("I w4nt to d1e!!!") == ["i", "want", "to", "die"]
    assert tokens("h\u200be h!ts me") == ["he", "hits", "me"]
    assert tokens("\u0442ired") == ["tired"]


def test_a_model_from_another_recipe_is_refused() -> None:
    data = json.loads(default_model_path().read_text(encoding="utf-8"))
    data["featurizer"] = "something-else"
    with pytest.raises(ValueError, match="something-else"):
        RiskModel(data)


def test_a_broken_model_fails_towards_a_human() -> None:
    lexicon = Lexicon.from_file(default_lexicon_path())
    broken = RiskModel.__new__(RiskModel)  # no weights at all: scoring raises
    verdict = assess("what time is tea", lexicon, broken)
    assert verdict.flagged and verdict.categories == ("unassessed",)
