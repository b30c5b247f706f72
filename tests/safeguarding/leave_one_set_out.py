"""Leave one former blind set out: how the English detectors do on an author's wording they never saw.

Blind sets 1-10 are training data now (content/safeguarding/labelled/former_blind_*.yaml). To see what folding them
in does for wording nobody tuned on, train without one of them (everything else as `ourvoice safeguarding train`
does: same recipe, same threshold rule) and score both detectors, as the bot combines them, on its English
messages. Run by hand (about a minute and a half per set, per CPU); not part of the suite:

    python -m tests.safeguarding.leave_one_set_out 8 9 10
"""

from __future__ import annotations

import sys

from admin import risk_training as rt
from bot.risk_model import RiskModel
from bot.safeguarding import Lexicon, default_lexicon_path
from tests.safeguarding.quality import english_rows, former_blind_sets, fresh_rows, score


def main(numbers: list[int]) -> None:
    lexicon = Lexicon.from_file(default_lexicon_path())
    examples = rt.load_labelled(None, lexicon)
    concepts = rt.concepts_of(lexicon)
    sets = {int(p.name.split("_")[2]): p for p in former_blind_sets()}
    for n in numbers or sorted(sets):
        path = sets[n]
        model = RiskModel(rt.train_examples([ex for ex in examples if ex.source != path.name], concepts, lexicon))
        s = score(english_rows(fresh_rows(path)), lexicon, model, live=False)
        print(
            f"blind set {n} left out: both {s.caught['combined']} / {s.n_flag} ({s.recall('combined'):.3f}), "
            f"{s.alarms['combined']} / {s.n_not} ({s.fpr('combined'):.3f}); model alone "
            f"{s.recall('model'):.3f} / {s.fpr('model'):.3f}; threshold {model.threshold}",
            flush=True,
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])
