"""The other-languages model (issue 18): stored as data that training reproduces byte for byte, refused when stale,
and used by the live check only for messages not in English, where a quiet verdict lets a message pass only when
the model knows most of its words."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from admin.cli import app
from admin.risk_training import dumps
from admin.risk_training_languages import labelled_dir, model_path, train_languages_model
from bot.language_check import COVERAGE, assess_message
from bot.risk_model import RiskModel, cached_languages_model
from bot.safeguarding import Lexicon, default_lexicon_path

runner = CliRunner()


def test_training_reproduces_the_stored_languages_model_byte_for_byte() -> None:
    assert dumps(train_languages_model()) == model_path().read_text(encoding="utf-8"), (
        "the stored other-languages model is not what training gives: run `ourvoice safeguarding train`"
    )


def test_content_check_refuses_a_stale_languages_model(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(Path(model_path()).parents[2], root)
    assert runner.invoke(app, ["content", "check", "--root", str(root)]).exit_code == 0
    extra = root / "safeguarding" / "languages" / "labelled" / "pl.yaml"
    extra.write_text(extra.read_text(encoding="utf-8").replace("not_flag:\n", 'not_flag:\n  - {text: "nowe zdanie"}\n', 1),
                     encoding="utf-8")
    result = runner.invoke(app, ["content", "check", "--root", str(root)])
    assert result.exit_code == 1
    assert "stale" in result.output and "other languages" in result.output


def test_every_language_file_is_named_for_its_locale_and_trained_on() -> None:
    model = cached_languages_model()
    assert model is not None
    assert list(model.languages) == sorted(p.stem for p in labelled_dir().glob("*.yaml"))
    assert len(model.languages) >= 15


LEXICON = Lexicon.from_file(default_lexicon_path())


def test_a_message_in_a_language_nothing_has_learned_still_goes_to_a_person() -> None:
    """Coverage, not the language's name, decides: words the model never saw cannot be passed on its say-so."""
    text = "Kui ma koju jõuan siis helistan sulle kindlasti homme hommikul"  # Estonian: in no training file
    model = cached_languages_model()
    assert model is not None and model.coverage(text) < COVERAGE
    verdict = assess_message(text, LEXICON)
    assert verdict.flagged and verdict.language != "en"


def test_the_languages_model_lets_known_everyday_words_pass_and_catches_its_disclosures() -> None:
    """On its own training data (not a measure of quality, which the blind sets give): most everyday messages it
    knows pass, and its disclosures flag, so the wiring of the live check is what these figures show."""
    import yaml

    passed = caught = everyday = disclosures = 0
    for path in sorted(labelled_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for row in data["flag"][::10]:
            disclosures += 1
            caught += assess_message(row["text"], LEXICON).flagged
        for row in data["not_flag"][::10]:
            everyday += 1
            passed += not assess_message(row["text"], LEXICON).flagged
    assert caught >= 0.97 * disclosures, f"{disclosures - caught} of its own disclosures not flagged"
    assert passed >= everyday / 3  # recall first: a third at least (0.995 of disclosures out of fold)
    # And without the model, every one of those everyday messages would have gone to a person as unassessed
    # (apart from one- or two-word answers a language lexicon lists as everyday).
    without = sum(
        not assess_message(row["text"], LEXICON, others=False).flagged
        for path in sorted(labelled_dir().glob("*.yaml"))
        for row in yaml.safe_load(path.read_text(encoding="utf-8"))["not_flag"][::10]
    )
    assert without < passed


def test_a_languages_model_that_errors_fails_towards_a_person() -> None:
    class Broken(RiskModel):
        def assess(self, text: str):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    model = cached_languages_model()
    assert model is not None
    broken = Broken.__new__(Broken)
    broken.__dict__.update(model.__dict__)
    import yaml

    # An everyday message (from the Polish training file) that the real model lets pass.
    data = yaml.safe_load((labelled_dir() / "pl.yaml").read_text(encoding="utf-8"))
    passing = [r["text"] for r in data["not_flag"] if len(r["text"].split()) >= 4
               and not assess_message(r["text"], LEXICON).flagged]
    assert passing, "the real model passes none of the Polish everyday messages"
    text = passing[0]
    verdict = assess_message(text, LEXICON, others=broken)
    assert verdict.flagged and verdict.categories == ("unassessed",)
