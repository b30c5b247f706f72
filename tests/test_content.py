"""Content validation: the shipped files load, and broken files are rejected with file, line and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.cli import app
from content.loader import ContentInvalid, load_library

CONTENT = Path(__file__).resolve().parent.parent / "content"

GOOD = """schema_version: 1
id: zz_broken
kind: flow
title: "Broken"
audience: [young_person]
bands: [junior, teen, young_adult]
start: first
nodes:
  - id: first
    type: choice
    text: "Pick"
    choices:
      - {id: a, label: "A"}
    next: done
  - id: done
    type: end
"""


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def errors_for(root: Path, body: str) -> list[str]:
    (root / "flows" / "zz_broken.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ContentInvalid) as info:
        load_library(root)
    return [str(e) for e in info.value.errors]


def test_shipped_content_is_valid() -> None:
    lib = load_library()
    assert {"welcome", "menu_young_person", "menu_carer", "good_foster_carer", "carer_pulse"} <= set(lib.flows)


def test_good_fixture_is_accepted(content_copy: Path) -> None:
    (content_copy / "flows" / "zz_broken.yaml").write_text(GOOD, encoding="utf-8")
    assert "zz_broken" in load_library(content_copy).flows


def test_dangling_branch_target(content_copy: Path) -> None:
    body = GOOD.replace("    next: done\n", "    next: check\n  - id: check\n    type: branch\n    rules:\n"
                        "      - if: {first: [a]}\n        goto: nowhere\n    otherwise: done\n", 1)
    errs = errors_for(content_copy, body)
    assert any("zz_broken.yaml:15:" in e and "branch target 'nowhere' does not exist" in e for e in errs), errs


def test_duplicate_question_id(content_copy: Path) -> None:
    body = GOOD.replace("  - id: done\n", "  - id: first\n    type: say\n    text: hi\n    next: done\n  - id: done\n")
    errs = errors_for(content_copy, body)
    assert any("zz_broken.yaml:15:" in e and "duplicate question id 'first'" in e for e in errs), errs


def test_missing_age_band_text(content_copy: Path) -> None:
    body = GOOD.replace('    text: "Pick"\n', "    text:\n      junior: Pick\n      teen: Pick one\n")
    errs = errors_for(content_copy, body)
    assert any("zz_broken.yaml:9:" in e and "no text for age band 'young_adult'" in e for e in errs), errs


def test_schema_error_points_at_the_line(content_copy: Path) -> None:
    body = GOOD.replace("    type: choice\n", "    type: chioce\n")
    errs = errors_for(content_copy, body)
    assert any("zz_broken.yaml:9:" in e for e in errs), errs


def test_content_check_command(content_copy: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["content", "check", "--root", str(content_copy)])
    assert ok.exit_code == 0 and "content OK" in ok.output
    (content_copy / "flows" / "zz_broken.yaml").write_text(GOOD.replace("next: done", "next: gone"), encoding="utf-8")
    bad = runner.invoke(app, ["content", "check", "--root", str(content_copy)])
    assert bad.exit_code == 1
    assert "zz_broken.yaml:9: next 'gone' does not exist" in bad.output


def test_app_refuses_to_start_on_broken_content(content_copy: Path, tmp_path: Path, sqlite_url: str) -> None:
    from bot.runtime import build_runtime
    from tests.conftest import make_settings

    (content_copy / "flows" / "zz_broken.yaml").write_text(GOOD.replace("next: done", "next: gone"), encoding="utf-8")
    with pytest.raises(ContentInvalid):
        build_runtime(make_settings(sqlite_url, tmp_path, content_dir=str(content_copy)))


def test_invalid_setting_fails_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OURVOICE_PORT", "not-a-port")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("invalid setting OURVOICE_PORT")
