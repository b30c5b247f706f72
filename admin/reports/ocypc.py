"""Builds the OCYPC participation update for the Corporate Parenting Panel (and the young people's version).

Reads aggregates only (storage.reporting / rollups) and passes every number through disclosure control
before it reaches a template. Must not render (see render.py) or read clocks (`now` is passed in).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from admin.reports import catalog, charts, paper, periods, staff_counts
from admin.reports.catalog import (
    BAND_LABELS,
    BAND_SHORT,
    COUNCIL_BANDS,
    COUNCIL_LABELS,
    DISTRICT_LABELS,
    WELLBEING_FLOW,
    YOUNG_BANDS,
    QuestionInfo,
    label,
)
from admin.reports.disclosure import (
    HIDDEN,
    THRESHOLD,
    DisclosureLog,
    Protected,
    Publication,
    Result,
    TableKeys,
    percent,
    safe_count,
    show,
)
from admin.reports.scrub import scrub
from admin.reports.settings import ReportSettings
from content.loader import Library
from content.schema import Flow
from storage import challenges as card_store
from storage import events as events_store
from storage import good_news as good_news_store
from storage import panel_papers as paper_store
from storage import quotes as quote_store
from storage import report_actions, reporting, rollups
from storage import themes as theme_store
from storage import waves as wave_store
from storage.db import Session

log = logging.getLogger("ourvoice.reports")

WELLBEING_QUESTIONS = ("feel_safe", "trust_adults", "trusted_adult", "happy_yesterday", "getting_better")
WELLBEING_LABELS = {
    "feel_safe": "I feel safe where I live",
    "trust_adults": "I trust the adults who look after me",
    "trusted_adult": "I have an adult I trust",
    "happy_yesterday": "I felt happy yesterday",
    "getting_better": "Things are getting better",
}
STATE_LABELS = {
    "submitted": "Raised",
    "routed_to_worker": "Passed to a worker",
    "discussed_at_council": "Discussed at council",
    "taken_to_senior_officers": "With senior officers",
    "presented_to_panel": "Presented to Panel",
    "accepted": "Accepted",
    "progress_update": "In progress",
    "closed": "Done",
    "declined": "Declined",
}


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A reporting period of whole days, both ends inclusive, in the council's time zone."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ValueError("the period ends before it starts")

    @property
    def key(self) -> str:
        return f"{self.since.isoformat()}..{self.until.isoformat()}"

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC datetimes: local midnight at the start, midnight after the last day."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.since, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.until + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end

    def previous(self, settings: ReportSettings | None = None) -> Window:
        """The fixed period of the same kind just before this one (same length when no settings)."""
        if settings is not None:
            return Window(*periods.previous(self.since, self.until, settings))
        return Window(self.since - timedelta(days=self.days), self.since - timedelta(days=1))

    @property
    def label(self) -> str:
        """e.g. "1 September to 30 November 2026" (the year once when both ends share it)."""
        first = long_date(self.since)
        if self.since.year == self.until.year:
            first = first.rsplit(" ", 1)[0]
        return f"{first} to {long_date(self.until)}"

    @property
    def between(self) -> str:
        """e.g. "between 1 September and 30 November 2026"."""
        return "between " + self.label.replace(" to ", " and ", 1)


def long_date(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def months_between(since: date, until: date) -> list[str]:
    out, y, m = [], since.year, since.month
    while (y, m) <= (until.year, until.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_label(key: str) -> str:
    return date.fromisoformat(key + "-01").strftime("%b %Y")


# --- view models ---------------------------------------------------------------------------------------


@dataclass
class Table:
    """A protected table as text, ready for any template."""

    row_head: str
    row_labels: list[str]
    col_labels: list[str]
    cells: list[list[str]]
    row_totals: list[str] | None
    col_totals: list[str] | None
    grand: str | None
    protected: Protected | None
    row_keys: list[str] = field(default_factory=list)
    col_keys: list[str] = field(default_factory=list)
    keys: TableKeys | None = None
    omitted: bool = False  # every number would be hidden: the table is left out

    def fill(self, result: Result) -> None:
        """Take the published values once the whole output has been protected."""
        assert self.keys is not None
        p = result.protected(self.keys)
        m, n = len(self.row_labels), len(self.col_labels)
        self.protected = p
        self.cells = [[p.text((i, j)) for j in range(n)] for i in range(m)]
        self.row_totals = [p.text((i, n)) for i in range(m)] if self.keys.row_totals else None
        self.col_totals = [p.text((m, j)) for j in range(n)] if self.keys.col_totals else None
        self.grand = p.text((m, n)) if self.keys.grand_total else None
        self.omitted = p.all_hidden

    def overall(self) -> tuple[list[int | None], list[str]]:
        """Per-row values across every column (the row totals, or the only column) and their text."""
        assert self.protected is not None
        if self.row_totals is not None:
            return list(self.protected.row_totals or []), list(self.row_totals)
        return [r[0] for r in self.protected.cells], [r[0] for r in self.cells]

    def column(self, key: str) -> list[tuple[str, int | None]]:
        """(row label, protected value) down one column, for plain-language summaries."""
        if key not in self.col_keys:
            return []
        j = self.col_keys.index(key)
        assert self.protected is not None
        return [(self.row_labels[i], self.protected.cells[i][j]) for i in range(len(self.row_labels))]


def make_table(
    ctx: Context,
    counts: dict[tuple[str, str], int],
    rows: Sequence[tuple[str, str]],
    cols: Sequence[tuple[str, str]],
    *,
    row_head: str,
    row_totals: bool = True,
    col_totals: bool = True,
    grand_total: bool = True,
    structural: Iterable[tuple[str, str]] = (),
    additive_cols: bool = True,
    rest: dict[str, int] | None = None,
) -> Table:
    """Register a (row key, col key) -> count mapping laid out by `rows` and `cols` ((key, label) pairs)
    in the output's one Publication; its printable values are filled in once the whole output is solved.

    `rest` (row key -> people in no listed column, e.g. age not given) is part of the row totals only.
    """
    if len(cols) == 1 and rest is None:  # a single column: its "total" column would only repeat it
        row_totals, grand_total = False, False
    raw = [[int(counts.get((r, c), 0)) for c, _ in cols] for r, _ in rows]
    zeros = set(structural)
    name = f"{ctx.prefix}{len(ctx.pending)}"
    keys = ctx.pub.table(
        name,
        raw,
        row_totals=row_totals,
        col_totals=col_totals,
        grand_total=grand_total,
        structural=[(i, j) for i, (r, _) in enumerate(rows) for j, (c, _) in enumerate(cols) if (r, c) in zeros],
        additive_cols=additive_cols,
        unpublished=[int(rest.get(r, 0)) for r, _ in rows] if rest is not None else None,
    )
    t = Table(
        row_head=row_head,
        row_labels=[lab for _, lab in rows],
        col_labels=[lab for _, lab in cols],
        cells=[],
        row_totals=None,
        col_totals=None,
        grand=None,
        protected=None,
        row_keys=[k for k, _ in rows],
        col_keys=[k for k, _ in cols],
        keys=keys,
    )
    ctx.pending.append(t)
    return t


@dataclass
class Headline:
    young_now: Table
    young_before: Table
    young_total_now: str = ""
    young_total_before: str = ""
    carers_now: str = ""
    carers_before: str = ""
    change: str = ""
    sentence: str = ""  # the opening sentence, worded for hidden numbers too (never "we heard from not shown")


def heard_sentence(between: str, previous: str, young: str | None, change: str, carers: int | None,
                   carers_before: int | None) -> str:
    """ "Between ... we heard from N children and young people ..." with hidden numbers rephrased."""
    if young:
        out = f"{between} we heard from **{young}** children and young people through ourvoice, {change} ({previous})."
    else:
        # Worded as every hidden number is ("not shown"): never "too small", which would say it is under 5
        # (or, when nobody took part, claim somebody did).
        out = (f"{between} the number of children and young people we heard from through ourvoice is not "
               "shown, to protect their privacy.")
    if carers is not None:
        out += f" We also heard from **{carers:,}** foster carers"
        out += f" (previous period: {carers_before:,})." if carers_before is not None else "."
    else:
        out += " The number of foster carers we heard from is not shown."
    return out


@dataclass
class QuoteLine:
    text: str
    band: str
    band_key: str = ""  # junior | teen | young_adult | "" (the young people's pages keep each band's own)


@dataclass
class QuestionResult:
    info: QuestionInfo
    table: Table
    chart: str | None  # data URI
    chart_alt: str
    note: str = ""
    omitted: str = ""  # why the table is left out (every number would be hidden)
    headline: str = ""  # e.g. "67% answered 4 or 5" from the published figures (carers' key questions)


@dataclass
class TopicSection:
    flow: Flow
    title: str
    why: str
    audience: str  # young_person | carer
    questions: list[QuestionResult]
    quotes: dict[str, list[QuoteLine]]  # question text -> lines
    next_steps: list[str]
    respondents: str
    base: Table | None = None  # people who took part, per column: the base every table of the topic shares
    left_out: str = ""  # the whole topic would be hidden cells: one sentence instead of the section
    themes: dict[str, str] = field(default_factory=dict)  # question text -> staff's theme summary (issue 19)


@dataclass
class WellbeingRow:
    question_id: str
    label: str
    numeric: bool
    months: list[str]  # printable values per month
    now: str
    before: str
    trend: str
    raw_now: float | None = None
    by_band: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Wellbeing:
    months: list[str]
    rows: list[WellbeingRow]
    chart: str | None
    scale_note: str


@dataclass
class CardRow:
    challenge: str
    council: str
    state: str
    owner: str
    last_update: str
    days_open: str
    is_open: bool


@dataclass
class CarerWave:
    name: str
    dates: str
    table: Table | None
    rates: list[tuple[str, str, str]]  # (district label, rate text, rag)
    target: str
    floor: str
    open_until: str = ""  # the wave's last day when it was still open at the period's end (then no figures)
    overall: str = ""  # the all-areas response rate (published figures only)
    unrated: int = 0  # areas left out of the rates because a figure is not shown


@dataclass
class SaidDid:
    said: str
    did: str
    bands: tuple[str, ...] = ()  # the age groups it is for (a card: its council's); () means everyone


@dataclass
class EarlierWave:
    name: str
    dates: str
    rate: str


@dataclass
class CarersVoice:
    waves: list[CarerWave]
    earlier: list[EarlierWave]
    baseline: str
    caveat: str


@dataclass
class ActivityRow:
    when: str
    what: str
    council: str
    area: str
    place: str
    topics: str
    came: str = ""  # young people who came, as published (filled once the output is protected)


@dataclass
class Activity:
    rows: list[ActivityRow]
    attendance: Table | None  # one column, a row per meeting or event (shown as the rows' "came")
    note: str
    ratings: Table | None = None  # young people by their latest "How was it?" answer (None: nobody answered)
    ratings_note: str = ""
    came: tuple[object, object] | None = None  # keys of "came to one or more" and "two or more" (for audits)
    one_or_more: int | None = None  # as published (None: not shown)
    two_or_more: int | None = None


@dataclass
class OcypcSummary:
    title: str
    subtitle: str
    meeting: str
    window: Window
    previous: Window
    generated: str
    headline: Headline
    topics: list[TopicSection]
    wellbeing: Wellbeing | None
    cards: list[paper.CardOutcome]
    good_news: list[QuoteLine]
    carers: list[CarerWave] | None  # None: carer surveys not installed
    said_did: list[SaidDid]
    rules: list[str]
    log: DisclosureLog
    cover: paper.Cover | None = None
    reach: paper.Reach | None = None
    activity: Activity | None = None  # None: council meetings and events are not recorded (feature missing)
    carers_voice: CarersVoice | None = None
    answers_window: Window | None = None  # the quarter the topics' answers are from (issue 19): None = `window`

    @property
    def answers_note(self) -> str:
        """One sentence when the topics' answers are from another period than the paper (else "")."""
        if self.answers_window is None or self.answers_window == self.window:
            return ""
        return (f"These answers are from {self.answers_window.label}, the last whole quarter: answers to questions "
                "are counted for whole calendar quarters only, so that no month's answers can be worked out from "
                "its quarter's.")


# --- helpers -------------------------------------------------------------------------------------------


def rag_status(rate: float | None, *, target: float, floor: float, denominator: int) -> str:
    """green at or above target, amber from floor up to target, red below floor; "" when base under 5."""
    if rate is None or denominator < 5:
        return ""
    if rate >= target:
        return "green"
    if rate >= floor:
        return "amber"
    return "red"


def published_rating(done: int | None, invited: int | None, *, target: float, floor: float) -> str:
    """The rating worked out from the published figures only ("" when either is hidden): a colour from a
    hidden count would narrow it down (6 asked and amber would mean exactly 2 replied)."""
    if done is None or not invited:
        return ""
    return rag_status(done / invited, target=target, floor=floor, denominator=invited)


def _cols_present(keys: Iterable[str], order: Sequence[str]) -> list[str]:
    present = set(keys)
    return [k for k in order if k in present] + sorted(present - set(order))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- builder -------------------------------------------------------------------------------------------


@dataclass
class Context:
    session: Session
    library: Library
    settings: ReportSettings
    now: datetime
    window: Window
    log: DisclosureLog = field(default_factory=DisclosureLog)
    pub: Publication = field(default_factory=Publication)
    pending: list[Table] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)
    fixed: set[object] = field(default_factory=set)  # counts published already, exactly as they were
    fixed_hidden: set[object] = field(default_factory=set)  # those of them that were hidden
    prefix: str = "t"  # table names in this output's problem ("q" for the answers quarter's own problem)

    @property
    def tz(self) -> str:
        return self.settings.timezone

    def finish(self) -> None:
        """Protect every registered table of the output together, then run what needed the results."""
        result = self.pub.solve(hidden=self.fixed_hidden, fixed=self.fixed)
        self.log.result = result
        for t in self.pending:
            t.fill(result)
            assert t.protected is not None
            self.log.add(t.protected)
            if t.omitted:
                self.log.use("omitted")
        for step in self.after:
            step()


def build(
    session: Session,
    library: Library,
    *,
    since: date,
    until: date,
    now: datetime,
    settings: ReportSettings,
    meeting: date | None = None,
    charts_on: bool = True,
) -> OcypcSummary:
    """Roll up the period (replacing any earlier roll-up of it) and build the protected summary.

    Only fixed periods (calendar months, quarters, Panel cycles): anything else raises PeriodRefused.
    """
    periods.check(since, until, settings, now=now)
    ctx = Context(session, library, settings, now, Window(since, until))
    start, end = ctx.window.bounds(ctx.tz)
    reach = catalog.reach_flows(library)
    rollups.refresh(session, ctx.window.key, since=start, until=end, reach_flows=reach, now=now,
                    private_flows=catalog.private_flows(library))
    headline = _headline(ctx, reach)
    activity = _activity(ctx)
    topics, answers = _answers_quarter_topics(ctx, reach, charts_on)
    wellbeing = _wellbeing(ctx, charts_on)
    cards = _cards(ctx, meeting)
    good = _good_news(ctx)
    carers = _carers(ctx)
    said_did = _said_did(ctx)
    ctx.finish()
    ctx.log.merge(answers.log)
    local_now = now.astimezone(ZoneInfo(ctx.tz))
    written = _paper_row(ctx, meeting)
    heard = headline.young_now.protected
    assert heard is not None
    by_band = dict(zip(headline.young_now.col_keys, heard.col_totals or [], strict=False))
    good = [_band_if_published(g, by_band) for g in good]
    carers_voice = (
        _carers_voice(ctx, carers or [], topics)
        if carers is not None or any(t.audience == "carer" for t in topics) else None
    )
    return OcypcSummary(
        title="Corporate Parenting Panel update",
        subtitle="from the Children in Care Councils and the Young Adult Council",
        meeting=long_date(meeting) if meeting else "",
        window=ctx.window,
        previous=ctx.window.previous(settings),
        generated=f"{long_date(local_now.date())} at {local_now:%H:%M}",
        headline=headline,
        topics=topics,
        wellbeing=wellbeing,
        cards=cards,
        good_news=good,
        carers=carers,
        said_did=said_did,
        rules=ctx.log.lines(),
        log=ctx.log,
        cover=paper.cover(settings, written, meeting=meeting, period_label=ctx.window.label),
        reach=paper.reach_against_population(by_band, heard.grand_total, written),
        activity=activity,
        carers_voice=carers_voice,
        answers_window=answers.window,
    )


def _answers_quarter_topics(ctx: Context, reach: Sequence[str], charts_on: bool) -> tuple[list[TopicSection], Context]:
    """The topics' answers, from the calendar quarter `periods.answers_quarter` names, protected as a problem of
    their own (issue 19, re-audit leak 1).

    Answers are published for one kind of period only, so a quarter's topic tables and its months' can never be
    set side by side: a month or Panel paper shows the last whole quarter's answers, and because they are solved
    alone, from the quarter's frozen roll-up, with the quarter's Responses figures fixed as those pages print
    them, every paper that shows a quarter's answers prints the same figures hidden in the same places. Nothing
    an attacker knows ties a topic's tables to the paper's other tables (people heard, waves, events), so
    solving them apart protects them no less than solving them with the rest.
    """
    quarter = Window(*periods.answers_quarter(ctx.window.until))
    answers = Context(ctx.session, ctx.library, ctx.settings, ctx.now, quarter, prefix="q")
    if answers.window != ctx.window:
        start, end = answers.window.bounds(ctx.tz)
        rollups.refresh(ctx.session, answers.window.key, since=start, until=end, reach_flows=reach, now=ctx.now,
                        private_flows=catalog.private_flows(ctx.library))
    topics = _topics(answers, reporting.rolled_choices(ctx.session, answers.window.key), charts_on)
    answers.finish()
    return topics, answers


def _band_if_published(line: QuoteLine, published: Mapping[str, int | None]) -> QuoteLine:
    """The line with its age band shown only when that band's count is published (issue 19, F1b): "(7-11)" under
    a quote says at least one young person of that age took part, which narrows a hidden count below 5 to 1-4.
    The band key stays (the young people's pages pick each band's own news and show no label)."""
    if line.band_key in YOUNG_BANDS and published.get(line.band_key) is None:
        return QuoteLine(line.text, "", line.band_key)
    return line


def _paper_row(ctx: Context, meeting: date | None) -> object | None:
    """What the manager wrote for this Panel (cover text, population), when that feature is installed."""
    # No date given: the first Panel after the period that has a paper written for it.
    find = paper_store.first_after if meeting is None else paper_store.get
    row: object | None = find(ctx.session, ctx.window.until if meeting is None else meeting)
    return row


def _reach_table(
    ctx: Context, cells: list[reporting.ReachCell], period: Window | None = None
) -> tuple[Table, int | None]:
    """People heard by council and age band: every council and band always listed (a row or column that
    appeared only when someone was there would say so), age not given counted in the totals only.

    Published exactly as the period's one protected people-heard result (admin/reports/reach.py) that the
    dashboard's views are cut from too, so this update, the dashboard, the previous period's update and
    the months inside this period can all be put side by side without giving a hidden count away."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    rest: dict[str, int] = defaultdict(int)
    for c in cells:
        if c.audience == "carer":
            continue
        if c.band in YOUNG_BANDS:
            counts[(c.council, c.band)] += c.people
        else:
            rest[c.council] += c.people
    councils = [k for k in COUNCIL_LABELS if k] + [""]
    extra = sorted(({c for c, _ in counts} | set(rest)) - set(councils))
    councils += extra
    bands = list(YOUNG_BANDS)
    table = make_table(
        ctx,
        counts,
        [(k, label(COUNCIL_LABELS, k)) for k in councils],
        [(k, BAND_SHORT.get(k, k)) for k in bands],
        row_head="Council",
        structural={
            z for z in catalog.structural_zeros(councils, bands) if counts.get(z, 0) == 0
        },
        rest=dict(rest),
    )
    if period is not None:
        from admin.reports import reach

        solved = reach.for_period(
            ctx.session, ctx.library, (period.since, period.until), settings=ctx.settings, now=ctx.now
        )
        assert solved.tables.councils == councils, "the update and the dashboard list the same councils"
        tk, ck = table.keys, solved.tables.cb
        assert tk is not None
        for i in range(tk.m + 1):
            for j in range(tk.n + 1):
                if (i == tk.m and not tk.col_totals) or (j == tk.n and not tk.row_totals):
                    continue
                ctx.fixed.add(tk.key((i, j)))
                if ck.key((i, j)) in solved.result.hidden:
                    ctx.fixed_hidden.add(tk.key((i, j)))
        # Foster carers heard: the same protected result (overlapping periods solved together), never a
        # figure protected on its own, which a month and its quarter printed side by side could narrow.
        return table, solved.carers()
    return table, safe_count(sum(c.people for c in cells if c.audience == "carer"))


def _headline(ctx: Context, reach: list[str]) -> Headline:
    prev = ctx.window.previous(ctx.settings)
    p_start, p_end = prev.bounds(ctx.tz)
    now_cells = reporting.rolled_reach(ctx.session, ctx.window.key)
    # The previous period from its frozen roll-up too, so the same period always shows the same figures.
    rollups.refresh(ctx.session, prev.key, since=p_start, until=p_end, reach_flows=reach, now=ctx.now,
                    private_flows=catalog.private_flows(ctx.library))
    before_cells = reporting.rolled_reach(ctx.session, prev.key)
    t_now, carers_now = _reach_table(ctx, now_cells, ctx.window)
    t_before, carers_before = _reach_table(ctx, before_cells, prev)
    h = Headline(t_now, t_before, carers_now=show(carers_now), carers_before=show(carers_before))

    def fill() -> None:
        assert t_now.protected is not None
        assert t_before.protected is not None
        a, b = t_now.protected.grand_total, t_before.protected.grand_total
        if a is not None and b is not None:
            change = "up" if a > b else "down" if a < b else "the same as"
            change = f"{change} from {b:,}" if a != b else f"the same as the {b:,}"
            change += " in the previous period"
        else:
            change = "not compared, as one of the two figures is not shown"
        h.young_total_now, h.young_total_before, h.change = t_now.grand or "", t_before.grand or "", change
        h.sentence = heard_sentence(
            ctx.window.between[:1].upper() + ctx.window.between[1:], prev.label,
            f"{a:,}" if a is not None else None, change, carers_now, carers_before,
        )

    ctx.after.append(fill)
    return h


def _question_result(
    ctx: Context,
    info: QuestionInfo,
    counts: dict[tuple[str, str], int],
    rest: dict[str, int],
    col_keys: list[str],
    col_labels: Mapping[str, str],
    charts_on: bool,
) -> QuestionResult:
    choice_ids = [c for c, _ in info.choices]
    extra = sorted({ch for ch, _ in counts} - set(choice_ids))
    rows = [(c, info.label_of(c)) for c in choice_ids + extra]
    cols = [(k, col_labels.get(k, k)) for k in col_keys]
    multi = info.kind == "multi"
    table = make_table(
        ctx,
        counts,
        rows,
        cols,
        row_head="Answer",
        row_totals=True,
        col_totals=not multi,
        grand_total=not multi,
        additive_cols=not multi,
        rest=rest,
    )
    note = (
        "People could pick more than one answer, so answers do not add up to the number of people."
        if multi
        else ""
    )
    r = QuestionResult(info, table, None, "", note)

    def fill() -> None:
        if table.omitted:
            r.omitted = "Left out: too few people answered for any number to be shown safely."
            return
        values, texts = table.overall()
        r.headline = headline_share(info, table.row_keys, values, table.protected)
        # No bar chart: it would repeat the table's numbers (the paper shows each figure once).
        r.chart_alt = "Bar chart of people per answer. " + "; ".join(
            f"{lab}: {t}" for lab, t in zip(table.row_labels, texts, strict=False)
        )

    ctx.after.append(fill)
    return r


def headline_share(
    info: QuestionInfo, row_keys: Sequence[str], values: Sequence[int | None], protected: Protected | None
) -> str:
    """One headline percentage from the published figures only: on a 1-5 scale the share answering 4 or 5,
    otherwise the most common answer's share ("" when a figure it needs is hidden)."""
    if protected is None:
        return ""
    total = protected.grand_total
    if total is None and protected.col_totals and len(protected.col_totals) == 1:
        total = protected.col_totals[0]
    if info.kind == "multi" or total is None:
        return ""
    if info.kind == "scale":
        top = [v for k, v in zip(row_keys, values, strict=False) if k in ("4", "5")]
        if len(top) != 2 or any(v is None for v in top):
            return ""
        pct = percent(sum(v for v in top if v is not None), total)
        return f"{pct} answered 4 or 5" if pct else ""
    shown = [(v, k) for k, v in zip(row_keys, values, strict=False) if v is not None]
    if not shown:
        return ""
    v, k = max(shown)
    pct = percent(v, total)
    return f"{pct} answered \u201c{info.label_of(k)}\u201d" if pct else ""


def question_heading(info: QuestionInfo, flow: Flow) -> str:
    """The question as a heading, never empty: the mood check-in's words come from strings, not the topic,
    so live content leaves its text blank; then any band's wording, then the id made readable."""
    if info.text.strip():
        return info.text
    node = next((n for n in flow.nodes if n.id == info.question_id), None)
    if node is not None and getattr(node, "mood", False):
        return "How are you feeling today? (the mood check-in at the start)"
    text = getattr(node, "text", None)
    if isinstance(text, dict):
        for band_text in text.values():
            if catalog.plain(str(band_text or "")):
                return catalog.plain(str(band_text))
    return info.question_id.replace("_", " ").capitalize()


def _link_bases(
    ctx: Context, table: Table, base: Table, q_people: dict[str, int], multi: bool
) -> None:
    """What an attacker knows about one question's table and the topic's base: each answer's count is
    at most the people who answered the question in that column, who are at most the people who took
    part (equal when true), and a multi-choice column's answers add up to at least its people."""
    pub, t, b = ctx.pub, table.keys, base.keys
    assert t is not None
    assert b is not None
    for j, col in enumerate(table.col_keys):
        q = pub.latent((t.name, "people", j), q_people.get(col, 0))
        pub.fact({q: 1, b.key((0, j)): -1}, promote=True)
        cells = [t.key((i, j)) for i in range(t.m)]
        for c in cells:
            pub.fact({c: 1, q: -1})
        if multi:
            pub.fact({q: 1, **{c: -1 for c in cells}})
        else:
            pub.fact({q: 1, t.key((t.m, j)): -1}, promote=True)


def _link_follow_ups(ctx: Context, flow: Flow, results: Sequence[QuestionResult]) -> None:
    """A follow-up question asked only after certain answers to an earlier one (a branch rule such as "if
    someone_missing is yes, ask want_help"): in each column, the people who answered the follow-up are at
    most those who gave those answers (equal when true), which an attacker reading the topic's flow knows.
    Issue 19: the child table is linked to its parent cell, not protected as if it stood alone."""
    by_id = {r.info.question_id: r for r in results}
    for node in flow.nodes:
        for rule in getattr(node, "rules", None) or []:
            if len(rule.when) != 1 or rule.goto not in by_id:
                continue
            (parent_id, answers), = rule.when.items()
            parent = by_id.get(parent_id)
            if parent is None or parent.info.kind == "multi":
                continue
            pt, ct = parent.table, by_id[rule.goto].table
            assert pt.keys is not None
            assert ct.keys is not None
            rows = [i for i, k in enumerate(pt.row_keys) if k in answers]
            for j, col in enumerate(ct.col_keys):
                if col not in pt.col_keys or not rows:
                    continue
                pj = pt.col_keys.index(col)
                q = (ct.keys.name, "people", j)
                if q in ctx.pub.values:
                    ctx.pub.fact({q: 1, **{pt.keys.key((i, pj)): -1 for i in rows}}, promote=True)


def _topics(ctx: Context, cells: list[reporting.ChoiceCell], charts_on: bool) -> list[TopicSection]:
    by_flow: dict[str, list[reporting.ChoiceCell]] = defaultdict(list)
    for c in cells:
        by_flow[c.flow_id].append(c)
    start, end = ctx.window.bounds(ctx.tz)
    approved = quote_store.approved(ctx.session, since=start, until=end)
    if approved:
        ctx.log.use("quotes")
    actions = report_actions.between(ctx.session, since=start, until=end)
    sections: list[TopicSection] = []
    for flow in catalog.consultation_flows(ctx.library):
        flow_cells = by_flow.get(flow.id, [])
        flow_quotes = [q for q in approved if q.flow_id == flow.id]
        if not flow_cells and not flow_quotes:
            continue
        carer = "carer" in flow.audience and "young_person" not in flow.audience
        key_of: Callable[[reporting.ChoiceCell], str] = (
            (lambda c: c.district) if carer else (lambda c: c.band)
        )
        # Fixed columns (a column that appeared only when someone answered would say so); people with no
        # band or area count in the totals only.
        col_keys = list(catalog.DISTRICTS) if carer else [b for b in YOUNG_BANDS if b in flow.bands]
        col_keys = col_keys or list(YOUNG_BANDS)
        col_labels = DISTRICT_LABELS if carer else BAND_SHORT
        people = reporting.rolled_people(
            ctx.session, ctx.window.key, flow_ids=[flow.id], by="district" if carer else "band"
        )
        base_counts: dict[tuple[str, str], int] = defaultdict(int)
        base_rest: dict[str, int] = defaultdict(int)
        for pc in people:
            if pc.question_id == "":
                if pc.key in col_keys:
                    base_counts[("people", pc.key)] += pc.people
                else:
                    base_rest["people"] += pc.people
        base = make_table(
            ctx,
            base_counts,
            [("people", "People who took part")],
            [(k, col_labels.get(k, k)) for k in col_keys],
            row_head="",
            row_totals=True,
            col_totals=False,
            grand_total=False,
            rest=dict(base_rest),
        )
        results = []
        for info in catalog.questions(flow):
            if not info.text.strip():
                info = QuestionInfo(info.flow_id, info.question_id, info.kind, question_heading(info, flow),
                                    info.choices)
            counts: dict[tuple[str, str], int] = defaultdict(int)
            rest: dict[str, int] = defaultdict(int)
            for c in flow_cells:
                if c.question_id == info.question_id:
                    if key_of(c) in col_keys:
                        counts[(c.choice, key_of(c))] += c.people
                    else:
                        rest[c.choice] += c.people
            if not counts and not rest:
                continue
            # Charts for young people's topics; carers' survey answers stay as tables (a shorter update).
            r = _question_result(
                ctx, info, counts, dict(rest), col_keys, col_labels, charts_on and not carer
            )
            q_people = {
                pc.key: pc.people for pc in people if pc.question_id == info.question_id and pc.key in col_keys
            }
            _link_bases(ctx, r.table, base, q_people, info.kind == "multi")
            results.append(r)
        _link_follow_ups(ctx, flow, results)
        _same_as_responses(ctx, flow, base, results, carer)
        texts = {q.question_id: q.text for q in catalog.questions(flow, include_text=True)}
        grouped: dict[str, list[QuoteLine]] = defaultdict(list)
        for q in flow_quotes:
            line = QuoteLine(catalog.plain(scrub(q.text)), BAND_LABELS.get(q.band or "", ""), q.band or "")
            bucket = grouped[texts.get(q.question_id, "In their own words")]
            # The same (or nearly the same) words from several people: once; at most a few per question.
            if len(bucket) < ctx.settings.quotes_per_question and not any(
                near_duplicate(x.text, line.text) for x in bucket
            ):
                bucket.append(line)
        # Staff's theme summary for a question, shown above its quotes (storage.themes; staff words only).
        themes: dict[str, str] = {}
        for qid, qtext in texts.items():
            summary = theme_store.theme_summary(ctx.session, flow.id, qid, (ctx.window.since, ctx.window.until))
            if summary:
                themes[qtext] = summary
                grouped.setdefault(qtext, [])
        section = TopicSection(
            flow=flow,
            title=catalog.title(flow),
            why=catalog.wording(flow.topic.why) if flow.topic else "",
            audience="carer" if carer else "young_person",
            questions=results,
            quotes=dict(grouped),
            next_steps=[_short(a.did, 300) for a in actions if a.flow_id == flow.id],
            respondents="",
            base=base,
            themes=themes,
        )

        def fill(section: TopicSection = section, base: Table = base, col_keys: list[str] = col_keys) -> None:
            assert base.protected is not None
            assert base.protected.row_totals is not None
            # A quote's age band only where the topic's people of that band are a published count (F1b).
            took = dict(zip(col_keys, base.protected.cells[0], strict=False)) if base.protected.cells else {}
            section.quotes = {q: [_band_if_published(line, took) for line in lines]
                              for q, lines in section.quotes.items()}
            n = base.protected.row_totals[0]
            who = "carers" if section.audience == "carer" else "young people"
            # Never "up to not shown people answered": a hidden total gets its own sentence.
            section.respondents = (
                f"{n:,} {who} took part." if n is not None else f"Too few {who} took part to give the number."
            )
            if all(q.omitted for q in section.questions) and base.omitted and not section.quotes:
                section.left_out = (
                    "Left out: so few people answered that every number would have to be hidden to keep "
                    "them from being identified."
                )

        ctx.after.append(fill)
        sections.append(section)
    return sections


def _same_as_responses(
    ctx: Context, flow: Flow, base: Table, results: Sequence[QuestionResult], carer: bool
) -> int:
    """When this update covers a whole calendar quarter, print every figure it shares with that quarter's
    Responses pages exactly as those pages do (issue 19, F1).

    The Responses pages protect a flow's answers by area and age band as one problem of their own
    (admin/reports/responses.py); this update protects its tables by age band (carers' by area) with the rest of
    the update. The same count, hidden in one and printed in the other, or the two sets of printed figures side by
    side, could narrow a hidden one. So each count both print (people per answer by band, or for carers by area;
    people per answer overall; people who took part) is registered here as published already: shown with the
    pages' value where they show it, hidden where they hide it, and this update's own solve protects the rest
    around them. A count is linked only when both are worked out to the same true value (the same frozen
    roll-up); returns how many were linked. Periods that are not quarters have no Responses page to match."""
    if periods.kind(ctx.window.since, ctx.window.until, ctx.settings) != "quarter":
        return 0
    from admin.actions.policy import AGGREGATE_AUDIENCES
    from admin.reports import responses

    solved = responses.for_flow(
        ctx.session, ctx.library, flow, (ctx.window.since, ctx.window.until), settings=ctx.settings,
        now=ctx.now, districts=catalog.DISTRICTS, role_audiences=AGGREGATE_AUDIENCES,
    )
    everyone = responses.Layer(tuple(flow.bands), True)  # a role that counts everyone the flow is for
    pairs: list[tuple[object, responses.Grid, tuple[object, ...]]] = []  # (key here, the pages' grid, key there)
    if solved.took_part is not None and base.keys is not None and base.keys.row_totals:
        pairs.append((base.keys.key((0, base.keys.n)), solved.took_part,
                      responses.total_key(responses.ALL_OF_FLOW, None)))
    grids = {(a.question_id, a.choice): a.grid for a in solved.answers}
    for r in results:
        keys = r.table.keys
        assert keys is not None
        for i, choice in enumerate(r.table.row_keys):
            grid = grids.get((r.info.question_id, choice))
            if grid is None:
                continue
            for j, col in enumerate(r.table.col_keys):
                pairs.append((keys.key((i, j)), grid, ("c", col, "carer") if carer else ("col", col)))
            if keys.row_totals:
                pairs.append((keys.key((i, keys.n)), grid, responses.total_key(everyone, None)))
    linked = 0
    for here, there, key in pairs:
        if here not in ctx.pub.published or not there.is_published(key):
            continue
        if there.true_value(key) != ctx.pub.values[here]:
            continue  # not the same count after all (e.g. a carer with no band): left to this update's solve
        ctx.fixed.add(here)
        if there.is_hidden(key):
            ctx.fixed_hidden.add(here)
        linked += 1
    if not carer:
        _tie_pages_totals_to_took_part(ctx, flow, base, results, grids, everyone)
    return linked


def _tie_pages_totals_to_took_part(
    ctx: Context, flow: Flow, base: Table, results: Sequence[QuestionResult], grids: Mapping[tuple[str, str], Any],
    everyone: Any,
) -> None:
    """Re-audit 5: the pages print people per answer for all ages, and this update people who took part by age
    band and for all ages. Those who gave an answer outside one band took part outside it, so the pages' "9 said
    my carers" less the 7 who took part outside 16-25 left at least 2 of a hidden 16-25 figure. Each pages total is
    registered here as published (shown or hidden as the pages print it), with that fact for every band, so this
    update's solve hides what it must around it."""
    from admin.reports import responses

    bk = base.keys
    if bk is None or not bk.row_totals:
        return
    took_all = bk.key((0, bk.n))
    band_col = {c: j for j, c in enumerate(base.col_keys)}
    total = responses.total_key(everyone, None)
    for r in results:
        keys = r.table.keys
        if keys is None:
            continue
        for i, choice in enumerate(r.table.row_keys):
            grid = grids.get((r.info.question_id, choice))
            if grid is None or not grid.is_published(total):
                continue
            pages = ctx.pub.count(("pages_all_ages", flow.id, r.info.question_id, choice), grid.true_value(total))
            ctx.fixed.add(pages)
            if grid.is_hidden(total):
                ctx.fixed_hidden.add(pages)
            for j, col in enumerate(r.table.col_keys):
                jb = band_col.get(col)
                here = keys.key((i, j))
                if jb is None or here not in ctx.pub.values:
                    continue
                ctx.pub.fact({pages: 1, here: -1, took_all: -1, bk.key((0, jb)): 1})
                ctx.pub.fact({here: 1, pages: -1})


def near_duplicate(a: str, b: str, *, ratio: float = 0.8) -> bool:
    """Two quotes saying nearly the same words (case, punctuation and redaction marks aside)."""
    import difflib

    def norm(t: str) -> str:
        return " ".join(re.findall(r"[a-z0-9']+", re.sub(r"\[[a-z]+\]", " ", t.lower())))

    x, y = norm(a), norm(b)
    return x == y or difflib.SequenceMatcher(None, x, y).ratio() >= ratio


def month_window(key: str) -> Window:
    """The calendar month "YYYY-MM" as a Window."""
    first = date.fromisoformat(key + "-01")
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Window(first, nxt - timedelta(days=1))


def ensure_months(ctx: Context, months: Sequence[str], reach: Sequence[str]) -> None:
    """Make sure each monthly roll-up exists and is fresh; the nightly job normally has done this already.

    Fresh means computed after the month ended, or within the last 26 hours for the month in progress.
    """
    for key in months:
        start, end = month_window(key).bounds(ctx.tz)
        view = rollups.get(ctx.session, key)
        if view is not None and (
            view.computed_at >= end or view.computed_at >= ctx.now - timedelta(hours=26)
        ):
            continue
        rollups.refresh(ctx.session, key, since=start, until=end, reach_flows=reach, now=ctx.now,
                        private_flows=catalog.private_flows(ctx.library))


def _wellbeing(ctx: Context, charts_on: bool) -> Wellbeing | None:
    flow = ctx.library.flows.get(WELLBEING_FLOW)
    prev = ctx.window.previous(ctx.settings)
    # Check-ins are monthly, so the trend reads the monthly roll-ups (kept fresh by the nightly job).
    all_months = months_between(prev.since, ctx.window.until)
    ensure_months(ctx, all_months, catalog.reach_flows(ctx.library))
    cells = reporting.rolled_months(ctx.session, all_months, WELLBEING_FLOW)
    if not cells and flow is None:
        return None
    infos = {i.question_id: i for i in (catalog.questions(flow) if flow else [])}
    qids = [q for q in infos if q in WELLBEING_QUESTIONS] or sorted({c.question_id for c in cells})
    months = months_between(ctx.window.since, ctx.window.until)
    now_months = set(months)
    prev_months = set(months_between(prev.since, prev.until)) - now_months
    ctx.log.use("means")
    people_cache: dict[str, list[reporting.PeopleCell]] = {}
    period_of = {frozenset(now_months): ctx.window.key, frozenset(prev_months): prev.key}

    def distinct(qid: str, chosen: set[str], band: str | None = None) -> int:
        """Different people behind an average (not answers: one child checking in monthly counts once),
        read from the frozen roll-up of the month or period."""
        key = chosen and (next(iter(chosen)) if len(chosen) == 1 else period_of.get(frozenset(chosen)))
        if not key:
            return 0
        if key not in people_cache:
            people_cache[key] = reporting.rolled_people(ctx.session, key, flow_ids=[WELLBEING_FLOW])
        return sum(
            pc.people for pc in people_cache[key] if pc.question_id == qid and (band is None or pc.key == band)
        )

    rows: list[WellbeingRow] = []
    series: dict[str, list[float | None]] = {}
    numeric_any = False
    for qid in qids:
        qcells = [c for c in cells if c.question_id == qid]
        numeric = all(c.choice.isdigit() for c in qcells) and (
            not infos.get(qid) or infos[qid].kind == "scale"
        )
        lab = WELLBEING_LABELS.get(qid) or (infos[qid].text if qid in infos else qid.replace("_", " "))

        def score(
            months_: set[str], band: str | None = None, numeric: bool = numeric, qcells=qcells, qid=qid
        ) -> float | None:
            """Rounded as published; None unless at least 5 different people stand behind it."""
            chosen = [c for c in qcells if c.month in months_ and (band is None or c.band == band)]
            n = sum(c.people for c in chosen)
            if n == 0 or distinct(qid, months_, band) < THRESHOLD:
                return None
            if numeric:
                return round(sum(int(c.choice) * c.people for c in chosen) / n, 1)
            yes = sum(c.people for c in chosen if c.choice == "yes")
            return None if yes < THRESHOLD or n - yes < THRESHOLD else round(yes / n, 2)

        def fmt(v: float | None, numeric: bool = numeric) -> str:
            if v is None:
                return "fewer than 5 people" if numeric else HIDDEN
            return f"{v:.1f}" if numeric else f"{round(v * 100)}% yes"

        per_month = [score({m}) for m in months]
        now_v = score(now_months)
        before_v = score(prev_months)
        if now_v is None or before_v is None:
            trend = "not enough answers to compare"
        else:
            d = now_v - before_v
            step = 0.1 if numeric else 0.05
            trend = (
                "\u2191 better" if d >= step else "\u2193 worse" if d <= -step else "\u2192 about the same"
            )
        by_band = {b: score(now_months, b) for b in YOUNG_BANDS}
        rows.append(
            WellbeingRow(
                qid,
                lab,
                numeric,
                [fmt(v) for v in per_month],
                fmt(now_v),
                fmt(before_v),
                trend,
                now_v,
                by_band,
            )
        )
        if numeric:
            numeric_any = True
            series[lab] = per_month
    chart = None
    if charts_on and numeric_any and any(v is not None for s in series.values() for v in s):
        chart = charts.data_uri(
            charts.line_chart(
                [month_label(m) for m in months],
                series,
                title="Wellbeing check-ins: average by month",
                ylim=(1, 5),
            )
        )
    return Wellbeing(
        [month_label(m) for m in months],
        rows,
        chart,
        "Averages on a scale of 1 (not at all) to 5 (yes, a lot); higher is better.",
    )


def _cards(ctx: Context, meeting: date | None) -> list[paper.CardOutcome]:
    """Every card raised before the period ended and not finished before it began, followed to its outcome
    (owner, decision, follow-up, the Panel's resolutions up to this meeting)."""
    resolved = paper_store.resolutions(ctx.session, on_or_before=meeting)
    start, end = ctx.window.bounds(ctx.tz)
    rows: list[paper.CardOutcome] = []
    for card in card_store.list_cards(ctx.session):
        if getattr(card, "quarantined", False) or getattr(card, "personal", False):
            continue
        created = _aware(getattr(card, "created_at", None))
        updated = _aware(getattr(card, "updated_at", None)) or created
        is_open = bool(getattr(card, "is_open", True))
        if created is None or created >= end or (not is_open and updated is not None and updated < start):
            continue  # not raised yet, or finished before this period
        rows.append(paper.card_outcome(
            card, resolved.get(card.id, []), now=ctx.now, tz=ctx.tz,
            state_label=STATE_LABELS.get(card.state, card.state.replace("_", " ")),
            council_label=label(COUNCIL_LABELS, getattr(card, "council", "")),
            challenge=_short(scrub(str(getattr(card, "challenge", "") or "")), 140),
        ))
    return rows


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _good_news(ctx: Context) -> list[QuoteLine]:
    start, end = ctx.window.bounds(ctx.tz)
    items = good_news_store.approved(ctx.session, start, end)
    return [
        QuoteLine(_short(catalog.plain(scrub(i.text)), 280), BAND_LABELS.get(i.band or "", ""), i.band or "")
        for i in items
    ]


def _carers(ctx: Context) -> list[CarerWave] | None:
    """The carers' survey waves this period saw. Only a wave that has closed by the period's end has figures here:
    its final ones, the whole wave's, pinned to how `ourvoice survey status` and the wave's admin page print them
    (admin/reports/staff_counts.wave, one protection per wave). A wave still open is listed without figures, since
    a count up to each period's end would grow from one paper to the next, and the difference would say how
    many carers replied in between (issue 19, re-audit 4: one carer in one area in November)."""

    start, end = ctx.window.bounds(ctx.tz)
    target, floor = ctx.settings.carer_target_floor(ctx.window.until)
    ctx.log.use("rag")
    out: list[CarerWave] = []
    for wave in wave_store.list_waves(ctx.session):
        opens, closes = _aware(wave.opens_at), _aware(wave.closes_at)
        if opens is None or closes is None or opens >= end or closes < start:
            continue
        dates = f"{long_date(wave.opens_on)} to {long_date(wave.closes_on)}"
        if closes > end:
            out.append(CarerWave(name=wave.name, dates=dates, table=None, rates=[], target="", floor="",
                                 open_until=long_date(wave.closes_on)))
            continue
        status = wave_store.wave_status(ctx.session, wave.id)
        if status is None:
            continue
        shown = staff_counts.wave(status.districts, status.total, dict(status.staff_by_mode))
        keys = [d.district for d in status.districts]
        counts = {}
        for d in status.districts:
            counts[(d.district, "invited")] = d.invited
            counts[(d.district, "responded")] = d.completed
        table = make_table(
            ctx,
            counts,
            [(k, label(DISTRICT_LABELS, k)) for k in keys],
            [("invited", "Invited"), ("responded", "Responded")],
            row_head="Area",
            row_totals=False,
            col_totals=True,
            grand_total=False,
        )
        tk = table.keys
        assert tk is not None
        for i in range(tk.m + 1):  # nobody responds without being invited
            ctx.pub.fact({tk.key((i, 1)): 1, tk.key((i, 0)): -1})
        # Every figure as the wave's own protection prints it (shown there: shown here; hidden: hidden).
        for i, row in enumerate([*shown.rows, shown.total]):
            for j, value in enumerate((row.invited, row.completed)):
                key = tk.key((i, j))
                if key in ctx.pub.published:
                    ctx.fixed.add(key)
                    if value is None:
                        ctx.fixed_hidden.add(key)
        wave_out = CarerWave(
            name=wave.name,
            dates=dates,
            table=table,
            rates=[],
            target=f"{round(target * 100)}%",
            floor=f"{round(floor * 100)}%",
        )

        def fill(status=status, table: Table = table, wave_out: CarerWave = wave_out) -> None:
            assert table.protected is not None
            shown_rows = [*table.protected.cells, tuple(table.protected.col_totals or (None, None))]
            for d, (invited_shown, done_shown) in zip(
                [*status.districts, status.total], shown_rows, strict=True
            ):
                # Worked out from the published figures only: the reason never hints at a hidden count.
                pct = percent(done_shown, invited_shown) or "no rate: a figure is not shown"
                rag = published_rating(done_shown, invited_shown, target=target, floor=floor)
                wave_out.rates.append((label(DISTRICT_LABELS, d.district), pct, rag))
            wave_out.overall = wave_out.rates[-1][1] if wave_out.rates else ""
            wave_out.unrated = sum(1 for _, pct, _ in wave_out.rates[:-1] if pct.startswith("no rate"))

        ctx.after.append(fill)
        out.append(wave_out)
    return out


def _said_did(ctx: Context) -> list[SaidDid]:
    start, end = ctx.window.bounds(ctx.tz)
    # Staff wrote these lines (and answer the cards): their words are not scrubbed; young people's are.
    out = [
        SaidDid(_short(a.said, 300), _short(a.did, 300), a.bands)
        for a in report_actions.between(ctx.session, since=start, until=end)
    ]
    for card in card_store.list_cards(ctx.session):
        answer = getattr(card, "answer", None)
        updated = _aware(getattr(card, "updated_at", None))
        if (
            answer
            and not getattr(card, "quarantined", False)
            and not getattr(card, "personal", False)
            and card.state in ("accepted", "progress_update", "closed")
            and updated
            and start <= updated < end
        ):
            bands = tuple(COUNCIL_BANDS[card.council]) if card.council in COUNCIL_BANDS else ()
            out.append(SaidDid(_short(scrub(card.challenge), 300), _short(answer, 300), bands))
    return out


# --- young people's one-page version ----------------------------------------------------------------


BAND_INTRO = {
    "junior": "Thank you for telling us what you think! Here is what we heard, and what the grown-ups "
    "are doing.",
    "teen": "Thanks for having your say. Here's what young people told us, and what's happening because "
    "of it.",
    "young_adult": "Thanks for sharing your views. Here's a short summary of what we heard and what changed.",
}
PLAIN_TOPICS, PLAIN_QUESTIONS, PLAIN_ANSWERS = 3, 2, 2  # keeps each age group's update to one page
FEELING_WORDS = (
    (4.0, "Most of you said yes, a lot"),
    (3.0, "Lots of you said yes, mostly"),
    (2.0, "Many of you said not really"),
    (0.0, "Many of you said no"),
)


@dataclass
class PlainTopic:
    title: str
    questions: list[tuple[str, list[str]]]  # question wording, bullet lines
    next_steps: list[str]


@dataclass
class PlainPage:
    band: str
    band_label: str
    intro: str
    heard: str
    topics: list[PlainTopic]
    feelings: list[str]
    good_news: list[str]
    said_did: list[SaidDid]
    cards: str


def _feeling(v: float | None) -> str | None:
    if v is None:
        return None
    return next(words for floor, words in FEELING_WORDS if v >= floor)


def plain_pages(
    summary: OcypcSummary, library: Library, bands: Sequence[str] = YOUNG_BANDS
) -> list[PlainPage]:
    """One short page per age band, in plain words, reusing the already-protected numbers."""
    pages = []
    for band in bands:
        heard = dict(
            zip(
                summary.headline.young_now.col_keys,
                summary.headline.young_now.protected.col_totals or [],
                strict=False,
            )
        ).get(band)
        topics = []
        for t in summary.topics:
            if t.audience != "young_person" or band not in t.flow.bands or len(topics) == PLAIN_TOPICS:
                continue
            infos = {i.question_id: i for i in catalog.questions(t.flow, band=band)}
            qs = []
            for r in t.questions:
                info = infos.get(r.info.question_id, r.info)
                by_label = dict(zip(r.table.row_labels, r.table.row_keys, strict=False))
                shown = sorted(
                    ((lab, v) for lab, v in r.table.column(band) if v is not None), key=lambda x: -x[1]
                )
                if not shown or info.kind == "scale":
                    continue  # nothing we can share for this age group, or a mood score (see feelings)
                lines = [
                    f"{info.label_of(by_label[lab])} \u2014 {v:,} of you" for lab, v in shown[:PLAIN_ANSWERS]
                ]
                qs.append((info.text, lines))
                if len(qs) == PLAIN_QUESTIONS:
                    break
            if qs:
                topics.append(PlainTopic(catalog.title(t.flow, band), qs, t.next_steps[:1]))
        feelings = []
        if summary.wellbeing:
            for row in summary.wellbeing.rows:
                v = row.by_band.get(band)
                if v is None:
                    continue
                words = _feeling(v) if row.numeric else f"{round(v * 100)} in every 100 of you said yes"
                feelings.append(f"\u201c{row.label}\u201d: {words}.")
        open_cards = sum(1 for c in summary.cards or [] if c.is_open)
        done_cards = sum(1 for c in summary.cards or [] if not c.is_open)
        cards = (
            f"{open_cards} challenge card{'s are' if open_cards != 1 else ' is'} being worked on"
            + (f", and {done_cards} {'have' if done_cards != 1 else 'has'} finished." if done_cards else ".")
            if summary.cards
            else "No challenge cards yet \u2014 you can raise one in the chat!"
        )
        pages.append(
            PlainPage(
                band=band,
                band_label=BAND_LABELS[band],
                intro=BAND_INTRO[band],
                heard=(
                    f"We heard from {heard:,} young people {BAND_LABELS[band]}."
                    if heard is not None
                    else f"How many young people {BAND_LABELS[band]} we heard from is not shown, to keep everyone's "
                    "answers private."
                ),
                topics=topics,
                feelings=feelings,
                # Each band's own news only: a 7-11 page never carries a 16-25's college news.
                good_news=[g.text for g in summary.good_news if g.band_key == band][:3],
                # The same for "you said, we did": a line for one age group stays on that group's page.
                said_did=[sd for sd in summary.said_did if not sd.bands or band in sd.bands][:2],
                cards=cards,
            )
        )
    return pages


# --- council activity, carers' voice (the committee paper's sections) -----------------------------------


def _when(value: object, tz: str) -> str:
    if isinstance(value, datetime):
        return long_date(_aware(value).astimezone(ZoneInfo(tz)).date())  # type: ignore[union-attr]
    if isinstance(value, date):
        return long_date(value)
    return str(value or "")


# "How was it?" (1 not good .. 5 brilliant), grouped so that the paper's table is not mostly hidden cells.
RATING_GROUPS = (
    ("high", "Good or brilliant (4 or 5)", (4, 5)),
    ("mid", "OK (3)", (3,)),
    ("low", "Not good (1 or 2)", (1, 2)),
)


def _activity(ctx: Context) -> Activity | None:
    """Council meetings and participation events in the period with their attendance and evaluations, once
    the events feature is installed (storage.events.activity_for_period); attendance and the "How was it?"
    answers go through the same Publication as every other count."""
    events = list(events_store.activity_for_period(ctx.session, ctx.window.since, ctx.window.until))
    rows: list[ActivityRow] = []
    counts: dict[tuple[str, str], int] = {}
    for i, e in enumerate(events):
        topics = getattr(e, "topics", ()) or ()
        council = getattr(e, "council", None) or getattr(e, "audience", None) or ""
        rows.append(ActivityRow(
            when=_when(getattr(e, "held_on", None) or getattr(e, "starts_at", None), ctx.tz),
            what=" ".join(str(getattr(e, "title", None) or getattr(e, "name", None) or getattr(e, "kind", "")).split()),
            # An activity day belongs to no council and a county-wide event to no area: say so, not "not given".
            council=(label(COUNCIL_LABELS, council) if council in COUNCIL_LABELS and council
                     else str(council).replace("_", " ") or "Open to all"),
            area=label(DISTRICT_LABELS, area) if (area := getattr(e, "area", None) or getattr(e, "district", None))
            else "County-wide",
            place=str(getattr(e, "place", "") or ""),
            topics=topics if isinstance(topics, str) else ", ".join(str(t) for t in topics),
        ))
        counts[(str(i), "attended")] = int(getattr(e, "attended", 0) or 0)
    if not rows:
        return Activity([], None, "No council meetings or events were recorded for this period.")
    # No column total: a young person who came to three meetings would be in it three times (the sentence
    # under the table gives the people who came to one or more, and two or more).
    table = make_table(
        ctx, counts, [(str(i), f"{r.when}: {r.what}") for i, r in enumerate(rows)],
        [("attended", "Young people who came")], row_head="Meeting or event", row_totals=False,
        col_totals=False, grand_total=False,
    )
    note = "Each young person is counted once per meeting or event, from the check-ins and paper registers."
    r = events_store.reach_for_period(ctx.session, ctx.window.since, ctx.window.until)
    ak = table.keys
    assert ak is not None
    # People who came to one or more, and to two or more: counts of the same Publication, tied to the
    # attendances as anyone could tie them (each meeting's figure is at most the people who came at all; the
    # attendances add up to at least one-or-more plus two-or-more, and to at most one-or-more plus
    # two-or-more for each further meeting). Protected on their own, they narrowed a hidden meeting's figure.
    attended = [ak.key((i, 0)) for i in range(ak.m)]
    k_one = ctx.pub.count((f"{ctx.prefix}came", "one_or_more"), r.one_or_more)
    k_two = ctx.pub.count((f"{ctx.prefix}came", "two_or_more"), r.two_or_more)
    for k in attended:
        ctx.pub.fact({k: 1, k_one: -1})
    ctx.pub.fact({k_two: 1, k_one: -1})
    ctx.pub.fact({k_one: 1, k_two: 1, **{k: -1 for k in attended}})
    ctx.pub.fact({**{k: 1 for k in attended}, k_one: -1, k_two: -max(len(attended) - 1, 0)})
    out = Activity(rows, table, note, came=(k_one, k_two))
    # "How was it?" is published for calendar quarters only, like the topics' answers (issue 19, re-audit 4): each
    # person is counted once by their latest answer, so a Panel cycle's figure for each answer is at most the sum of
    # its months', and a September hidden beside October and the September-October cycle was read off as 0-2.
    quarterly = periods.kind(ctx.window.since, ctx.window.until, ctx.settings) == "quarter"
    by_rating = (events_store.ratings_by_person(ctx.session, ctx.window.since, ctx.window.until)
                 if quarterly else {})
    if by_rating:
        out.ratings = make_table(
            ctx, {(k, "people"): sum(by_rating.get(v, 0) for v in vals) for k, _, vals in RATING_GROUPS},
            [(k, lab) for k, lab, _ in RATING_GROUPS], [("people", "Young people")],
            row_head="How was it?", row_totals=False, col_totals=True, grand_total=False,
        )
        rk, ak = out.ratings.keys, table.keys
        assert rk is not None
        assert ak is not None
        # Everyone who answered came to at least one of the events (an attacker knows that too).
        ctx.pub.fact({rk.key((rk.m, 0)): 1, **{ak.key((i, 0)): -1 for i in range(ak.m)}})
        ctx.pub.fact({rk.key((rk.m, 0)): 1, k_one: -1})

    def fill() -> None:
        assert table.protected is not None
        for row, cells in zip(rows, table.cells, strict=True):
            row.came = cells[0]
        result = ctx.log.result
        assert result is not None
        one, two = result.shown(k_one), result.shown(k_two)
        out.one_or_more, out.two_or_more = one, two
        if one is not None:
            out.note += f" {one:,} young people came to one or more" + (
                f", and {two:,} to two or more." if two is not None else "; how many came to two or more is not shown."
            )
        if not quarterly:
            qs, qe = periods.answers_quarter(ctx.window.until)
            out.ratings_note = (
                "What young people said about meetings and events (\u201cHow was it?\u201d) is published for whole "
                "calendar quarters only, so that one period's answers cannot be worked out from another's: the "
                f"latest is in the update for {long_date(qs)} to {long_date(qe)}."
            )
            return
        if out.ratings is None:
            out.ratings_note = "Nobody answered \u201cHow was it?\u201d after a meeting or event in this period."
            return
        p = out.ratings.protected
        assert p is not None
        total, high = (p.col_totals or (None,))[0], p.cells[0][0]
        if total is None:
            out.ratings_note = "The number of young people who answered \u201cHow was it?\u201d is not shown."
            return
        share = percent(high, total)
        out.ratings_note = (
            f"{total:,} young people answered \u201cHow was it?\u201d on a scale of 1 (not good) to 5 (brilliant) "
            "after a meeting or event, each counted once by their latest answer"
            + (f"; {share} said good or brilliant." if share else ".")
        )

    ctx.after.append(fill)
    return out


def _carers_voice(ctx: Context, waves: list[CarerWave], topics: list[TopicSection]) -> CarersVoice:
    """Earlier waves' response rates (their published totals only), the 23% baseline and the caveat about
    who did not answer."""
    start, _end = ctx.window.bounds(ctx.tz)
    earlier: list[EarlierWave] = []
    for wave in wave_store.list_waves(ctx.session):
        closes = _aware(wave.closes_at)
        if closes is None or closes >= start:
            continue
        status = wave_store.wave_status(ctx.session, wave.id)
        if status is None:
            continue
        # The wave's final figures as its own protection prints them (the same as in the update that showed it).
        total = staff_counts.wave(status.districts, status.total, dict(status.staff_by_mode)).total
        rate = percent(total.completed, total.invited)
        earlier.append(EarlierWave(
            wave.name, f"{long_date(wave.opens_on)} to {long_date(wave.closes_on)}",
            rate or "no rate: a figure is not shown",
        ))
    return CarersVoice(
        waves=waves,
        earlier=earlier,
        baseline="23%",
        caveat=(
            "Carers who answer may not be typical: those with the most to say, good or bad, are likelier to "
            "reply, and areas with few replies tell us little. Read the percentages as what those who answered "
            "told us, not what every foster carer thinks."
        ),
    )
