"""The council as data (issue 21 item 7): a second, fictional council's file runs a journey and a report with no
code change. The council is read once per process, as a deployment reads it, so the journey runs in a fresh
interpreter (tests/admin/second_council_journey.py) with only OURVOICE_COUNCIL_FILE changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BORSETSHIRE = Path(__file__).parent / "councils" / "borsetshire.yaml"


def journey(tmp: Path, council_file: Path | None, district: str, council: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OURVOICE_COUNCIL_FILE"}
    env["OURVOICE_DEMO"] = "true"
    if council_file is not None:
        env["OURVOICE_COUNCIL_FILE"] = str(council_file)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.admin.second_council_journey", str(tmp), district, council],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = json.loads((tmp / "facts.json").read_text(encoding="utf-8"))
    return {"replies": "\n".join(facts["replies"]), "report": facts["report"]}


def test_a_second_council_runs_a_journey_and_a_report_without_code_changes(tmp_path: Path) -> None:
    facts = journey(tmp_path, BORSETSHIRE, "hollerton", "young_voices")
    # The safe reply gives that council's duty team and numbers, from its file.
    assert "Borsetshire children's duty team on 01632 960 000 (01632 960 001 out of hours)" in facts["replies"]
    assert "03000 41" not in facts["replies"]
    report = facts["report"]
    assert "the Young Voices has no members aged 16 to 25" in report  # its structural zeros, its names
    assert "4.0" in report  # six young people's check-ins in Hollerton made it into the report
    for kent in ("Super Council", "OCYPC", "Kent", "Thanet"):
        assert kent not in report


def test_an_unknown_district_of_the_other_council_is_refused(tmp_path: Path) -> None:
    """Kent's districts mean nothing to Borsetshire's deployment: an invite for one is refused, not stored."""
    env = {**os.environ, "OURVOICE_DEMO": "true", "OURVOICE_COUNCIL_FILE": str(BORSETSHIRE)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.admin.second_council_journey", str(tmp_path), "thanet", "young_voices"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode != 0 and "district must be one of felpersham, hollerton, ambridge_vale" in proc.stderr
