"""What the Responses pages and `ourvoice responses summary` may print: people per answer for one ended
calendar quarter, protected once for every viewer (issue 19).

Why this shape:
- **Fixed, ended quarters only**, read from the period's frozen roll-up (the same one the Panel update uses):
  the same quarter always gives the same figures, so two visits, a visit before and after an answer is
  held back, or a visit before and after someone's data is erased cannot be differenced. Quarters do not
  overlap, so no two choosable periods add up to a third (months inside quarters would: answers add up
  exactly across months, and a hidden month could be read off its quarter).
- **One problem per question, for every viewer at once**: the counts of each of its answers by area and age
  band, with the county-wide margins and every role's audience total ("layer": a participation worker counts
  young people only, the fostering team carers only, a manager both), in one `Publication`, beside the flow's
  people who took part by area (published already, fixed) and the fact that those who answered in an area took
  part there (for a one-answer question, all its answers' people together). Solved one answer at a time, the
  answers of a one-answer question in one area could add up to nearly that area's published took-part figure
  and pin the hidden ones (tests/reports/test_paper_and_responses.py). Every view (all districts or one, all
  ages or one band, any role) is cut from that one result, and a district-scoped viewer with several districts
  sees a sum only when every part of it is published.
- People are counted (distinct, per cell), not answers: someone who answered twice is one person.

Pure apart from `load` (which reads the roll-up); never logs counts.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from admin.reports import periods
from admin.reports.disclosure import Publication, Result

Period = tuple[date, date]
UNKNOWN = ""  # no area or no age band: counted in the totals only, never a row or column of its own
QUARTERS_LISTED = 8  # how many ended quarters the period menu offers


# -- periods ----------------------------------------------------------------------------------------


def quarter_label(p: Period) -> str:
    return f"{p[0].year}-Q{(p[0].month - 1) // 3 + 1}"


def ended_quarters(now: datetime, tz: str, n: int = QUARTERS_LISTED) -> list[Period]:
    """The last `n` calendar quarters that have ended (local time), newest first."""
    today = now.astimezone(ZoneInfo(tz)).date()
    y, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(n):
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
        out.append(periods.quarter(y, q))
    return out


def choose_quarter(value: str, now: datetime, settings: Any) -> Period:
    """The quarter asked for ("2026-Q3"), or the last whole quarter when none is given.

    Refused (periods.PeriodRefused) when it is not a quarter or has not ended: a quarter still running would
    change from one day to the next, and the difference would single out whoever answered in between."""
    if not value.strip():
        return ended_quarters(now, settings.timezone, 1)[0]
    if "-Q" not in value.strip().upper():
        raise periods.PeriodRefused(
            f"{value!r} is not a quarter: the responses pages count whole calendar quarters, e.g. 2026-Q3 "
            "(months would add up to their quarter, so one could be worked out from the other)"
        )
    p = periods.parse(value)
    periods.check(p[0], p[1], settings, now=now)
    return p


# -- who counts whom --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One role's view of a flow: the age bands whose people it counts, and whether people with no band
    count too (only when the role counts every audience the flow is for: then nobody could be someone else's)."""

    bands: tuple[str, ...]
    unknown: bool


def audience_of(band: str) -> str:
    return "carer" if band == "carer" else "young_person"


def layer_for(flow: Any, audiences: Iterable[str]) -> Layer | None:
    """The layer of a role counting `audiences` in `flow`, or None when it counts nobody there."""
    mine = set(audiences) & set(getattr(flow, "audience", ()) or ())
    if not mine:
        return None
    bands = tuple(b for b in flow.bands if audience_of(b) in mine)
    return Layer(bands, mine >= set(flow.audience))


def layers_for(flow: Any, role_audiences: Mapping[str, Sequence[str]]) -> list[Layer]:
    """Every role's layer of `flow` (the same for every viewer, so the result never depends on who asks)."""
    out: list[Layer] = []
    for auds in role_audiences.values():
        lay = layer_for(flow, auds)
        if lay is not None and lay not in out:
            out.append(lay)
    return sorted(out, key=lambda lay: (len(lay.bands), lay.bands, lay.unknown))


# -- one answer's grid ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """One answer's protected counts (people), by area and band, with every layer's margins. The answers of one
    question share one `result`; each answer's keys in it start with `prefix` (("answer", its choice))."""

    result: Result
    districts: tuple[str, ...]
    bands: tuple[str, ...]
    prefix: tuple[object, ...] = ()

    def key(self, key: tuple[object, ...]) -> tuple[object, ...]:
        return (*self.prefix, *key)

    def shown(self, key: tuple[object, ...]) -> int | None:
        """The printed value of one of this answer's counts (("c", area, band), ("col", band), a layer total),
        or None when hidden."""
        return self.result.shown(self.key(key))

    def is_published(self, key: tuple[object, ...]) -> bool:
        """True for a count that is printed or hidden; False for one never printed (people with no area or band)."""
        return self.key(key) in self.result.pub.published

    def is_hidden(self, key: tuple[object, ...]) -> bool:
        return self.key(key) in self.result.hidden

    def true_value(self, key: tuple[object, ...]) -> int:
        return self.result.pub.values[self.key(key)]

    def value(self, layer: Layer, *, districts: Sequence[str] | None, band: str = "") -> int | None:
        """What a viewer sees: county-wide (districts None) or the sum over their districts, only when every
        part is published (a sum over a hidden part would be a new figure)."""
        if band and band not in layer.bands:
            return None
        if districts is None:
            return self.shown(("col", band) if band else total_key(layer, None))
        own = [d for d in self.districts if d in districts]
        if not own:
            return None
        parts = [self.shown(("c", d, band) if band else total_key(layer, d)) for d in own]
        return None if any(v is None for v in parts) else sum(v for v in parts if v is not None)


def total_key(layer: Layer, district: str | None) -> tuple[object, ...]:
    """A layer's total in one district (or county-wide): the cell itself when the layer is one band."""
    if len(layer.bands) == 1 and not layer.unknown:
        return ("c", district, layer.bands[0]) if district is not None else ("col", layer.bands[0])
    return ("row", district, layer)


def _register(
    pub: Publication, prefix: tuple[object, ...], values: Mapping[tuple[str, str], int], districts: Sequence[str],
    bands: Sequence[str], layers: Sequence[Layer],
) -> None:
    """Register one answer's people by (district, band) ("" = not given, latent) with every layer's margins,
    each key starting with `prefix`."""
    def k(*key: object) -> tuple[object, ...]:
        return (*prefix, *key)

    ds, bs = [*districts, UNKNOWN], [*bands, UNKNOWN]
    for d in ds:
        for b in bs:
            v = int(values.get((d, b), 0))
            if d == UNKNOWN or b == UNKNOWN:
                pub.latent(k("c", d, b), v)
            else:
                pub.count(k("c", d, b), v)
    for b in bands:  # county-wide by band (the "All areas" column of one band)
        parts = [k("c", d, b) for d in ds]
        pub.count(k("col", b), sum(pub.values[x] for x in parts))
        pub.total(k("col", b), parts)
    for lay in layers:
        cols = [*lay.bands, *([UNKNOWN] if lay.unknown else [])]
        where: list[str | None] = [*districts, None]
        for place in where:
            key = k(*total_key(lay, place))
            if key in pub.values:
                continue  # one band: the cell or column itself
            parts = [k("c", x, b) for x in ([place] if place is not None else ds) for b in cols]
            pub.count(key, sum(pub.values[x] for x in parts))
            pub.total(key, parts)


def protect_grid(
    values: Mapping[tuple[str, str], int], districts: Sequence[str], bands: Sequence[str], layers: Sequence[Layer]
) -> Grid:
    """One answer's people by (district, band) with every layer's margins, solved as one problem of its own."""
    pub = Publication()
    _register(pub, (), values, districts, bands, layers)
    return Grid(pub.solve(), tuple(districts), tuple(bands))


def _register_took(pub: Publication, took: Grid, districts: Sequence[str]) -> tuple[list[object], list[object]]:
    """The flow's people who took part by area and county-wide, as already published (fixed, hidden where the
    took-part grid hides them), with the people of no area as an unknown; returns (fixed, hidden)."""
    fixed: list[object] = []
    hidden: list[object] = []
    for place in [*districts, None]:
        key = total_key(ALL_OF_FLOW, place)
        here = ("took", *key)
        pub.count(here, took.true_value(key))
        fixed.append(here)
        if took.is_hidden(key):
            hidden.append(here)
    nowhere = ("took", "c", UNKNOWN, UNKNOWN)
    pub.latent(nowhere, took.true_value(("c", UNKNOWN, UNKNOWN)))
    pub.total(("took", *total_key(ALL_OF_FLOW, None)), [("took", *total_key(ALL_OF_FLOW, d)) for d in districts]
              + [nowhere])
    return fixed, hidden


class FlowProblem:
    """One flow's questions as one problem, solved a question at a time (see `answer_grids`): the flow's
    took-part figures by area (fixed), the people who took part in each area and age band (never published:
    unknowns an attacker reasons about, summing to each area's figure), and every question added so far with
    its figures fixed as decided."""

    def __init__(self, took: Grid, by_area_band: Mapping[str, int], districts: Sequence[str],
                 bands: Sequence[str]) -> None:
        self.pub = Publication()
        ds, bs = [*districts, UNKNOWN], [*bands, UNKNOWN]
        self.cells: dict[tuple[str, str], tuple[object, ...]] = {(d, b): ("took_ab", d, b) for d in ds for b in bs}
        for (d, b), cell in self.cells.items():
            self.pub.latent(cell, int(by_area_band.get(f"{d}|{b}", 0)))
        self.fixed, self.hidden = _register_took(self.pub, took, districts)
        for d in ds:
            area = ("took", "c", UNKNOWN, UNKNOWN) if d == UNKNOWN else ("took", *total_key(ALL_OF_FLOW, d))
            # Each area's people by band add up to the area's figure. A roll-up whose rows disagree (answers
            # quarantined after it was frozen) makes it untrue: then it is not a fact, and is left out.
            with suppress(ValueError):
                self.pub.total(area, [self.cells[(d, b)] for b in bs])

    def add_question(self, question: str, answers: Mapping[str, Mapping[tuple[str, str], int]], *,
                     one_answer: bool, districts: Sequence[str], bands: Sequence[str],
                     layers: Sequence[Layer]) -> dict[str, Grid]:
        """Register one question's answers and their tie to the people who took part, solve with everything
        earlier fixed, then fix this question's figures too."""
        prefix = ("answer", question)
        keys_before = set(self.pub.values)
        for choice, values in answers.items():
            _register(self.pub, (*prefix, choice), values, districts, bands, layers)
        groups = [list(answers)] if one_answer else [[c] for c in answers]
        for (d, b), took_here in self.cells.items():
            for group in groups:
                terms: dict[object, int] = {(*prefix, c, "c", d, b): 1 for c in group}
                terms[took_here] = -1
                with suppress(ValueError):  # untrue for a roll-up changed after it froze: not a fact then
                    self.pub.at_most(terms)
        result = self.pub.solve(hidden=self.hidden, fixed=self.fixed)
        mine = [k for k in self.pub.published if k not in keys_before]
        self.fixed += mine
        self.hidden += [k for k in mine if k in result.hidden]
        return {c: Grid(result, tuple(districts), tuple(bands), (*prefix, c)) for c in answers}


def protect_question(
    answers: Mapping[str, Mapping[tuple[str, str], int]], *, one_answer: bool, took: Grid | None,
    districts: Sequence[str], bands: Sequence[str], layers: Sequence[Layer], question: str = "",
    joint: FlowProblem | None = None,
) -> dict[str, Grid]:
    """Every answer of one question solved as one problem, beside the flow's took-part figures by area (fixed:
    published already, by `took_part_grid`) and the fact that those who answered in an area took part there.
    With `joint`, solved as the next question of its flow's problem instead (see `answer_grids`)."""
    if joint is not None:
        return joint.add_question(question, answers, one_answer=one_answer, districts=districts, bands=bands,
                                  layers=layers)
    pub = Publication()
    for choice, values in answers.items():
        _register(pub, ("answer", choice), values, districts, bands, layers)
    fixed: list[object] = []
    hidden: list[object] = []
    if took is not None:
        ds, bs = [*districts, UNKNOWN], [*bands, UNKNOWN]
        fixed, hidden = _register_took(pub, took, districts)
        groups = [list(answers)] if one_answer else [[c] for c in answers]
        for d in ds:
            took_here = ("took", "c", UNKNOWN, UNKNOWN) if d == UNKNOWN else ("took", *total_key(ALL_OF_FLOW, d))
            for group in groups:
                terms: dict[object, int] = {("answer", c, "c", d, b): 1 for c in group for b in bs}
                terms[took_here] = -1
                # Someone who answered without taking part in this area (a person who moved) makes it untrue:
                # then it is not a fact an attacker could use either, and is left out.
                with suppress(ValueError):
                    pub.at_most(terms)
    result = pub.solve(hidden=hidden, fixed=fixed)
    return {c: Grid(result, tuple(districts), tuple(bands), ("answer", c)) for c in answers}


# -- a flow -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    question_id: str
    choice: str
    grid: Grid


@dataclass(frozen=True)
class FlowCounts:
    """One flow's protected figures for one quarter: people who took part, and people per answer."""

    flow_id: str
    period: Period
    took_part: Grid | None  # by area only (band "" throughout): None when nobody took part
    answers: list[Answer]

    def took_part_value(self, layer: Layer, flow: Any, *, districts: Sequence[str] | None) -> int | None:
        """People who took part, for a role that counts everyone the flow is for (else None)."""
        if self.took_part is None or not layer.unknown:
            return None
        return self.took_part.value(ALL_OF_FLOW, districts=districts)


ALL_OF_FLOW = Layer((), True)  # the took-part grid has one (unknown-band) column: everyone


def took_part_grid(flow: Any, people: Iterable[Any], districts: Sequence[str]) -> Grid | None:
    """People who took part in `flow` by area (reporting.PeopleCell by district, question ""), protected on
    their own (nothing else printed adds up to them); None when nobody took part."""
    took: dict[tuple[str, str], int] = defaultdict(int)
    for pc in people:
        if pc.flow_id == flow.id and pc.question_id == "" and "|" not in pc.key:
            took[(pc.key if pc.key in districts else UNKNOWN, UNKNOWN)] += int(pc.people)
    return protect_grid(took, districts, (), [ALL_OF_FLOW]) if took else None


def answer_grids(
    flow: Any, cells: Iterable[Any], districts: Sequence[str], role_audiences: Mapping[str, Sequence[str]],
    took: Grid | None = None, *, took_by_area_band: Mapping[str, int] | None = None,
) -> list[Answer]:
    """Every answer of `flow` (roll-up reporting.ChoiceCell rows), each question's answers protected together
    for every layer at once, beside the flow's took-part figures `took`.
    Every choice the flow offers is listed, zeros included, and every question it reports, answered or not.

    With `took_by_area_band` ("district|band" -> people who took part, from the roll-up) the flow's questions
    are protected as one problem, one question at a time: each question is solved with every earlier one's
    figures fixed as they were decided, and with the fact that in each area and age band every question's
    answers come from the same people who took part there (an unknown the attacker can tie questions through:
    one question's printed answers show at least so many took part in an east 16-25 cell, which caps another's
    hidden ones). The last solve checks every hidden figure of the flow, earlier questions' included."""
    layers = layers_for(flow, role_audiences)
    bands = tuple(flow.bands)
    by_answer: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for c in cells:
        if c.flow_id != flow.id:
            continue
        d = c.district if c.district in districts else UNKNOWN
        b = c.band if c.band in bands else UNKNOWN
        by_answer[(c.question_id, c.choice)][(d, b)] += int(c.people)
    offered: list[tuple[str, str]] = []
    for node in getattr(flow, "nodes", ()):
        for ch in getattr(node, "choices", None) or ():
            offered.append((node.id, ch.id))
    # Every question the flow reports is listed, answered or not: a question (or a whole flow) left out when
    # nobody answered it said its hidden figures were 0 (issue 19, re-audit 5).
    reportable: list[tuple[str, str]] = []
    try:
        from admin.reports import catalog

        for info in catalog.questions(flow):
            reportable += [(info.question_id, ch) for ch, _ in info.choices]
    except (AttributeError, TypeError):
        pass  # not a content flow (a test's stand-in): its answered questions only
    keys = list(dict.fromkeys(offered + [k for k in reportable if k not in offered]))
    keys += sorted(set(by_answer) - set(keys))
    answered = {q for q, _ in by_answer} | {q for q, _ in reportable}
    multi = {n.id for n in getattr(flow, "nodes", ()) if getattr(n, "type", "") == "multi"}
    questions: dict[str, list[str]] = defaultdict(list)
    for q, ch in keys:
        if q in answered:
            questions[q].append(ch)
    grids: dict[tuple[str, str], Grid] = {}
    joint = (FlowProblem(took, took_by_area_band, districts, bands)
             if took is not None and took_by_area_band else None)
    for q, choices in questions.items():
        solved = protect_question({ch: by_answer.get((q, ch), {}) for ch in choices}, one_answer=q not in multi,
                                  took=took, districts=districts, bands=bands, layers=layers, question=q,
                                  joint=joint)
        grids.update({(q, ch): g for ch, g in solved.items()})
    return [Answer(q, ch, grids[(q, ch)]) for q, ch in keys if q in answered]


def flow_counts(
    flow: Any,
    period: Period,
    cells: Iterable[Any],
    people: Iterable[Any],
    districts: Sequence[str],
    role_audiences: Mapping[str, Sequence[str]],
) -> FlowCounts:
    """Protect one flow's roll-up cells and took-part rows for one quarter (no memo: see `for_flows`)."""
    took = took_part_grid(flow, people, districts)
    return FlowCounts(flow.id, period, took, answer_grids(flow, cells, districts, role_audiences, took))


def load(session: Any, library: Any, period: Period, *, settings: Any, now: datetime,
         flow_ids: Sequence[str], choices: bool = True) -> tuple[list[Any], list[Any]]:
    """The quarter's frozen roll-up (computed now if it never was; it freezes once the quarter has ended),
    exactly as the Panel update reads it: choice cells (unless `choices` is False) and took-part rows by
    district."""
    from admin.reports import catalog, reach
    from storage import reporting, rollups

    since, until = reach.bounds(period, settings.timezone)
    key = reach.period_key(period)
    rollups.refresh(session, key, since=since, until=until, reach_flows=catalog.reach_flows(library), now=now,
                    private_flows=catalog.private_flows(library))
    cells = reporting.rolled_choices(session, key, flow_ids=list(flow_ids)) if choices else []
    people = reporting.rolled_people(session, key, flow_ids=list(flow_ids), by="district")
    if choices:  # people by area and age band together ("district|band"): only the answers' protection reads it
        people += reporting.rolled_people(session, key, flow_ids=list(flow_ids), by="area_band")
    return cells, people


# Solved figures of this process, keyed by everything they are worked out from (the flow, the quarter, the
# areas, who counts whom, and the quarter's frozen roll-up rows of that flow): the same frozen input gives the
# same figures, so a page view after the first never solves again, and a changed input (a quarter rolled up
# again by `ourvoice report rollup --force`) can never be answered from an old result. Filled ahead by the
# `responses_warm` job (admin/jobs/responses.py) once a quarter has ended.
_MEMO: OrderedDict[tuple[object, ...], object] = OrderedDict()
MEMO_MAX = 4096  # grids of a few flows' answers over the eight listed quarters: small objects
SOLVES = [0]  # how many times a flow's figures were worked out (not answered from _MEMO): tests read it


def _memo(key: tuple[object, ...], make: Any) -> Any:
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    SOLVES[0] += 1
    value = make()
    _MEMO[key] = value
    while len(_MEMO) > MEMO_MAX:
        _MEMO.popitem(last=False)
    return value


def for_flows(session: Any, library: Any, flows: Sequence[Any], period: Period, *, settings: Any, now: datetime,
              districts: Sequence[str], role_audiences: Mapping[str, Sequence[str]],
              answers: bool = True) -> dict[str, FlowCounts]:
    """Several flows' protected figures for an ended quarter from one read of its frozen roll-up; with
    `answers` False only people who took part (the overview page and listing need no more)."""
    cells, people = load(session, library, period, settings=settings, now=now, flow_ids=[f.id for f in flows],
                         choices=answers)
    ds = tuple(districts)
    roles = tuple(sorted((k, tuple(v)) for k, v in role_audiences.items()))
    cells_of: dict[str, list[Any]] = defaultdict(list)
    people_of: dict[str, list[Any]] = defaultdict(list)
    for c in cells:
        cells_of[c.flow_id].append(c)
    for pc in people:
        people_of[pc.flow_id].append(pc)
    out = {}
    for f in flows:
        mine_p = people_of[f.id]
        took_key = ("took", f.id, period, ds,
                    tuple(sorted((p.question_id, p.key, p.people) for p in mine_p if "|" not in p.key)))
        took = _memo(took_key, lambda f=f, mine_p=mine_p: took_part_grid(f, mine_p, ds))
        grids: list[Answer] = []
        if answers:
            mine_c = cells_of[f.id]
            by_area_band = tuple(sorted((p.key, p.people) for p in mine_p if "|" in p.key))
            ans_key = ("answers", took_key, roles, tuple(f.bands),
                       tuple(sorted((c.question_id, c.choice, c.council, c.band, c.district, c.people)
                                    for c in mine_c)), by_area_band)
            grids = _memo(ans_key, lambda f=f, mine_c=mine_c, took=took, ab=by_area_band: answer_grids(
                f, mine_c, ds, role_audiences, took, took_by_area_band=dict(ab)))
        out[f.id] = FlowCounts(f.id, period, took, grids)
    return out


def for_flow(session: Any, library: Any, flow: Any, period: Period, *, settings: Any, now: datetime,
             districts: Sequence[str], role_audiences: Mapping[str, Sequence[str]],
             answers: bool = True) -> FlowCounts:
    """One flow's protected figures for an ended quarter (see `for_flows`)."""
    return for_flows(session, library, [flow], period, settings=settings, now=now, districts=districts,
                     role_audiences=role_audiences, answers=answers)[flow.id]


def counted_flows(library: Any) -> list[Any]:
    """The flows whose answers the Responses pages count: every flow but menus and private ones."""
    return sorted((f for f in library.flows.values() if f.kind != "menu" and not f.private), key=lambda f: f.id)


def previous_quarter(p: Period) -> Period:
    d = p[0] - timedelta(days=1)
    return periods.quarter(d.year, (d.month - 1) // 3 + 1)
