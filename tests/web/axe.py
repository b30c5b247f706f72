"""axe-core in the browser tests: run it on a Playwright page and list the serious and critical WCAG problems.

The script comes from the axe-playwright-python wheel (axe.min.js, MPL-2.0), so nothing is fetched at test time.
It is evaluated through the DevTools protocol, which a page's Content-Security-Policy does not block.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe's tag names).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


@lru_cache(maxsize=1)
def _script() -> str:
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG A/AA violations on the page as it is now."""
    page.evaluate(_script())
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    result = page.evaluate(f"axe.run(document, {json.dumps(options)})")
    return list(result["violations"])


def serious_violations(page: Any) -> list[str]:
    """One line per serious or critical violation (rule, impact, where), empty when there are none."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations(page)
        if v.get("impact") in BLOCKING
    ]
