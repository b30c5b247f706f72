"""The Panel paper as a PDF for N people with a year of answers, against rendering the same HTML alone.

Seeds a fresh SQLite file (N synthetic people over twelve months, through the bulk path), runs the nightly
roll-up, then times, best of REPEAT interleaved runs:
(a) the whole PDF as `ourvoice report ocypc --format pdf` makes it: build (roll-up of the period, disclosure
    control, document model), HTML, WeasyPrint; once cold (the first in the process) and then again, when the
    period's solved disclosure problems are answered from memory (disclosure.SOLVED), as for the Panel job's
    second and third formats or a second download;
(b) the parts of (a): the build alone, the HTML template alone, and WeasyPrint on that same HTML alone.
The ratio is (a) over WeasyPrint alone: how much more than drawing the PDF the whole paper costs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from admin.reports import ocypc, synthetic
from admin.reports.render import html_to_pdf, render_text
from admin.reports.settings import ReportSettings
from content.loader import load_library
from storage.db import make_engine, session
from storage.migrate import create_missing_tables, upgrade

SINCE = datetime(2025, 10, 1, tzinfo=UTC)
UNTIL = datetime(2026, 10, 1, tzinfo=UTC)
REPORT_FROM, REPORT_TO = date(2026, 7, 1), date(2026, 9, 30)
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
REPEAT = 2


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(people: int = 10_000) -> dict:
    library = load_library()
    settings = ReportSettings(_env_file=None)  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory(prefix="ourvoice-paper-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'paper.db'}"
        upgrade(url)
        create_missing_tables(url)
        engine = make_engine(url)
        t = time.perf_counter()
        with session(engine) as s:
            seeded = synthetic.seed(s, synthetic.specs_from_library(library), people=people, seed=11, since=SINCE,
                                    until=UNTIL, now=NOW)
        seed_s = time.perf_counter() - t

        def build() -> ocypc.OcypcSummary:
            with session(engine) as s:
                return ocypc.build(s, library, since=REPORT_FROM, until=REPORT_TO, now=NOW, settings=settings)

        # Cold: the first PDF in a fresh process (rolls the period up and solves its disclosure problem).
        cpu = time.process_time()
        cold_build_s, cold = _timed(build)
        cold_build_cpu = time.process_time() - cpu
        cold_rest_s, _ = _timed(lambda: html_to_pdf(render_text("ocypc", "html", s=cold)))
        cold_s = cold_build_s + cold_rest_s
        runs = []
        for _ in range(REPEAT):
            whole_s, pdf = _timed(lambda: html_to_pdf(render_text("ocypc", "html", s=build())))
            build_s, summary = _timed(build)
            html_s, html = _timed(lambda summary=summary: render_text("ocypc", "html", s=summary))
            weasy_s, _ = _timed(lambda html=html: html_to_pdf(str(html)))
            runs.append((whole_s, build_s, html_s, weasy_s, len(pdf)))  # type: ignore[arg-type]
        engine.dispose()
    whole, build_b, html_b, weasy, size = (min(r[i] for r in runs) for i in range(5))
    return {
        "people": seeded.participants,
        "answers": seeded.answers,
        "seed_s": round(seed_s, 1),
        "pdf_cold_s": round(cold_s, 2),
        "cold_build_s": round(cold_build_s, 2),
        "cold_build_cpu_s": round(cold_build_cpu, 2),
        "pdf_whole_s": round(whole, 2),
        "build_s": round(build_b, 2),
        "html_template_s": round(html_b, 3),
        "weasyprint_on_same_html_s": round(weasy, 2),
        "ratio_whole_to_weasyprint": round(whole / weasy, 2) if weasy else None,
        "pdf_bytes": size,
    }


if __name__ == "__main__":
    import json
    import logging
    import sys

    logging.disable(logging.WARNING)
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
