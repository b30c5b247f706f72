"""Type-check gate: mypy over the production packages, compared file by file with a recorded baseline.

`bot/engine`, `bot/messages.py`, `storage` and `content` are checked strictly (pyproject's mypy overrides), the rest
with mypy's defaults. A file may never gain errors; when it loses some, run `--update` to record the smaller number so
it cannot creep back. New files start at zero. Run: `python tools/mypy_gate.py` (part of `make test`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tools" / "mypy-baseline.json"
PACKAGES = ["bot", "content", "storage", "admin"]
_ERROR = re.compile(r"^(?P<file>[^:]+\.py):\d+: error: ")


def cache_dir() -> Path:
    """mypy's incremental cache, kept per user outside the checkout (MYPY_CACHE_DIR wins), so a fresh clone (CI
    clones afresh every run) re-checks only what changed: 16 s from cold, about 3 s warm. mypy keys the cache on
    each file's contents, so a stale entry is never used."""
    import os

    return Path(os.environ.get("MYPY_CACHE_DIR") or Path.home() / ".cache" / "ourvoice" / "mypy")


def current() -> Counter[str]:
    """Errors per file, as mypy reports them now."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", *PACKAGES, "--no-error-summary", "--hide-error-context",
         "--cache-dir", str(cache_dir())],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"mypy failed to run:\n{proc.stderr or proc.stdout}")
    counts: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        m = _ERROR.match(line)
        if m:
            counts[m.group("file")] += 1
    return counts


def main(argv: list[str]) -> int:
    now = current()
    if "--update" in argv:
        BASELINE.write_text(json.dumps(dict(sorted(now.items())), indent=1) + "\n", encoding="utf-8")
        print(f"baseline: {sum(now.values())} errors in {len(now)} files")  # noqa: T201
        return 0
    base: dict[str, int] = json.loads(BASELINE.read_text(encoding="utf-8"))
    worse = {f: (base.get(f, 0), n) for f, n in sorted(now.items()) if n > base.get(f, 0)}
    better = {f: (n, now.get(f, 0)) for f, n in sorted(base.items()) if now.get(f, 0) < n}
    for f, (was, is_) in worse.items():
        print(f"{f}: {is_} mypy errors, baseline {was} (run mypy {f} to see them)")  # noqa: T201
    if better:
        print(f"{len(better)} file(s) have fewer errors than the baseline: run `python tools/mypy_gate.py --update`")  # noqa: T201
    print(f"mypy: {sum(now.values())} errors (baseline {sum(base.values())})")  # noqa: T201
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
