"""Scores each detector (lexicon, model, both) on a labelled set; shared by the quality test and the README table.

Sets: the tuning set (everything in content/safeguarding/labelled/, which both detectors learned from), the
team's older hold-out (tests/safeguarding/holdout_*.txt, never tuned on) and the frozen blind set
(tests/safeguarding/fresh/), written by someone who never saw the lexicon, the labelled data or the model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from admin.risk_training import load_labelled
from bot.language_check import assess_message
from bot.risk_model import RiskModel
from bot.safeguarding import Lexicon, assess_lexicon

HERE = Path(__file__).parent
FRESH = HERE / "fresh" / "fresh_2026-12-04.yaml"
FRESH_SECOND = HERE / "fresh" / "fresh_2026-12-04_second.yaml"
FRESH_THIRD = HERE / "fresh" / "fresh_2026-12-04_third.yaml"
FRESH_FOURTH = HERE / "fresh" / "fresh_2026-12-05_fourth.yaml"
FRESH_FIFTH = HERE / "fresh" / "fresh_2026-12-05_fifth.yaml"
FRESH_SIXTH = HERE / "fresh" / "fresh_2026-12-05_sixth.yaml"
FRESH_SEVENTH = HERE / "fresh" / "fresh_2026-12-05_seventh.yaml"
FRESH_EIGHTH = HERE / "fresh" / "fresh_2026-12-06_eighth.yaml"
FRESH_NINTH = HERE / "fresh" / "fresh_2026-12-06_ninth.yaml"
FRESH_TENTH = HERE / "fresh" / "fresh_2026-12-06_tenth.yaml"
BLIND_SETS = (FRESH, FRESH_SECOND, FRESH_THIRD, FRESH_FOURTH, FRESH_FIFTH, FRESH_SIXTH, FRESH_SEVENTH, FRESH_EIGHTH,
              FRESH_NINTH, FRESH_TENTH)

Row = tuple[str, bool, str | None]  # text, must flag, category


@dataclass
class Score:
    n_flag: int = 0
    n_not: int = 0
    caught: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    alarms: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def recall(self, detector: str) -> float:
        return self.caught[detector] / self.n_flag

    def fpr(self, detector: str) -> float:
        return self.alarms[detector] / self.n_not


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.rstrip("\r") for line in text.split("\n") if line.strip() and not line.startswith("#")]


def tuning_rows() -> list[Row]:
    return [(ex.text, ex.flag, ex.category) for ex in load_labelled()]


def team_holdout_rows() -> list[Row]:
    return [(t, True, None) for t in _lines(HERE / "holdout_flag.txt")] + [
        (t, False, None) for t in _lines(HERE / "holdout_not_flag.txt")
    ]


def fresh_rows(path: Path = FRESH) -> list[Row]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(r["text"], True, r["category"]) for r in data["flag"]] + [(r["text"], False, None) for r in data["not_flag"]]


def fresh_meta(path: Path = FRESH) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"written": str(data["written"]), "author_role": str(data["author_role"])}


def english_rows(rows: list[Row]) -> list[Row]:
    """The messages the live check reads as English (bot.language_id): the ones the two detectors answer for.
    Every other message goes to a person as "unassessed" unless its language's own lexicon flags it."""
    from bot.language_id import ENGLISH, identify

    return [r for r in rows if identify(r[0]).locale == ENGLISH]


def score(rows: list[Row], lexicon: Lexicon, model: RiskModel, *, live: bool = True) -> Score:
    """Each detector's hits on `rows`; `live=False` skips the live check (which names each message's language
    first, the slow part), for callers that read only the English detectors."""
    s = Score()
    for text, must, category in rows:
        lex = assess_lexicon(text, lexicon).flagged
        mod = model.assess(text).fired
        # "live": what the bot does with the message, other languages included (a message in a language it
        # cannot read goes to a person as unassessed, so it counts as caught and, when everyday, as an alarm).
        fired = {"lexicon": lex, "model": mod, "combined": lex or mod}
        if live:
            fired["live"] = assess_message(text, lexicon, model=model).flagged
            # The same without the other-languages model: every other-language message no lexicon flags goes
            # to a person (what the bot did before that model, 2026-12-06).
            fired["live_without"] = assess_message(text, lexicon, model=model, others=False).flagged
        if must:
            s.n_flag += 1
            for name, hit in fired.items():
                s.caught[name] += hit
            if category:
                s.by_category[category][0] += lex or mod
                s.by_category[category][1] += 1
            if not (lex or mod):
                s.missed.append(text)
        else:
            s.n_not += 1
            for name, hit in fired.items():
                s.alarms[name] += hit
            if lex or mod:
                s.false_alarms.append(text)
    return s


BLIND_NOTES = {
    FRESH: "looked at during development",
    FRESH_SECOND: "looked at during development",
    FRESH_THIRD: "scored once on 2026-12-05 (0.966 / 0.102), since then looked at during development",
    FRESH_FOURTH: "scored once on 2026-12-05 by the lead after round 2's model; looked at for round 3",
    FRESH_FIFTH: "scored once on 2026-12-05 by the lead after round 3's model was final; never looked at in development",
    FRESH_SIXTH: "scored in totals with round 3's model (0.841 / 0.145) and two trial models, then read message by "
                 "message for round 4's lexicon changes: a development set since",
    FRESH_SEVENTH: "scored in totals only on 2026-12-05 (round 4: 0.843 / 0.098), then read message by message on "
                   "2026-12-06 for round 5's training data: a development set since",
    FRESH_EIGHTH: "scored in totals only on 2026-12-06, with round 4's model and round 5's; never read message by "
                  "message",
    FRESH_NINTH: "written after round 5 shipped and scored once, in totals only, on 2026-12-06 with that model; "
                 "never read message by message",
    FRESH_TENTH: "written before the other-languages model and scored once, in totals only, on 2026-12-06 with it "
                 "(live 0.972 / 0.204), again after its threshold was lowered; never read message by message",
}


def markdown_table() -> str:
    """The README's table: each detector and both together, on each set, then the blind sets by category."""
    from bot.risk_model import cached_model
    from bot.safeguarding import default_lexicon_path

    lexicon, model = Lexicon.from_file(default_lexicon_path()), cached_model()
    sets = [
        ("tuning set (all labelled data, both detectors learned from it)", tuning_rows()),
        ("team hold-out (older, written by the team, never tuned on)", team_holdout_rows()),
    ]
    for n, path in enumerate(BLIND_SETS, start=1):
        meta = fresh_meta(path)
        label = f"**blind set {n}** ({meta['written']}, {meta['author_role']}; {BLIND_NOTES[path]})"
        sets.append((label, fresh_rows(path)))
    out = ["| set | disclosures / everyday | lexicon recall / FPR | model recall / FPR | **both** recall / FPR "
           "| live check, other languages to a person: recall / FPR | **live check with the other-languages model** |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    blinds = []
    for name, rows in sets:
        s = score(rows, lexicon, model)
        cells = [f"{s.recall(d):.3f} / {s.fpr(d):.3f}"
                 for d in ("lexicon", "model", "combined", "live_without", "live")]
        out.append(f"| {name} | {s.n_flag} / {s.n_not} | {cells[0]} | {cells[1]} | **{cells[2]}** | {cells[3]} "
                   f"| **{cells[4]}** |")
        blinds.append(s)
    blinds = blinds[-len(BLIND_SETS):]
    head = " | ".join(f"blind set {n}" for n in range(1, len(blinds) + 1))
    out += ["", f"| by category (both detectors) | {head} |", "| --- |" + " --- |" * len(blinds)]
    for cat in sorted({c for b in blinds for c in b.by_category}):
        cells = []
        for b in blinds:
            hit, total = b.by_category.get(cat, [0, 0])
            cells.append(f"{hit} / {total} ({hit / total:.2f})" if total else "-")
        out.append(f"| {cat} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown_table())
