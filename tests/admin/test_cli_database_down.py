"""The `ourvoice` command with no database to reach: one plain line and exit code 3, never a traceback
(non-negotiable 3: bad input, and a locked or absent database, get a clear answer)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_an_unreachable_database_gets_one_plain_line(tmp_path: Path) -> None:
    env = {**os.environ, "OURVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}",
           "OURVOICE_STAFF_PASSWORD": "irrelevant-here"}
    done = subprocess.run([sys.executable, "-c", "from admin.cli import main; main()", "survey", "list",
                           "--staff", "someone"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "the database is unavailable: nothing was changed; try again in a moment"
