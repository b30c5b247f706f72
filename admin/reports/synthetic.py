"""Synthetic participants and answers for demos, tests and benchmarks (never real people or words).

Mixes of age band, district and council follow the domain brief's figures (section 6). Rows go in
through storage.bulk in large batches; a fixed seed gives the same data every time.
"""

from __future__ import annotations

import json
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from admin.reports.catalog import WELLBEING_FLOW, questions
from content.loader import Library, current_council
from storage import bulk
from storage.db import Session, utc

# Bot-eligible young people: 7-10 ~260, 11-15 ~600, 16-17 ~510 plus care leavers up to 25 (DOMAIN 6.11).
BAND_WEIGHTS = {"junior": 260, "teen": 600, "young_adult": 760}
# Areas: East Kent (incl. Thanet) weighted up, a tenth placed out of county (DOMAIN 1.9, 6.3).
DISTRICT_WEIGHTS = {"north": 19, "south": 14, "east": 24, "thanet": 15, "west": 18, "out_of_county": 10}


def _district_weights() -> dict[str, int]:
    """Kent's weights for Kent's districts; another council's file gets its districts weighted evenly."""
    districts = list(current_council().districts)
    if sorted(districts) == sorted(DISTRICT_WEIGHTS):
        return DISTRICT_WEIGHTS
    return dict.fromkeys(districts, 10)


def _council_for(band: str, district: str, r: float) -> str | None:
    """Which children-in-care council (if any) a made-up young person sits on, from the council file."""
    councils = current_council().councils
    if district == "thanet" and band in ("junior", "teen") and r < 0.15 and "ocypc_extra" in councils:
        return "ocypc_extra"  # Kent's council for East Kent and Thanet, set up because travel was hard there
    for cid, group in councils.items():
        if tuple(group.bands) == (band,):
            return cid if r < (0.12 if band == "junior" else 0.08) else None
    return None
CARER_SHARE = 0.25  # ~900 fostering households next to ~2,900 children and care leavers

# Free-text answers written for the demo. Some deliberately carry details the scrubber must remove.
PHRASES = {
    "junior": [
        "They listen to me and give me hugs when I am sad.",
        "My carer {name} takes me to swimming on Saturdays.",
        "I like it when we bake cakes together.",
        "They should have a trampoline and a dog!",
        "Being kind and letting me see my brother.",
        "I want carers who play games with me after school.",
    ],
    "teen": [
        "Someone who actually listens and doesn't judge you.",
        "Knowing about the house before I move, like a photo of my room.",
        "My carer {name} helped me settle at {school} when I moved to {place}.",
        "Treat us like part of the family, not a lodger.",
        "Let me have my phone and some privacy.",
        "Being honest with me even when it's bad news.",
        "Help getting to football and seeing my mates in {place}.",
    ],
    "young_adult": [
        "Carers who help you learn to cook and budget before you leave.",
        "Staying in touch after you turn 18 matters a lot.",
        "Tell us the truth about what's happening with our plans.",
        "My old carer {name} still texts me on {date}, that means the world.",
        "More help with college and getting a job.",
        "Understanding that we've been through a lot.",
    ],
    "carer": [
        "Quicker replies from the child's social worker would help.",
        "Out of hours support when things go wrong at night.",
        "More training on trauma and attachment.",
        "Being treated as part of the team around the child.",
        "Call me on {phone} any time, I'm happy to help shape this.",
    ],
}
FILL = {
    "name": ["Sam", "Jess", "Ali", "Mia", "Tom", "Priya", "Kasia", "Leo"],
    "school": ["Oakfield Academy", "Riverside Primary School", "Hillview College"],
    "place": ["Margate", "Maidstone", "Ashford", "Folkestone", "Dover", "Canterbury", "Tunbridge Wells"],
    "date": ["12 March", "my birthday on 3/5"],
    "phone": ["07700 900123", "01632 960123"],
}


@dataclass(frozen=True)
class QSpec:
    """One question to fill: kind choice|multi|scale|yesno|text and its choice ids."""

    question_id: str
    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowSpec:
    flow_id: str
    audience: str  # young_person | carer
    bands: tuple[str, ...]
    questions: tuple[QSpec, ...]
    monthly: bool = False  # check-ins: one run per month
    take_up: float = 0.5  # share of eligible people who answer
    consent_question: str | None = None


@dataclass
class SeedResult:
    participants: int = 0
    submissions: int = 0
    answers: int = 0
    choices: int = 0
    quarantined: int = 0
    by_flow: dict[str, int] = field(default_factory=dict)


def specs_from_library(library: Library) -> list[FlowSpec]:
    """Topics, surveys and the wellbeing check-in from the content library (plus a default check-in)."""
    specs: list[FlowSpec] = []
    for flow in sorted(library.flows.values(), key=lambda f: f.id):
        if flow.kind not in ("topic", "survey") and flow.id != WELLBEING_FLOW:
            continue
        qs = []
        consent = None
        for info in questions(flow, include_text=True):
            qs.append(QSpec(info.question_id, info.kind, tuple(c for c, _ in info.choices)))
        for node in flow.nodes:
            if getattr(node, "type", "") == "yesno" and not getattr(node, "report", True):
                consent = node.id
                qs.append(QSpec(node.id, "yesno", ("yes", "no")))
        audience = (
            "carer" if "carer" in flow.audience and "young_person" not in flow.audience else "young_person"
        )
        specs.append(
            FlowSpec(
                flow.id,
                audience,
                tuple(flow.bands),
                tuple(qs),
                monthly=flow.id == WELLBEING_FLOW,
                take_up=0.35 if flow.id == WELLBEING_FLOW else 0.55 if audience == "young_person" else 0.3,
                consent_question=consent,
            )
        )
    if not any(s.flow_id == WELLBEING_FLOW for s in specs):
        specs.append(default_wellbeing())
    return specs


def default_wellbeing() -> FlowSpec:
    """The check-in as agreed between features (scale questions 1-5), used when content lacks it."""
    scale = tuple(str(v) for v in range(1, 6))
    qs = tuple(
        QSpec(q, "scale", scale)
        for q in ("feel_safe", "trust_adults", "trusted_adult", "happy_yesterday", "getting_better")
    )
    return FlowSpec(
        WELLBEING_FLOW, "young_person", ("junior", "teen", "young_adult"), qs, monthly=True, take_up=0.35
    )


def _picker(rng: random.Random, weights: Sequence[float]):
    cum = list(accumulate(weights))
    total = cum[-1]

    def pick() -> int:
        return bisect(cum, rng.random() * total)

    return pick


class _Gen:
    """Holds the random source and the per-question answer leanings (fixed by the seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lean: dict[tuple[str, str], list[float]] = {}
        self.pickers: dict[tuple[str, str], Any] = {}

    def pick(self, flow_id: str, q: QSpec) -> int:
        key = (flow_id, q.question_id)
        if key not in self.pickers:
            self.pickers[key] = _picker(self.rng, self.weights(flow_id, q))
        return self.pickers[key]()

    def weights(self, flow_id: str, q: QSpec) -> list[float]:
        key = (flow_id, q.question_id)
        if key not in self.lean:
            if q.kind == "scale":
                self.lean[key] = [0.5, 1.0, 2.2, 3.2, 2.6]
            else:
                # A clear favourite and a long tail, so reports look like real consultations.
                self.lean[key] = [self.rng.uniform(0.2, 1.0) ** 2 * 4 for _ in q.choices] or [1.0]
        return self.lean[key]


def _phrase(rng: random.Random, band: str) -> str:
    text = rng.choice(PHRASES.get(band, PHRASES["teen"]))
    for k, options in FILL.items():
        text = text.replace("{" + k + "}", rng.choice(options))
    return text


def generate(
    specs: Sequence[FlowSpec],
    *,
    people: int,
    seed: int,
    since: datetime,
    until: datetime,
    ids: dict[str, int],
    created: datetime,
    quarantine_rate: float = 0.02,
    max_answers: int | None = None,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (table, rows) batches in dependency order; ids continue from `ids` (see storage.bulk.next_ids).

    With `max_answers`, stops after the person whose answers reach that many (people is then a ceiling).
    """
    g = _Gen(seed)
    rng = g.rng
    band_pick = _picker(rng, list(BAND_WEIGHTS.values()))
    bands = list(BAND_WEIGHTS)
    weights = _district_weights()
    district_pick = _picker(rng, list(weights.values()))
    districts = list(weights)
    span = max(1.0, (until - since).total_seconds())
    created_n = utc(created)
    pid, sid, aid, cid = ids["participant"], ids["submission"], ids["answer"], ids["answer_choice"]
    batch_p: list[dict[str, Any]] = []
    batch_s: list[dict[str, Any]] = []
    batch_a: list[dict[str, Any]] = []
    batch_c: list[dict[str, Any]] = []
    months = max(1, round(span / (30.4 * 86400)))
    for n in range(people):
        carer = rng.random() < CARER_SHARE
        band = "carer" if carer else bands[band_pick()]
        district = districts[district_pick()]
        council = None if carer else _council_for(band, district, rng.random())
        audience = "carer" if carer else "young_person"
        batch_p.append(
            {
                "id": pid,
                "case_ref": f"S-{seed % 1000:03d}{n:07d}",
                "audience": audience,
                "band": band,
                "district": district,
                "council": council,
                "status": "active",
                "created_at": created_n,
            }
        )
        for spec in specs:
            if spec.audience != audience or band not in spec.bands:
                continue
            runs = months if spec.monthly else 1
            for run in range(runs):
                if rng.random() >= spec.take_up:
                    continue
                if spec.monthly:
                    lo = since + timedelta(seconds=span * run / runs)
                    at = lo + timedelta(seconds=rng.random() * span / runs)
                else:
                    at = since + timedelta(seconds=rng.random() * span)
                at_n = utc(at).replace(microsecond=0)
                batch_s.append(
                    {
                        "id": sid,
                        "participant_id": pid,
                        "flow_id": spec.flow_id,
                        "run": run,
                        "status": "completed",
                        "mode": "chat",
                        "audience": audience,
                        "band": band,
                        "district": district,
                        "council": council,
                        "wave_id": None,
                        "shared_with_worker": False,
                        "started_at": at_n,
                        "completed_at": at_n,
                    }
                )
                shared = False
                for q in spec.questions:
                    if q.question_id == spec.consent_question:
                        continue
                    if q.kind == "text":
                        if rng.random() >= 0.3:
                            continue
                        shared = shared or rng.random() < 0.7
                        quarantined = rng.random() < quarantine_rate
                        batch_a.append(
                            {
                                "id": aid,
                                "submission_id": sid,
                                "question_id": q.question_id,
                                "value_json": "null",
                                "text_value": None if quarantined else _phrase(rng, band),
                                "skipped": False,
                                "quarantined": quarantined,
                                "answered_at": at_n,
                            }
                        )
                        aid += 1
                        continue
                    w = g.weights(spec.flow_id, q)
                    if q.kind == "multi":
                        top = max(w)
                        picks = [
                            c
                            for c, x in zip(q.choices, w, strict=True)
                            if rng.random() < 0.15 + 0.6 * x / top
                        ]
                        if not picks:
                            continue
                        value = json.dumps(picks)
                    else:
                        idx = g.pick(spec.flow_id, q) if len(w) == len(q.choices) else 0
                        if spec.monthly and q.kind == "scale" and run and rng.random() < 0.08 * run / runs:
                            idx = min(4, idx + 1)  # things getting a little better over the months
                        picks = [q.choices[min(idx, len(q.choices) - 1)]]
                        value = picks[0] if q.kind == "scale" else json.dumps(picks[0])
                    batch_a.append(
                        {
                            "id": aid,
                            "submission_id": sid,
                            "question_id": q.question_id,
                            "value_json": value,
                            "text_value": None,
                            "skipped": False,
                            "quarantined": False,
                            "answered_at": at_n,
                        }
                    )
                    for ch in picks:
                        batch_c.append(
                            {
                                "id": cid,
                                "answer_id": aid,
                                "submission_id": sid,
                                "flow_id": spec.flow_id,
                                "question_id": q.question_id,
                                "choice": ch,
                                "band": band,
                                "district": district,
                                "answered_at": at_n,
                            }
                        )
                        cid += 1
                    aid += 1
                if spec.consent_question:
                    yes = "yes" if shared else "no"
                    batch_a.append(
                        {
                            "id": aid,
                            "submission_id": sid,
                            "question_id": spec.consent_question,
                            "value_json": json.dumps(yes),
                            "text_value": None,
                            "skipped": False,
                            "quarantined": False,
                            "answered_at": at_n,
                        }
                    )
                    batch_c.append(
                        {
                            "id": cid,
                            "answer_id": aid,
                            "submission_id": sid,
                            "flow_id": spec.flow_id,
                            "question_id": spec.consent_question,
                            "choice": yes,
                            "band": band,
                            "district": district,
                            "answered_at": at_n,
                        }
                    )
                    aid += 1
                    cid += 1
                sid += 1
        pid += 1
        if max_answers is not None and aid - ids["answer"] >= max_answers:
            break
        if len(batch_a) >= 50_000:
            yield from _flush(batch_p, batch_s, batch_a, batch_c)
            batch_p, batch_s, batch_a, batch_c = [], [], [], []
    yield from _flush(batch_p, batch_s, batch_a, batch_c)


def _flush(p: list, s: list, a: list, c: list) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for name, rows in (("participant", p), ("submission", s), ("answer", a), ("answer_choice", c)):
        if rows:
            yield name, rows


def seed(
    session: Session,
    specs: Sequence[FlowSpec],
    *,
    people: int,
    seed: int,
    since: datetime,
    until: datetime,
    now: datetime,
    max_answers: int | None = None,
) -> SeedResult:
    """Insert synthetic people and their answers in [since, until) inside the caller's transaction."""
    result = SeedResult()
    ids = bulk.next_ids(session)
    batches = generate(
        specs,
        people=people,
        seed=seed,
        since=since.astimezone(UTC),
        until=until.astimezone(UTC),
        ids=ids,
        created=now,
        max_answers=max_answers,
    )
    with bulk.loading(session):
        for table, rows in batches:
            _count(result, table, rows)
            bulk.insert_many(session, table, rows)
    return result


def _count(result: SeedResult, table: str, rows: list[dict[str, Any]]) -> None:
    if table == "participant":
        result.participants += len(rows)
    elif table == "submission":
        result.submissions += len(rows)
        for r in rows:
            result.by_flow[r["flow_id"]] = result.by_flow.get(r["flow_id"], 0) + 1
    elif table == "answer":
        result.answers += len(rows)
        result.quarantined += sum(1 for r in rows if r["quarantined"])
    else:
        result.choices += len(rows)
