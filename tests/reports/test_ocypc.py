"""The OCYPC update on seeded data: PDF pages have ink, charts never repeat a table, nothing small or quarantined
(the paper's outline is checked in test_paper.py)."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pypdfium2
import pytest

from admin.reports import ocypc, registry
from storage import quotes as quote_store
from storage import submissions
from storage.db import make_engine, session
from storage.models import Participant
from tests.reports.conftest import FROM, NOW, TO, close_first_wave, frozen_library, report_settings


@pytest.fixture
def db(seeded_db: str, tmp_path: Path) -> str:
    """A private copy of the seeded database (reports write roll-ups and audit rows)."""
    src = Path(seeded_db.split("///", 1)[1])
    dst = tmp_path / "copy.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


def produce(url: str, tmp_path: Path, report: str, fmt: str, **kw: object) -> registry.Produced:
    engine = make_engine(url)
    try:
        with session(engine) as s:
            return registry.produce(
                report,
                s,
                frozen_library(),
                since=FROM,
                until=TO,
                now=NOW,
                settings=report_settings(tmp_path),
                fmt=fmt,
                **kw,
            )
    finally:
        engine.dispose()


def test_pdf_renders_and_every_page_has_ink(db: str, tmp_path: Path) -> None:
    out = produce(db, tmp_path, "ocypc", "pdf", meeting=TO + timedelta(days=10))
    assert out.data.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(out.data)
    assert len(pdf) >= 2
    for i in range(len(pdf)):
        image = pdf[i].render(scale=0.5).to_pil().convert("L")
        lo, hi = image.getextrema()
        assert lo < 128 < hi, f"page {i + 1} looks blank"
        dark = sum(image.histogram()[:200])
        assert dark > 200, f"page {i + 1} has almost no ink"
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Corporate Parenting Panel update" in text
    assert "How we kept everyone" in text


def test_html_charts_never_repeat_a_table(db: str, tmp_path: Path) -> None:
    """One chart: the wellbeing months, whose table then gives only the period against the one before (a bar
    chart of each question's table said the same numbers twice)."""
    html = produce(db, tmp_path, "ocypc", "html").data.decode()
    assert html.count('src="data:image/svg+xml;base64,') == 1
    assert "Line chart of average wellbeing scores by month" in html
    feeling = html.split("How young people are feeling", 1)[1].split("</section>", 1)[0]
    assert "<th>Jul 2026</th>" not in feeling
    assert "<script" not in html


def test_young_people_version_is_one_page_per_band(db: str, tmp_path: Path) -> None:
    out = produce(db, tmp_path, "young-people", "pdf")
    assert len(pypdfium2.PdfDocument(out.data)) == 3
    md = produce(db, tmp_path, "young-people", "md", bands=["junior"]).data.decode()
    assert "aged 7 to 11" in md
    assert "aged 11 to 16" not in md


def _numbers_in_tables(md: str) -> list[int]:
    nums = []
    for line in md.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            for cell in line.strip("|").split("|")[1:]:
                cell = cell.strip().strip("*").replace(",", "")
                if cell.isdigit():
                    nums.append(int(cell))
    return nums


def test_no_published_count_is_under_five(db: str, tmp_path: Path) -> None:
    md = produce(db, tmp_path, "ocypc", "md").data.decode()
    nums = _numbers_in_tables(md)
    assert nums, "expected some tables"
    assert min(nums) >= 5
    assert "not shown" in md
    assert "fewer than 5" not in md.split("How we kept everyone", 1)[0]  # one label for every hidden count
    for m in re.finditer(r"(\d+) of you", produce(db, tmp_path, "young-people", "md").data.decode()):
        assert int(m.group(1)) >= 5


def test_quarantined_text_never_appears(db: str, tmp_path: Path) -> None:
    """A consented free-text answer later held back by safeguarding: not a quote, not in any output."""
    secret = "Zebra-quarantine-marker said something worrying"
    engine = make_engine(db)
    with session(engine) as s:
        person = s.get(Participant, 1)
        assert person is not None
        sub = submissions.get_or_start(s, person, "good_foster_carer", 99, now=NOW - timedelta(days=20))
        submissions.put_answer(
            s,
            sub,
            "share_words",
            "yes",
            skipped=False,
            free_text=False,
            quarantined=False,
            now=NOW - timedelta(days=20),
        )
        ans = submissions.put_answer(
            s,
            sub,
            "anything_else",
            secret,
            skipped=False,
            free_text=True,
            quarantined=False,
            now=NOW - timedelta(days=20),
        )
        # Approved before the safeguarding flag arrived: the worst case.
        q = quote_store.add(
            s,
            answer_id=ans.id,
            flow_id="good_foster_carer",
            question_id="anything_else",
            band=person.band,
            scrubbed_text=secret,
            answered_at=NOW - timedelta(days=20),
            now=NOW,
        )
        quote_store.decide(s, q.id, status="approved", by="tester", now=NOW)
    with session(engine) as s:
        assert any(v.id == q.id for v in quote_store.approved(s, since=NOW - timedelta(days=90), until=NOW))
        ans.quarantined = True
        s.add(ans)
        submissions.put_answer(
            s,
            sub,
            "qualities",
            ["listens"],
            skipped=False,
            free_text=False,
            quarantined=True,
            now=NOW - timedelta(days=20),
        )
    engine.dispose()
    for report, fmt in (("ocypc", "md"), ("ocypc", "html"), ("young-people", "md")):
        data = produce(db, tmp_path, report, fmt).data.decode()
        assert "Zebra" not in data, (report, fmt)
    engine = make_engine(db)
    with session(engine) as s:
        assert all(v.id != q.id for v in quote_store.list_quotes(s, status=None, limit=10_000))
    engine.dispose()


def test_rules_applied_are_listed(db: str, tmp_path: Path) -> None:
    md = produce(db, tmp_path, "ocypc", "md").data.decode()
    rules = md.split("How we kept everyone's information safe", 1)[1]
    for phrase in (
        "fewer than 5",
        "linear-programming",
        "fixed periods",
        "safeguarding check",
        "member of staff",
        "ratings are not given",
        "Averages and \u201cmost of you said\u201d sentences are given only when 5 or more different",
    ):
        assert phrase in rules, phrase


def test_a_period_with_no_cards_or_good_news_says_so_plainly(db: str, tmp_path: Path) -> None:
    """With no card and no good news in the period, the cards section says so in a sentence and the good news
    section is left out (a heading over nothing), on a copy of the test data with both removed."""
    import shutil

    from sqlalchemy import delete

    from storage.models import (
        CardEvent,
        CardListing,
        CardNotice,
        CardResolution,
        CardSupporter,
        ChallengeCard,
        GoodNews,
    )

    copy = tmp_path / "empty.db"
    shutil.copy(db.split("///", 1)[1], copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with session(engine) as s:
        for table in (CardNotice, CardResolution, CardListing, CardEvent, CardSupporter, ChallengeCard, GoodNews):
            s.execute(delete(table))
    engine.dispose()
    md = produce(url, tmp_path, "ocypc", "md").data.decode()
    assert "No cards were raised or worked on in this period." in md
    assert not re.search(r"^## \d+\. Good news", md, flags=re.M)
    assert re.search(r"^## \d+\. Good news", produce(db, tmp_path, "ocypc", "md").data.decode(), flags=re.M)


@pytest.mark.parametrize(
    ("rate", "denominator", "expected"),
    [
        (0.40, 20, "green"),
        (0.55, 20, "green"),
        (0.39, 20, "amber"),
        (0.23, 20, "amber"),
        (0.22, 20, "red"),
        (0.9, 4, ""),
        (None, 0, ""),
    ],
)
def test_rag_follows_the_scorecard_rules(rate: float | None, denominator: int, expected: str) -> None:
    assert ocypc.rag_status(rate, target=0.40, floor=0.23, denominator=denominator) == expected


@pytest.mark.parametrize(
    ("done", "invited", "expected"),
    [(None, 6, ""), (None, 5, ""), (5, None, ""), (5, 10, "green"), (5, 15, "amber"), (5, 30, "red")],
)
def test_rating_uses_only_published_figures(done: int | None, invited: int | None, expected: str) -> None:
    # With 2 of 6 replying, the count is hidden; a colour would tell a reader it was exactly 2.
    assert ocypc.published_rating(done, invited, target=0.40, floor=0.23) == expected


def test_carers_wave_shows_rates_by_area_with_rag(db: str, tmp_path: Path) -> None:
    close_first_wave(db, date(2026, 9, 30))  # a wave has figures in the paper of the period it closed in
    md = produce(db, tmp_path, "ocypc", "md").data.decode()
    section = md.split("Carers' voice", 1)[1]
    assert "| Area | Response rate | Rating |" in section
    assert re.search(r"\| (Green|Amber|Red) \|", section)
    assert "target" in section
    assert "floor" in section


def test_window_bounds_use_london_midnight(tmp_path: Path) -> None:
    w = ocypc.Window(date(2026, 9, 1), date(2026, 11, 30))
    start, end = w.bounds("Europe/London")
    assert start.isoformat() == "2026-08-31T23:00:00+00:00"  # BST
    assert end.isoformat() == "2026-12-01T00:00:00+00:00"  # GMT
    assert w.between == "between 1 September and 30 November 2026"
    q1 = ocypc.Window(date(2027, 1, 1), date(2027, 3, 31))
    # The previous fixed period, not the same number of days (which would overlap Q4 by two days).
    assert q1.previous(report_settings(tmp_path)) == ocypc.Window(date(2026, 10, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("since", "until"), [(FROM, TO), (date(2026, 10, 1), date(2026, 10, 31))], ids=["quarter", "month"]
)
def test_a_quote_names_its_age_band_only_where_that_bands_count_is_published(
    db: str, tmp_path: Path, since: date, until: date
) -> None:
    """Issue 19, F1b: "(7-11)" under a quote says at least one young person of that age took part, so it is shown
    only where the topic's count for that band is published (good news: where the band's people heard is).
    In the seeded quarter the topic's took-part figures by band are hidden (with the quarter's Responses pages they
    would narrow a hidden figure: see test_the_update_prints_shared_figures_as_the_responses_pages_do), so no quote
    there carries its band. A month paper shows the last whole quarter's answers and quotes (issue 19, re-audit
    leak 1), with the same labels."""
    hidden = ocypc.QuoteLine("we made a film", "7-11", "junior")
    assert ocypc._band_if_published(hidden, {"junior": None}).band == ""
    assert ocypc._band_if_published(hidden, {"junior": 12}).band == "7-11"
    assert ocypc._band_if_published(hidden, {"junior": None}).band_key == "junior"  # the pages still sort by it
    engine = make_engine(db)
    try:
        with session(engine) as s:
            summary = ocypc.build(s, frozen_library(), since=since, until=until, now=NOW,
                                  settings=report_settings(tmp_path))
    finally:
        engine.dispose()
    labelled = 0
    for t in summary.topics:
        assert t.base.protected is not None
        took = dict(zip(t.base.col_keys, t.base.protected.cells[0], strict=False))
        for lines in t.quotes.values():
            for line in lines:
                if line.band and line.band_key in ocypc.YOUNG_BANDS:
                    labelled += 1
                    assert took.get(line.band_key) is not None, (t.title, line)
    heard = dict(zip(summary.headline.young_now.col_keys, summary.headline.young_now.protected.col_totals or [],
                     strict=False))
    for g in summary.good_news:
        if g.band:
            assert heard.get(g.band_key) is not None
    assert any(lines for t in summary.topics for lines in t.quotes.values()), "the seed should have quotes"
