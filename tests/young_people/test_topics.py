"""Topic visibility (audience, band, district, dates, staff overrides) as tables; the `ourvoice topic` CLI."""

from __future__ import annotations

from datetime import date

import pytest

from bot.runtime import topic_context
from bot.topics import TopicWindow, is_open_for, open_topics
from content.loader import load_library
from content.schema import Flow
from storage import topics as topic_store
from storage.db import make_engine, session
from storage.models import Participant
from tests.conftest import fixed_now

LIB = load_library()


def topic(*, audience=("young_person",), bands=("teen",), districts=None, opens=None, closes=None) -> Flow:
    return Flow.model_validate(
        {
            "schema_version": 1,
            "id": "t",
            "kind": "topic",
            "title": "T",
            "audience": list(audience),
            "bands": list(bands),
            "start": "end",
            "nodes": [{"id": "end", "type": "end"}],
            "topic": {"districts": districts, "opens": opens, "closes": closes},
        }
    )


D = date(2027, 2, 1)
CASES = [
    # (why, topic kwargs, person (audience, band, district), today, staff window, visible?)
    ("open to everyone in the band", {}, ("young_person", "teen", "east"), D, None, True),
    (
        "no district on the person is fine for a county-wide topic",
        {},
        ("young_person", "teen", None),
        D,
        None,
        True,
    ),
    ("wrong audience", {}, ("carer", "carer", "east"), D, None, False),
    ("wrong band", {}, ("young_person", "junior", "east"), D, None, False),
    (
        "one of several bands",
        {"bands": ("junior", "young_adult")},
        ("young_person", "young_adult", "east"),
        D,
        None,
        True,
    ),
    (
        "carer topic for carers",
        {"audience": ("carer",), "bands": ("carer",)},
        ("carer", "carer", "west"),
        D,
        None,
        True,
    ),
    ("district listed", {"districts": ["east", "thanet"]}, ("young_person", "teen", "thanet"), D, None, True),
    ("district not listed", {"districts": ["east"]}, ("young_person", "teen", "north"), D, None, False),
    (
        "district-targeted but person's district unknown",
        {"districts": ["east"]},
        ("young_person", "teen", None),
        D,
        None,
        False,
    ),
    ("before it opens", {"opens": date(2027, 2, 2)}, ("young_person", "teen", "east"), D, None, False),
    ("on the day it opens", {"opens": D}, ("young_person", "teen", "east"), D, None, True),
    ("on the day it closes", {"closes": D}, ("young_person", "teen", "east"), D, None, True),
    ("after it closes", {"closes": date(2027, 1, 31)}, ("young_person", "teen", "east"), D, None, False),
    ("staff closed it", {}, ("young_person", "teen", "east"), D, TopicWindow(status="closed"), False),
    ("staff draft", {}, ("young_person", "teen", "east"), D, TopicWindow(status="draft"), False),
    (
        "staff opened it early",
        {"opens": date(2027, 3, 1)},
        ("young_person", "teen", "east"),
        D,
        TopicWindow(opens=date(2027, 1, 1)),
        True,
    ),
    (
        "staff extended the close date",
        {"closes": date(2027, 1, 1)},
        ("young_person", "teen", "east"),
        D,
        TopicWindow(closes=date(2027, 6, 1)),
        True,
    ),
    (
        "staff narrowed the districts",
        {},
        ("young_person", "teen", "north"),
        D,
        TopicWindow(districts=("east",)),
        False,
    ),
    (
        "staff widened the districts",
        {"districts": ["east"]},
        ("young_person", "teen", "west"),
        D,
        TopicWindow(districts=("east", "west")),
        True,
    ),
    (
        "staff override never changes the band",
        {},
        ("young_person", "junior", "east"),
        D,
        TopicWindow(),
        False,
    ),
]


@pytest.mark.parametrize(
    ("why", "spec", "person", "today", "window", "visible"), CASES, ids=[c[0] for c in CASES]
)
def test_topic_visibility(why: str, spec: dict, person: tuple, today: date, window, visible: bool) -> None:
    audience, band, district = person
    flow = topic(**spec)
    assert (
        is_open_for(flow, audience=audience, band=band, district=district, today=today, window=window)
        is visible
    )


SHIPPED = [
    # (band, audience, today, expected open topics) over the real content calendar
    ("teen", "young_person", date(2026, 11, 24), ("good_foster_carer",)),
    ("junior", "young_person", date(2026, 11, 24), ("good_foster_carer",)),
    ("young_adult", "young_person", date(2027, 2, 1), ("good_foster_carer", "leaving_care")),
    ("teen", "young_person", date(2027, 2, 1), ("good_foster_carer",)),
    (
        "young_adult",
        "young_person",
        date(2027, 4, 13),
        ("leaving_care", "new_carer_info", "people_who_matter"),
    ),
    ("junior", "young_person", date(2027, 4, 13), ("new_carer_info", "people_who_matter")),
    ("carer", "carer", date(2027, 4, 13), ()),
    ("teen", "young_person", date(2027, 8, 1), ()),
]


@pytest.mark.parametrize(("band", "audience", "today", "expected"), SHIPPED)
def test_shipped_topic_calendar(band: str, audience: str, today: date, expected: tuple) -> None:
    assert open_topics(LIB, audience=audience, band=band, district="east", today=today) == expected


def test_there_are_at_least_three_topics_and_leaving_care_is_for_young_adults_only() -> None:
    ids = {t.id for t in LIB.topics()}
    assert {"good_foster_carer", "new_carer_info", "people_who_matter", "leaving_care"} <= ids
    assert LIB.flows["leaving_care"].bands == ["young_adult"]


def _open_for(url: str, band: str, district: str | None) -> tuple[str, ...]:
    engine = make_engine(url)
    try:
        with session(engine) as s:
            p = Participant(
                case_ref="P-TEST",
                audience="young_person",
                band=band,
                district=district,
                created_at=fixed_now(),
            )
            return topic_context(LIB, "Europe/London")(s, p, fixed_now()).open_topics
    finally:
        engine.dispose()


def test_cli_publish_with_districts_then_close(db_url: str, cli) -> None:
    assert _open_for(db_url, "teen", "east") == ("good_foster_carer",)
    out = cli(
        "topic",
        "publish",
        "people_who_matter",
        "--opens",
        "2026-11-01",
        "--closes",
        "2027-01-31",
        "--districts",
        "east,thanet",
        "--staff",
        "pat",
    )
    assert "published people_who_matter" in out
    assert _open_for(db_url, "teen", "east") == ("good_foster_carer", "people_who_matter")
    assert _open_for(db_url, "teen", "north") == ("good_foster_carer",)
    listing = cli("topic", "list")
    assert "people_who_matter" in listing
    assert "districts=east,thanet" in listing
    cli("topic", "close", "people_who_matter", "--staff", "pat")
    assert _open_for(db_url, "teen", "east") == ("good_foster_carer",)
    engine = make_engine(db_url)
    with session(engine) as s:
        w = topic_store.windows(s)["people_who_matter"]
        from storage import audit

        actions = [(e.actor, e.action, e.target) for e in audit.entries(s)]
        assert audit.verify(s) == []
    engine.dispose()
    assert w.status == "closed"
    assert w.districts == ("east", "thanet")
    assert ("setup:pat", "topic.publish", "topic:people_who_matter") in actions
    assert ("setup:pat", "topic.close", "topic:people_who_matter") in actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("topic", "publish", "no_such_topic"), "no topic called 'no_such_topic'"),
        (("topic", "publish", "wellbeing"), "no topic called 'wellbeing'"),  # a flow, not a topic
        (("topic", "publish", "leaving_care", "--districts", "narnia"), "unknown district(s) narnia"),
        (("topic", "publish", "leaving_care", "--opens", "01/02/2027"), "--opens must be a date"),
        (
            ("topic", "publish", "leaving_care", "--opens", "2027-03-01", "--closes", "2027-02-01"),
            "before --opens",
        ),
    ],
)
def test_cli_refuses_bad_input(cli_nodb, args: tuple, message: str) -> None:
    assert message in cli_nodb(*args, ok=False)


def test_cli_preview_shows_the_band_wording(cli_nodb) -> None:
    cli = cli_nodb
    junior = cli("topic", "preview", "people_who_matter", "--band", "junior")
    teen = cli("topic", "preview", "people_who_matter", "--band", "teen")
    assert "Who is special to you?" in junior
    assert "Who matters most to you?" not in junior
    assert "Who matters most to you?" in teen
    assert "😢  🙁  😐  🙂  😀" in junior
    assert "😢 1" in teen
    assert "Skip ⏭" in junior
    assert "Skip / I'd rather not say" in teen
    assert "if someone_missing is yes -> want_help" in teen
    assert "(note: this topic is not offered to the junior band)" in cli(
        "topic", "preview", "leaving_care", "--band", "junior"
    )
