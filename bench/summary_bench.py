"""Participation summary over N answers: our aggregation next to the same aggregation as ONE raw SQL query.

For each size: seed a fresh SQLite file through the bulk path and run the nightly roll-up once (timed on its
own: it keeps the monthly roll-ups the wellbeing trend reads). Then, in the same run, time
(a) the summary aggregation the Panel update does at report time: the period's roll-up (INSERT ... SELECT of
    people and answers per flow/question/choice/council/band/district, and people heard), people heard in
    the previous period, the monthly trend, quotes, disclosure control and the document model (no rendering);
(b) the same aggregates as ONE raw sqlite3 statement (choice counts UNION ALL people heard now and before),
and, for reference, (c) the choice counts alone. Timings are the best of three interleaved runs; peak Python
memory of (a) comes from tracemalloc in a separate run.
"""

from __future__ import annotations

import gc
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

from admin.jobs.rollup import nightly
from admin.reports import catalog, ocypc, synthetic
from admin.reports.settings import ReportSettings
from content.loader import load_library
from storage.db import make_engine, session
from storage.migrate import create_missing_tables, upgrade

SINCE = datetime(2026, 6, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
REPORT_FROM, REPORT_TO = date(2026, 7, 1), date(2026, 9, 30)  # reports cover fixed periods only (a quarter)
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
REPEAT = 3

CHOICES_SQL = """
SELECT 'choice', ac.flow_id, ac.question_id, ac.choice, COALESCE(s.council, ''), COALESCE(ac.band, ''),
       COALESCE(ac.district, ''), COUNT(DISTINCT COALESCE(s.participant_id, -s.id)), COUNT(*)
FROM answer_choice AS ac JOIN submission AS s ON s.id = ac.submission_id
WHERE ac.answered_at >= :start AND ac.answered_at < :end
  AND ac.answer_id NOT IN (SELECT id FROM answer WHERE quarantined = 1)
GROUP BY COALESCE(s.council, ''), ac.flow_id, ac.question_id, ac.choice, COALESCE(ac.band, ''),
         COALESCE(ac.district, '')
"""
REACH_SQL = """
SELECT '{kind}', COALESCE(p.audience, s.audience, ''), COALESCE(p.council, s.council, ''),
       COALESCE(p.band, s.band, ''), COALESCE(p.district, s.district, ''), NULL, NULL,
       COUNT(DISTINCT COALESCE(s.participant_id, -s.id)), NULL
FROM submission AS s LEFT JOIN participant AS p ON p.id = s.participant_id
WHERE s.flow_id IN ({flows}) AND s.started_at < :{end}
  AND (s.completed_at IS NULL OR s.completed_at >= :{start})
  AND EXISTS (SELECT 1 FROM answer AS a WHERE a.submission_id = s.id)
GROUP BY 2, 3, 4, 5
"""


def raw_sql(flows: list[str]) -> str:
    """Every aggregate the summary takes from answers, as one statement."""
    listed = ", ".join(f"'{f}'" for f in flows)  # content ids: [a-z0-9_] only
    return " UNION ALL ".join(
        [
            CHOICES_SQL,
            REACH_SQL.format(kind="reach_now", flows=listed, start="start", end="end"),
            REACH_SQL.format(kind="reach_before", flows=listed, start="pstart", end="pend"),
        ]
    )


def _summary(engine, library, settings: ReportSettings) -> ocypc.OcypcSummary:
    with session(engine) as s:
        return ocypc.build(
            s, library, since=REPORT_FROM, until=REPORT_TO, now=NOW, settings=settings, charts_on=False
        )


def _params(settings: ReportSettings) -> dict[str, str]:
    w = ocypc.Window(REPORT_FROM, REPORT_TO)
    (start, end), (pstart, pend) = w.bounds(settings.timezone), w.previous().bounds(settings.timezone)
    fmt = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores times on SQLite
    times = {"start": start, "end": end, "pstart": pstart, "pend": pend}
    return {k: v.strftime(fmt) for k, v in times.items()}


def _raw(path: Path, sql: str, params: dict[str, str]) -> tuple[float, int]:
    con = sqlite3.connect(path)
    try:
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        return time.perf_counter() - t, len(rows)
    finally:
        con.close()


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def one_size(n: int, workdir: Path, library, settings: ReportSettings) -> dict:
    path = workdir / f"summary_{n}.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    engine = make_engine(url)
    specs = synthetic.specs_from_library(library)
    t = time.perf_counter()
    with session(engine) as s:
        seeded = synthetic.seed(
            s, specs, people=10_000_000, seed=7, since=SINCE, until=UNTIL, now=NOW, max_answers=n
        )
    seed_s = time.perf_counter() - t
    with sqlite3.connect(path) as con:
        con.execute("ANALYZE")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rt = SimpleNamespace(engine=engine, library=library, report_settings=settings)
    nightly_s = _timed(lambda: nightly(rt, now=NOW))
    full_sql = raw_sql(catalog.reach_flows(library))
    params = _params(settings)
    summary = _summary(engine, library, settings)  # warm the page cache, as the raw queries will find it
    # Interleaved, best of three each: a busy machine then slows both sides alike.
    runs = [
        (
            _timed(lambda: _summary(engine, library, settings)),
            _raw(path, full_sql, params)[0],
            _raw(path, CHOICES_SQL, params)[0],
        )
        for _ in range(REPEAT)
    ]
    ours_s, raw_s, choices_s = (min(r[i] for r in runs) for i in range(3))
    gc.collect()
    tracemalloc.start()
    _summary(engine, library, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return {
        "answers": seeded.answers,
        "answer_choices": seeded.choices,
        "people": seeded.participants,
        "seed_s": round(seed_s, 2),
        "nightly_rollup_first_run_s": round(nightly_s, 2),
        "summary_s": round(ours_s, 3),
        "raw_sql_s": round(raw_s, 3),
        "ratio": round(ours_s / raw_s, 2) if raw_s else None,
        "raw_choice_counts_only_s": round(choices_s, 3),
        "tables_checked": summary.log.tables,
        "summary_peak_python_mb": round(peak / 1e6, 1),
    }


def run(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> dict:
    """Seed each size into a fresh SQLite file and time the summary against one raw SQL query."""
    library = load_library()
    settings = ReportSettings(_env_file=None)  # type: ignore[call-arg]
    out: dict = {"sizes": {}}
    with tempfile.TemporaryDirectory(prefix="ourvoice-summary-") as tmp:
        for n in sizes:
            out["sizes"][str(n)] = one_size(n, Path(tmp), library, settings)
    if len(sizes) >= 2:
        a, b = out["sizes"][str(sizes[0])], out["sizes"][str(sizes[-1])]
        out["growth"] = {
            "answers_x": round(b["answers"] / a["answers"], 1),
            "summary_x": round(b["summary_s"] / a["summary_s"], 1),
            "raw_sql_x": round(b["raw_sql_s"] / a["raw_sql_s"], 1),
        }
    out["ratio_at_largest"] = out["sizes"][str(sizes[-1])]["ratio"]
    out["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


if __name__ == "__main__":
    import json
    import sys

    chosen = tuple(int(x) for x in sys.argv[1:]) or (100_000, 1_000_000)
    print(json.dumps(run(chosen), indent=2))
