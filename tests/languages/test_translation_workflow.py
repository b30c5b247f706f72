"""The translation workflow (issue 24 item 2): status per language, PO export and import via Babel."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po
from typer.testing import CliRunner

from admin.cli import app
from content.loader import load_library
from content.translations import SAFETY_CRITICAL, load_translations, source_hash, translation_status


def test_status_prints_each_language_with_totals() -> None:
    out = CliRunner().invoke(app, ["content", "translations", "status"])
    assert out.exit_code == 0, out.output
    for name in ("Arabic (ar)", "Pashto (ps)", "Dari (fa-AF)", "Tigrinya (ti)", "Kurdish (Sorani) (ckb)", "Albanian (sq)", "Vietnamese (vi)"):
        assert name in out.output
    assert "demo only" in out.output and "  yes" not in out.output  # drafts are not offered


def test_every_offered_language_has_a_current_draft_of_every_safety_critical_string() -> None:
    english = load_library().strings.messages
    for locale in ("ar", "ps", "fa-AF", "ti", "ckb", "sq", "vi"):
        st = translation_status(english, locale)
        assert not set(SAFETY_CRITICAL) & set(st.missing) and st.stale == 0, locale
        assert not st.safety_reviewed  # drafts only


def test_a_changed_english_string_makes_its_translation_stale() -> None:
    english = dict(load_library().strings.messages)
    english["safe_reply_short"] = {"default": "Changed wording {emergency}"}
    st = translation_status(english, "vi")
    assert st.stale_keys == ("safe_reply_short",)


def test_po_round_trip_marks_reviewed_entries_with_who(tmp_path: Path) -> None:
    runner = CliRunner()
    po = tmp_path / "sq.po"
    out = runner.invoke(app, ["content", "translations", "export", "sq", "--out", str(po)])
    assert out.exit_code == 0, out.output
    with po.open("rb") as fh:
        catalog = read_po(fh)
    entry = next(m for m in catalog if m.context == "safe_reply_short|default")
    assert entry.fuzzy and entry.string.startswith("Faleminderit")  # a draft is fuzzy for the translator
    entry.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog)
    root = tmp_path / "content"
    (root / "strings").mkdir(parents=True)
    shutil.copy(Path("content/strings/sq.yaml"), root / "strings" / "sq.yaml")
    out = runner.invoke(app, ["content", "translations", "import", "sq", str(po), "--reviewed-by", "A. Translator", "--root", str(root)])
    assert out.exit_code == 0, out.output
    data = yaml.safe_load((root / "strings" / "sq.yaml").read_text(encoding="utf-8"))
    short = data["messages"]["safe_reply_short"]
    assert short["status"] == "reviewed" and short["reviewed_by"] == "A. Translator"
    assert data["messages"]["safe_reply"]["status"] == "draft"  # still fuzzy: stays draft
    english = load_library().strings.messages
    assert short["source"] == source_hash(english["safe_reply_short"])
    assert load_translations()["sq"].messages["safe_reply_short"].status == "draft"  # the repo's copy untouched


def test_staff_preview_any_flow_in_any_language_and_band() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["content", "preview", "welcome", "--language", "ar", "--band", "junior"])
    assert out.exit_code == 0, out.output
    assert "draft translation" in out.output and "who.text: أيّ واحد من هؤلاء أنت؟" in out.output
    assert "title: Welcome  [English: not translated]" in out.output
    english = runner.invoke(app, ["content", "preview", "good_foster_carer", "--band", "junior"])
    assert "What makes a great foster carer?" in english.output  # the 7-11 wording
    assert runner.invoke(app, ["content", "preview", "nope"]).exit_code == 1
