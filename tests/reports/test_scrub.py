"""The scrubber: names, schools, Kent places, phone numbers, dates and other numbers never survive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.reports.scrub import scrub

NAMES = ["Sarah", "Mohammed", "Jayden", "Kasia", "Grace", "Leo", "Amira", "Oliver", "Zainab", "Tyler"]
SCHOOLS = {
    "Hartsdown Academy": "hartsdown",
    "Riverside Primary School": "riverside",
    "St George's School": "george",
    "Oakwood Park Grammar School": "oakwood",
    "Canterbury College": "canterbury",
    "the Marlowe Academy": "marlowe",
}
PLACES = [
    "Margate",
    "Ramsgate",
    "Maidstone",
    "Tunbridge Wells",
    "Herne Bay",
    "Folkestone",
    "Sheerness",
    "Ashford",
    "Dover",
    "Gravesend",
    "Sittingbourne",
    "Thanet",
    "Deal",
    "Medway",
]
PHONES = ["07700 900123", "01843 123456", "+44 7700 900123", "07700900123", "0300 041 1111"]
DATES = ["12/04/2018", "3rd March", "March 3rd", "1 June 2018", "2019", "14th"]
TEMPLATES = [
    "My carer {name} takes me to {school} in {place}.",
    "{name} said I could ring her on {phone} any time.",
    "On {date} I moved to {place} and started at {school}.",
    "I miss {name} and my friends in {place}, call {phone}.",
    "we went to {place} on {date} with {name}",
]


@settings(max_examples=300, deadline=None)
@given(
    template=st.sampled_from(TEMPLATES),
    name=st.sampled_from(NAMES),
    school=st.sampled_from(sorted(SCHOOLS)),
    place=st.sampled_from(PLACES),
    phone=st.sampled_from(PHONES),
    date=st.sampled_from(DATES),
)
def test_injected_details_never_survive(template, name, school, place, phone, date) -> None:
    text = template.format(name=name, school=school, place=place, phone=phone, date=date)
    out = scrub(text)
    low = out.lower()
    for secret in (name, place):
        assert secret.lower() not in low, (text, out)
    assert SCHOOLS[school] not in low, (text, out)
    assert not any(ch.isdigit() for ch in out), (text, out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "My carer Sarah takes me to Hartsdown Academy in Margate.",
            "My carer [name] takes me to [school] in [place].",
        ),
        ("call me on 07700 900123", "call me on [phone]"),
        ("email kid@example.com", "email [email]"),
        ("see www.example.org", "see [link]"),
        ("I live at CT9 1AB", "I live at [place]"),
        ("Mrs Patel helped me", "[name] helped me"),
        ("I'm 14 and have 3 brothers", "I'm [number] and have [number] brothers"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "They listen to me and treat me like part of the family.",
        "I like my school and the teachers at school are kind.",
        "I feel close to my carer. I am on my way home.",
        "The panel should listen to us!",
    ],
)
def test_ordinary_words_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_lowercase_names_and_places_are_caught() -> None:
    out = scrub("me and jayden went to maidstone and tunbridge wells")
    assert "jayden" not in out
    assert "maidstone" not in out
    assert "tunbridge" not in out
