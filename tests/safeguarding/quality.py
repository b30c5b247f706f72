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
from bot.language_id import ENGLISH, identify
from bot.risk_model import RiskModel
from bot.safeguarding import Lexicon, assess

HERE = Path(__file__).parent
FRESH_ELEVENTH = HERE / "fresh" / "fresh_2026-12-06_eleventh.yaml"
FRESH_TWELFTH = HERE / "fresh" / "fresh_2026-12-06_twelfth.yaml"
FRESH_THIRTEENTH = HERE / "fresh" / "fresh_2026-12-07_thirteenth.yaml"
FRESH_FOURTEENTH = HERE / "fresh" / "fresh_2026-12-07_fourteenth.yaml"
FRESH_FIFTEENTH = HERE / "fresh" / "fresh_2026-12-07_fifteenth.yaml"
FRESH_SIXTEENTH = HERE / "fresh" / "fresh_2026-12-07_sixteenth.yaml"
BLIND_SETS = (FRESH_ELEVENTH, FRESH_TWELFTH, FRESH_THIRTEENTH, FRESH_FOURTEENTH, FRESH_FIFTEENTH, FRESH_SIXTEENTH)
FIRST_BLIND_NUMBER = 11
"""The frozen blind sets: never trained on. Sets 1-10 were blind once and are training data now
(content/safeguarding/labelled/former_blind_*.yaml, their English messages only)."""


def former_blind_sets() -> list[Path]:
    """Blind sets 1-10, folded into training on 2026-12-06: still unseen by the other-languages model."""
    from admin.risk_training import labelled_dir

    return sorted(labelled_dir().glob("former_blind_*.yaml"))


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


def fresh_rows(path: Path = FRESH_ELEVENTH) -> list[Row]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(r["text"], True, r["category"]) for r in data["flag"]] + [(r["text"], False, None) for r in data["not_flag"]]


def fresh_meta(path: Path = FRESH_ELEVENTH) -> dict[str, str]:
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
        # One pass of both detectors, as the bot combines them (lexicon_stands): the lexicon's own verdict is
        # "fired" or "overruled", the model's is whether it is among the detectors.
        verdict = assess(text, lexicon, model)
        both = verdict.flagged
        lex = "lexicon" in verdict.detectors or bool(verdict.overruled)
        mod = "model" in verdict.detectors
        fired = {"lexicon": lex, "model": mod, "combined": both}
        if live:
            # "live": what the bot does with the message, other languages included (a message in a language it
            # cannot read goes to a person as unassessed, so it counts as caught and, when everyday, as an alarm).
            # For a message read as English that is exactly the two detectors' verdict.
            if identify(text).locale == ENGLISH:
                fired["live"] = fired["live_without"] = both
            else:
                fired["live"] = assess_message(text, lexicon, model=model).flagged
                # The same without the other-languages model: every other-language message no lexicon flags goes
                # to a person (what the bot did before that model, 2026-12-06).
                fired["live_without"] = assess_message(text, lexicon, model=model, others=False).flagged
        if must:
            s.n_flag += 1
            for name, hit in fired.items():
                s.caught[name] += hit
            if category:
                s.by_category[category][0] += both
                s.by_category[category][1] += 1
            if not both:
                s.missed.append(text)
        else:
            s.n_not += 1
            for name, hit in fired.items():
                s.alarms[name] += hit
            if both:
                s.false_alarms.append(text)
    return s


BLIND_NOTES = {
    FRESH_ELEVENTH: "written before round 6; scored in totals only with its first rule for overruling the lexicon, "
                    "its second and the final one; never read",
    FRESH_TWELFTH: "the same, written alongside set 11 by another assistant (asked to lean towards younger "
                   "children, care leavers, carers and long messages with the worry in the middle)",
    FRESH_THIRTEENTH: "written after a review revised round 6's rule (asked for played-down disclosures and joking "
                      "talk); scored in totals only with the second rule and the final one; never read",
    FRESH_FOURTEENTH: "the same, written alongside set 13 (asked for messages mixing English and another language)",
    FRESH_FIFTEENTH: "written after a second review narrowed the rule again; scored once, in totals only, with the "
                     "final models; never read",
    FRESH_SIXTEENTH: "the same, written alongside set 15 (asked for disclosures right after an ordinary topic)",
}


def markdown_table() -> str:
    """The README's table: each detector and both together, on each set, then the blind sets by category."""
    from bot.risk_model import cached_model
    from bot.safeguarding import default_lexicon_path

    lexicon, model = Lexicon.from_file(default_lexicon_path()), cached_model()
    sets = [
        ("tuning set (all labelled data, blind sets 1-10 included; both detectors learned from it)", tuning_rows()),
        ("team hold-out (older, written by the team, never tuned on)", team_holdout_rows()),
    ]
    for n, path in enumerate(BLIND_SETS, start=FIRST_BLIND_NUMBER):
        meta = fresh_meta(path)
        label = f"**blind set {n}** ({meta['written']}, {meta['author_role']}; {BLIND_NOTES[path]})"
        sets.append((label, fresh_rows(path)))
    sets.append(("**blind sets 11-16 together**", [r for p in BLIND_SETS for r in fresh_rows(p)]))
    out = ["| set | disclosures / everyday | lexicon recall / FPR | model recall / FPR | **both** recall / FPR "
           "| both, on the messages read as English | **live check** (other languages included) |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    blinds = []
    for name, rows in sets:
        s = score(rows, lexicon, model)
        en = score(english_rows(rows), lexicon, model, live=False)
        cells = [f"{s.recall(d):.3f} / {s.fpr(d):.3f}" for d in ("lexicon", "model", "combined", "live")]
        english = f"{en.caught['combined']} / {en.n_flag} ({en.recall('combined'):.3f}), " \
                  f"{en.alarms['combined']} / {en.n_not} ({en.fpr('combined'):.3f})"
        out.append(f"| {name} | {s.n_flag} / {s.n_not} | {cells[0]} | {cells[1]} | **{cells[2]}** | {english} "
                   f"| **{cells[3]}** |")
        blinds.append(en)
    blinds = blinds[2 : 2 + len(BLIND_SETS)]
    head = " | ".join(f"blind set {n}" for n in range(FIRST_BLIND_NUMBER, FIRST_BLIND_NUMBER + len(blinds)))
    out += ["", f"| by category (both detectors, messages read as English) | {head} |",
            "| --- |" + " --- |" * len(blinds)]
    for cat in sorted({c for b in blinds for c in b.by_category}):
        cells = []
        for b in blinds:
            hit, total = b.by_category.get(cat, [0, 0])
            cells.append(f"{hit} / {total} ({hit / total:.2f})" if total else "-")
        out.append(f"| {cat} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown_table())
