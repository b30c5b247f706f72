"""Unit tests for the safeguarding check: normalisation, robustness, categories and staff-editable data."""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.risk_model import RiskModel
from bot.safeguarding import UNASSESSED, Assessment, Lexicon, assess, assess_lexicon, default_lexicon_path, normalise

EXPECTED_CATEGORIES = {
    "suicide_self_harm", "physical_abuse", "sexual_abuse", "neglect", "exploitation_grooming",
    "missing_homeless", "threats_violence", "not_safe",
}  # fmt: skip
# Loaded once: hypothesis tests cannot take function-scoped fixtures.
LIVE = Lexicon.from_file(default_lexicon_path())
LEXICON_WORDS = [
    "kill",
    "myself",
    "i",
    "want",
    "to",
    "die",
    "phone",
    "died",
    "...",
    "*",
    "<actor>",
    "\u200b",
    "\U0001f52a",
]


@pytest.fixture
def lexicon() -> Lexicon:
    return LIVE


# ---- normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k\u200bill myself", "kill myself"),
        ("k\u200di\u2060ll my\ufeffself", "kill myself"),
        ("KILL MYSELF", "kill myself"),
        ("kms", "kill myself"),
        ("dont wanna live", "do not want to live"),
        ("don't", "do not"),
        ("I\u2019m scared", "i am scared"),
        ("i want \U0001f62d\U0001f62d to die", "i want to die"),
        ("i want\U0001f494die", "i want die"),
        ("k1ll mys3lf", "kill myself"),
        ("h3lp", "help"),
        ("see you at 10pm on the 4th", "see you at 10pm on the 4th"),
        ("b4 2nite", "before tonight"),
        ("k\u0456ll", "kill"),  # Cyrillic i
        ("suïcide", "suicide"),
        ("hellllp me", "hellp me"),
        ("sooooo sad", "soo sad"),
        ("  lots\t\nof   space  ", "lots of space"),
        ("", ""),
        ("\U0001f600\U0001f600", ""),
    ],
)
def test_normalise(lexicon: Lexicon, text: str, expected: str) -> None:
    assert normalise(text, lexicon) == expected


def test_stretched_letters_still_match(lexicon: Lexicon) -> None:
    assert assess("hellllp me", lexicon).flagged
    assert assess("i want to diiiiie", lexicon).flagged
    assert normalise("hellllp", lexicon) != normalise("help", lexicon)  # kept readable; matching squeezes


def test_spelt_out_letters_are_rejoined(lexicon: Lexicon) -> None:
    assert assess("i want to k i l l myself", lexicon).flagged
    assert normalise("i w a n t to d i e", lexicon) == "i want to die"


def test_a_word_that_looks_like_stretched_text_speak_is_left_alone(lexicon: Lexicon) -> None:
    assert normalise("there is none left", lexicon) == "there is none left"
    assert not assess("that is so odd", lexicon).flagged


# ---- robustness ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_assess_never_raises_and_returns_known_categories(text: str) -> None:
    result = assess(text, LIVE)
    assert isinstance(result, Assessment)
    assert result.flagged == bool(result.categories)
    assert list(result.categories) == sorted(set(result.categories))
    assert set(result.categories) <= set(LIVE.categories)  # an "unassessed" here would mean a bug


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(LEXICON_WORDS)))
def test_assess_handles_lexicon_words_in_any_order(words: list[str]) -> None:
    result = assess(" ".join(words), LIVE)
    assert set(result.categories) <= set(LIVE.categories)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02\x7f",
        "\t\n\r\x0b\x0c",
        "\U0001f600" * 50,
        "\ud800 lone surrogate",
        "\u202e\u200f",
        "🔪",
    ],
)
def test_assess_copes_with_odd_input(lexicon: Lexicon, text: str) -> None:
    result = assess(text, lexicon)
    assert UNASSESSED not in result.categories


def test_long_message_is_read_to_the_end(lexicon: Lexicon) -> None:
    filler = "we went to the park and had chips and it was a really nice day out. " * 300
    text = (filler + "i want to kill myself")[-20_000:]
    assert len(text) == 20_000
    started = time.perf_counter()
    result = assess(text, lexicon)
    assert time.perf_counter() - started < 2.0
    assert "suicide_self_harm" in result.categories


def test_failure_flags_rather_than_passes(lexicon: Lexicon) -> None:
    result = assess(None, lexicon)  # type: ignore[arg-type]  # simulates an internal error
    assert result == Assessment(flagged=True, categories=(UNASSESSED,), score=1.0)


def test_assessment_is_frozen() -> None:
    result = Assessment(flagged=False, categories=())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.flagged = True  # type: ignore[misc]


# ---- categories ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i want to kill myself", "suicide_self_harm"),
        ("my stepdad hits me", "physical_abuse"),
        ("my uncle touched my private parts", "sexual_abuse"),
        ("theres no food in the house and mums always drunk", "neglect"),
        ("a man online keeps asking me for pics", "exploitation_grooming"),
        ("i've been sleeping rough since they kicked me out", "missing_homeless"),
        ("he pulled a knife on me", "threats_violence"),
        ("please help me i'm not safe", "not_safe"),
    ],
)
def test_one_example_per_category(lexicon: Lexicon, text: str, category: str) -> None:
    result = assess(text, lexicon)
    assert result.flagged
    assert category in result.categories


def test_negation_still_flags(lexicon: Lexicon) -> None:
    # On purpose: "not" does not cancel a disclosure; a person decides what it means.
    assert assess("i'm not going to kill myself", lexicon).flagged
    assert assess("i dont want to die", lexicon).flagged


# ---- everyday phrases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "my phone died",
        "that film was killing me",
        "the haunted house was so scary",
        "i could murder a pizza",
        "this homework is killing me lol",
        "i'm dying to go to the party",
        "we killed it at football",
        "im dead 😂😂",
        "we had to kill time at the station",
        "my battery is dead",
        "i killed myself laughing",
        "my brother beat me at fifa again",
    ],
)
def test_everyday_phrases_do_not_flag(lexicon: Lexicon, text: str) -> None:
    assert not assess(text, lexicon).flagged


def test_every_plain_not_risk_phrase_is_itself_safe(lexicon: Lexicon) -> None:
    plain = [p for p in lexicon.not_risk if not any(mark in p for mark in ("*", "...", "<"))]
    assert len(plain) >= 20
    flagged = [p for p in plain if assess_lexicon(p, lexicon).flagged]
    assert flagged == []


def test_an_everyday_phrase_does_not_hide_a_disclosure(lexicon: Lexicon) -> None:
    assert assess("my phone died and i want to kill myself", lexicon).flagged
    assert assess("that film was killing me but he hits me every night", lexicon).flagged


@pytest.mark.parametrize(
    "text",
    [
        "i am writing an essay about domestic abuse",
        "we had a lesson on self harm and where to get support",
        "there was an assembly about knife crime today",
        "the documentary about county lines was good",
        "my psychology coursework on child abuse is due friday",
        "the domestic violence storyline in the soap was well done",
    ],
)
def test_talk_about_a_topic_is_not_a_disclosure_to_the_lexicon(lexicon: Lexicon, text: str) -> None:
    """School work, media and lessons name harm without disclosing it (not_risk: <talk_frame> about <harm_topic>)."""
    assert not assess_lexicon(text, lexicon).flagged


@pytest.mark.parametrize(
    "text",
    [
        "i am writing an essay about domestic abuse because my dad hits me",
        "after the lesson on self harm i cut myself again",
        "can i talk about suicide",
        "i have been researching suicide methods",
    ],
)
def test_a_topic_frame_does_not_hide_a_disclosure(lexicon: Lexicon, text: str) -> None:
    assert assess_lexicon(text, lexicon).flagged


# ---- staff-editable data ---------------------------------------------------------------------------------


def test_staff_can_add_a_pattern_without_code() -> None:
    custom = Lexicon.from_dict(
        {
            "schema_version": 1,
            "id": "custom_test",
            "categories": {"custom": {"label": "Custom", "patterns": ["purple elephant"]}},
        }
    )
    assert assess_lexicon("I saw a PURPLE   elephant!!", custom) == Assessment(flagged=True, categories=("custom",))
    assert not assess_lexicon("an elephant", custom).flagged
    # Live, the statistical model reads the message too: the new pattern still flags, and says which fired.
    assert assess("I saw a PURPLE   elephant!!", custom).detectors[0] == "lexicon"


def test_wildcards_groups_and_exclusions_in_custom_data() -> None:
    custom = Lexicon.from_dict(
        {
            "schema_version": 1,
            "categories": {
                "demo": {
                    "label": "Demo",
                    "patterns": ["<who> ... shout* at me", "took * pills"],
                    "exclusions": ["<who> ... shout* at me in the game"],
                }
            },
            "groups": {"who": ["he", "my step dad"]},
            "text_speak": {"stepdad": "step dad"},
            "not_risk": ["vitamin pills"],
        }
    )
    assert assess_lexicon("my stepdad always shouts at me", custom).flagged
    assert not assess_lexicon("he shouted at me in the game", custom).flagged
    assert assess_lexicon("i took ten pills", custom).flagged
    assert not assess_lexicon("someone shouts at me", custom).flagged


@pytest.mark.parametrize(
    "patterns",
    [["... die"], ["die ..."], ["<nope> die"], ["ab* die"], [""]],
)
def test_bad_patterns_are_rejected_with_a_reason(patterns: list[str]) -> None:
    with pytest.raises(ValidationError):
        Lexicon.from_dict({"schema_version": 1, "categories": {"x": {"label": "X", "patterns": patterns}}})


def test_wrong_schema_version_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Lexicon.from_dict({"schema_version": 2, "categories": {"x": {"label": "X", "patterns": ["a b"]}}})


def test_live_lexicon_loads_with_every_category_well_stocked(lexicon: Lexicon) -> None:
    assert default_lexicon_path().is_file()
    assert lexicon.id == "safeguarding_lexicon"
    assert set(lexicon.categories) >= EXPECTED_CATEGORIES
    for cid, category in lexicon.categories.items():
        assert len(category.patterns) >= 10, cid
        assert category.label


def _silent_model() -> RiskModel:
    """A real model that knows every word of the messages below and scores everything close to 0."""
    from bot.risk_model import FEATURIZER

    words = "i got beaten up by my dad yesterday lol we had a knife crime assembly at school today it was good kms " \
            "want to die my mum will kill me if she finds out about the bruises he gave me he touches me"
    features = {f"w:{w}": [1.0, 0.0] for w in set(words.split())}
    return RiskModel({
        "featurizer": FEATURIZER, "data_digest": "test", "threshold": 0.5, "bias": -20.0, "features": features,
        "categories": {"names": [], "bias": [], "weights": {}},
    })


def test_the_model_overrules_only_the_categories_everyday_talk_borrows() -> None:
    """bot.safeguarding.lexicon_stands: suicide and self-harm, sexual abuse, physical abuse, exploitation, not safe
    and any category the lead adds always flag on a lexicon hit, and so does a hit that comes with one of them;
    threats, running away and neglect are overruled only below the floor, in a message whose words the model
    knows (at most OVERRULE_UNKNOWN_WORDS unknown)."""
    from bot.safeguarding import LEXICON_OVERRULED_BELOW as FLOOR
    from bot.safeguarding import OVERRULE_UNKNOWN_WORDS, lexicon_stands

    for always in (["suicide_self_harm"], ["sexual_abuse"], ["physical_abuse"], ["exploitation_grooming"],
                   ["not_safe"], ["a_new_category"], [], ["threats_violence", "physical_abuse"]):
        assert lexicon_stands(always, 0.0), always
    for weak in (["threats_violence"], ["missing_homeless"], ["neglect"], ["threats_violence", "missing_homeless"]):
        assert not lexicon_stands(weak, FLOOR / 2) and lexicon_stands(weak, FLOOR), weak
        assert not lexicon_stands(weak, 0.0, unknown_words=OVERRULE_UNKNOWN_WORDS), weak
        assert lexicon_stands(weak, 0.0, unknown_words=OVERRULE_UNKNOWN_WORDS + 1), weak


def test_an_overruled_answer_is_read_early() -> None:
    from bot.safeguarding import READ_EARLY, reading_score

    assert reading_score(Assessment(flagged=False, categories=(), score=0.01, overruled=("threats_violence",))) == READ_EARLY
    assert reading_score(Assessment(flagged=False, categories=(), score=0.01)) == 0.01
    assert reading_score(Assessment(flagged=True, categories=("x",), score=0.9)) == 0.9


@pytest.mark.parametrize("text", ["i got beaten up by my dad yesterday lol", "kms", "i want to die", "he touches me"])
def test_a_silent_model_cannot_overrule_a_grave_lexicon_hit(text: str, lexicon: Lexicon) -> None:
    verdict = assess(text, lexicon, _silent_model())
    assert verdict.flagged and verdict.detectors == ("lexicon",) and not verdict.overruled, verdict


@pytest.mark.parametrize("text", [
    # Played down: found by two reviews of round 6's rule for overruling the lexicon, which let them pass.
    "i got beaten up by my dad yesterday lol",
    "lol my mum will kill me if she finds out about the bruises he gave me",
    "we did a lesson on sextortion today lol thats literally what that guy is doing to me",
    "did a sextortion lesson today lol that literally happened to me last month",
    # Mixed messages read as English: the live model cannot read the other language's half.
    "lol my mum will kill me, tata me tuce svaki dan",
    "she'll kill me if i'm late lol. mi padrastro me pega",
    "my carer said she'd kill me if i was late lol, anyway we won at football today, ojczym mnie bije",
    "my carer said she'd kill me if i was late lol, anyway we won at football today, baba yangu ananipiga",
])
def test_the_reviewers_disclosures_still_flag(text: str, lexicon: Lexicon) -> None:
    assert assess(text, lexicon).flagged


def test_the_model_does_not_overrule_what_it_did_not_read(lexicon: Lexicon) -> None:
    from bot.risk_model import MAX_CHARS

    talk = "we had a knife crime assembly at school today it was good"
    assert not assess(talk, lexicon, _silent_model()).flagged
    assert assess("lol " * (MAX_CHARS // 4) + talk, lexicon, _silent_model()).flagged  # past what the model reads


def test_an_overruled_lexicon_hit_is_said(lexicon: Lexicon) -> None:
    from bot.risk_model import cached_model

    model = cached_model()
    talk = "we had a knife crime assembly at school today, it was actually interesting"
    assert assess_lexicon(talk, lexicon).flagged and not model.assess(talk).fired
    verdict = assess(talk, lexicon, model)
    assert not verdict.flagged and verdict.overruled and verdict.categories == () and verdict.detectors == ()
