"""Safeguarding beyond English (issue 24 item 5): language identification, per-language lexicons, and the
unassessed path that never lets a message the check cannot read pass silently."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.alerts import AlertNotice
from bot.language_check import alert_categories, assess_message, default_language_lexicons, load_language_lexicons
from bot.language_id import identify
from bot.runtime import build_runtime
from bot.safeguarding import UNASSESSED, Lexicon, assess, default_lexicon_path
from content.loader import current_council
from storage.db import session
from storage.models import Alert
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person

HERE = Path(__file__).resolve().parent.parent / "safeguarding"
OFFERED = ("ar", "ps", "fa-AF", "ti", "ckb", "sq", "vi")

# One disclosure per offered language ("my father/stepdad hits me", "I want to die" ...), written for this test.
DISCLOSURES = {
    "ar": ("زوج أمي يضربني كل ليلة", "physical_abuse"),
    "ps": ("زه غواړم مړ شم", "suicide_self_harm"),
    "fa-AF": ("من در خانه امن نیستم", "not_safe"),
    "ti": ("ኣቦይ ብዙሕ ይወቕዓኒ", "physical_abuse"),
    "ckb": ("دەمەوێت بمرم", "suicide_self_harm"),
    "sq": ("Babai më rreh çdo natë", "physical_abuse"),
    "vi": ("Họ bắt em làm việc ở trang trại cần sa", "exploitation_grooming"),
}
# Plain everyday messages in each language, not in the everyday list: a draft lexicon cannot vouch for them.
ORDINARY = {
    "ar": "أحب كرة القدم والمدرسة جيدة",
    "ps": "زه فوټبال خوښوم",
    "fa-AF": "من فوتبال را دوست دارم",
    "ti": "ኣነ ኩዕሶ እግሪ እፈቱ እየ",
    "ckb": "من حەزم لە تۆپی پێیە",
    "sq": "Më pëlqen futbolli dhe shkolla është mirë",
    "vi": "Em thích bóng đá và trường học",
}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


def test_every_offered_language_has_a_draft_lexicon_covering_the_core_categories() -> None:
    lexicons = load_language_lexicons()
    assert set(lexicons) == set(OFFERED)
    core = {"suicide_self_harm", "physical_abuse", "sexual_abuse", "exploitation_grooming", "missing_homeless", "not_safe"}
    for locale, lx in lexicons.items():
        assert core <= set(lx.lexicon.categories), locale
        assert lx.status == "draft" and lx.reviewed_by is None, locale  # nobody has reviewed them yet


@pytest.mark.parametrize("locale", OFFERED)
def test_each_language_is_identified_and_its_disclosure_flagged_with_its_category(locale: str, lexicon) -> None:
    text, category = DISCLOSURES[locale]
    assert identify(text).locale == locale
    verdict = assess_message(text, lexicon)
    assert verdict.flagged and category in verdict.categories and verdict.language == locale
    assert f"language:{locale}" in alert_categories(verdict)


@pytest.mark.parametrize("locale", OFFERED)
def test_a_message_a_draft_lexicon_cannot_vouch_for_goes_to_a_person_as_unassessed(locale: str, lexicon) -> None:
    """Without the other-languages model, nothing can vouch for an ordinary message in a draft language."""
    verdict = assess_message(ORDINARY[locale], lexicon, others=False)
    assert identify(ORDINARY[locale]).locale == locale
    assert verdict.flagged and verdict.categories == (UNASSESSED,) and verdict.score == 1.0


@pytest.mark.parametrize("locale", OFFERED)
def test_with_the_model_an_ordinary_message_passes_only_when_the_model_knows_its_words(locale: str, lexicon) -> None:
    """The other-languages model may let an ordinary message pass, but only one whose words it learned (issue 18)."""
    from bot.language_check import COVERAGE, fold
    from bot.risk_model import cached_languages_model

    model = cached_languages_model()
    assert model is not None
    text = fold(ORDINARY[locale])
    verdict = assess_message(ORDINARY[locale], lexicon)
    if not verdict.flagged:
        assert model.coverage(text) >= COVERAGE and not model.assess(text).fired
    else:
        assert verdict.score == 1.0


@pytest.mark.parametrize("locale", OFFERED)
def test_everyday_answers_in_each_language_pass(locale: str, lexicon) -> None:
    raw = yaml.safe_load(Path(f"content/safeguarding/languages/{locale}.yaml").read_text(encoding="utf-8"))
    assert raw["everyday"] and len(raw["everyday"]) == len(default_language_lexicons()[locale].everyday)
    for word in raw["everyday"]:  # as a person would type them (the loaded copy has its letters folded)
        verdict = assess_message(word, lexicon)
        assert not verdict.flagged, (locale, word)


def test_a_reviewed_lexicon_lets_ordinary_messages_through(tmp_path: Path, lexicon) -> None:
    raw = yaml.safe_load((Path("content/safeguarding/languages/sq.yaml")).read_text(encoding="utf-8"))
    raw.update(status="reviewed", reviewed_by="A. Translator", reviewed_on="2026-12-01")
    (tmp_path / "sq.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    reviewed = load_language_lexicons(tmp_path)
    assert not assess_message(ORDINARY["sq"], lexicon, reviewed).flagged
    assert assess_message(DISCLOSURES["sq"][0], lexicon, reviewed).flagged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aabbahay wuu i garaacaa habeen walba", "so"),  # Somali: Latin script, not offered
        ("አባቴ በየቀኑ ይመታኛል", "am"),  # Amharic: Ethiopic script like Tigrinya, not offered
        ("میرا باپ مجھے مارتا ہے", "ur"),  # Urdu: Arabic script, not offered
        ("мне страшно дома", "und"),  # Russian: a script we have no language for
    ],
)
def test_a_language_the_bot_does_not_offer_is_never_passed_silently(text: str, expected: str, lexicon) -> None:
    verdict = assess_message(text, lexicon)
    assert verdict.language == expected
    assert verdict.flagged and verdict.score == 1.0


@pytest.mark.parametrize("text", ["lol", "idk", "ye", "ye ok", "ngl idk tbh", "wsp m8", "k", "fine thx", "nah", "innit bruv"])
def test_short_english_text_speak_stays_english_and_is_not_unassessed(text: str, lexicon) -> None:
    assert identify(text).locale == "en"
    assert assess_message(text, lexicon) == assess(text, lexicon)


def _held_out_english() -> list[str]:
    texts: list[str] = []
    for path in sorted(HERE.glob("holdout_*.txt")):
        texts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    # Blind sets 1-4, written in English only. They train the English model now (content/safeguarding/labelled/
    # former_blind_*), but never the English vocabulary the language check reads (bot.language_id); the later
    # blind sets mix in other languages on purpose.
    from admin.risk_training import labelled_dir

    for path in sorted(labelled_dir().glob("former_blind_0[1-4]_*.yaml")):
        def walk(x: object) -> None:
            if isinstance(x, dict):
                if isinstance(x.get("text"), str):
                    texts.append(x["text"])
                else:
                    for v in x.values():
                        walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return texts


def test_english_verdicts_are_unchanged_on_held_out_english(lexicon) -> None:
    """Held-out English (never used to build the English vocabulary) is all identified as English, so the
    English check's verdict is exactly what it was; a sample is re-assessed end to end."""
    texts = _held_out_english()
    assert len(texts) > 1000
    assert [t for t in texts if identify(t).locale != "en"] == []
    for t in random.Random(24).sample(texts, 150):
        assert assess_message(t, lexicon) == assess(t, lexicon)


def test_the_alert_notice_names_the_language_and_asks_for_an_interpreter() -> None:
    body = AlertNotice(alert_ref="A-1", categories=("unassessed", "language:ti"), at="2026-12-05T08:00").body()
    assert "Message language: Tigrinya (ti)" in body and "interpreter" in body


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(sqlite_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def test_an_arabic_disclosure_gets_the_arabic_safe_reply_and_an_alert_naming_arabic(rt) -> None:
    p = Person(rt.dispatcher, "amal", now=fixed_now())
    result = p.text(DISCLOSURES["ar"][0])
    assert result.flagged
    reply = result.replies[0]
    assert reply.meta == {"kind": "safe_reply", "lang": "ar"}
    assert "شكراً" in reply.text and "مترجم" in reply.text  # thanks ... interpreter
    # numbers sit whole in left-to-right isolates inside right-to-left text, and the duty team has its Arabic name
    assert "\u2066999\u2069" in reply.text
    assert "\u206603000\u00a041\u00a011\u00a011\u2069" in reply.text
    assert current_council().duty_team_names["ar"] in reply.text and "duty team" not in reply.text
    with session(rt.engine) as s:
        alert = s.execute(select(Alert)).scalar_one()
    assert alert.categories.split(",") == ["physical_abuse", "language:ar"]


def test_a_somali_message_gets_the_multilingual_safe_reply_and_goes_to_a_person(rt) -> None:
    p = Person(rt.dispatcher, "ayaan", now=fixed_now())
    result = p.text("Aabbahay wuu i garaacaa habeen walba")
    assert result.flagged
    reply = result.replies[0]
    assert reply.meta["lang"] == "mul"
    assert reply.text.startswith("Thank you for your message.") and "interpreter" in reply.text
    assert "مترجماً" in reply.text and "phiên dịch" in reply.text  # lines in the languages we have
    with session(rt.engine) as s:
        alert = s.execute(select(Alert)).scalar_one()
    # The other-languages model learned some Somali (issue 18): it fires and names its best-guess category; before
    # it, the message went to a person as unassessed. Either way it alerts, naming Somali.
    categories = alert.categories.split(",")
    assert categories[-1] == "language:so" and len(categories) == 2 and categories[0] != ""


def test_english_safe_reply_is_unchanged(rt) -> None:
    p = Person(rt.dispatcher, "sam", now=fixed_now())
    result = p.text("my stepdad hits me")
    assert result.replies[0].meta == {"kind": "safe_reply"}
    assert result.replies[0].text.startswith("Thank you for telling me.")
    with session(rt.engine) as s:
        assert "language:" not in s.execute(select(Alert)).scalar_one().categories


def test_codes_in_commands_are_not_taken_for_another_language(lexicon) -> None:
    """Invite codes, event check-in codes and references are not words: '/start ev_KRBDMD' once read as Afrikaans
    and went to a person as unassessed. Every code of the invite alphabet stays English."""
    rng = random.Random(7)
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    for _ in range(2000):
        code = "".join(rng.choice(alphabet) for _ in range(8))
        for text in (f"start ev_{code[:6]}", f"checkin {code[:6]}", f"start {code[:4]}-{code[4:]}", code):
            assert identify(text).locale == "en", text
    assert identify("AABBAHAY WUU I GARAACAA HABEEN WALBA").locale == "so"  # all in capitals: still read


def test_the_blind_multilingual_set_never_passes_a_disclosure_silently(lexicon) -> None:
    """The independent check (issue 24 acceptance): disclosures written blind to the lexicons and detectors, in every
    offered language and some not offered (Amharic, Somali, Kurmanji, French), are each flagged or sent to a person
    as unassessed. Everyday messages are counted, not asserted: while the lexicons are drafts most go to a person."""
    items = [i for path in sorted((HERE / "fresh").glob("multilingual*.yaml"))
             for i in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]]
    if not items:
        pytest.skip("no blind multilingual set")
    missed = [(i["language"], i["text"]) for i in items if i["flag"] and not assess_message(i["text"], lexicon).flagged]
    assert missed == []
