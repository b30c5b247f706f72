"""Issue #19's scrubber test set: 100+ realistic quotes carrying identifiers of every kind; none survives.

Each case is a sentence a young person might write, with the identifiers it contains; after scrubbing,
none of them may appear (any case), and approval edits may only remove or redact words.
"""

from __future__ import annotations

import itertools
import re

import pytest

from admin.reports.scrub import scrub
from storage.quotes import removes_only

# (template, {slot: identifiers to put in it})
IDENTIFIERS = {
    "lower_name": ["jess", "kacper", "lowri", "oluwaseun", "siobhan", "tymon", "nevaeh", "mohamud"],
    "name": ["Zuzanna", "Tadhg", "Ifeoma", "Bartosz", "Saoirse", "Kwame", "Reyansh", "Eilidh"],
    "surname": ["Kowalski", "Okafor", "Chowdhury", "Sandhu", "Popescu", "Mensah"],
    "initials": ["J.B.", "JB", "T.K.", "MH"],
    "handle": ["@lil_star07", "cool_kid99", "jaydenxx07", "lil.star", "@bluebird"],
    "email_words": ["jo dot smith at gmail dot com", "kez123 at hotmail dot co dot uk", "tash (at) yahoo (dot) com"],
    "email": ["jo.smith@gmail.com", "kid_7@outlook.co.uk"],
    "phone_words": ["oh seven seven double oh nine one two three four five", "zero one eight four three one two three"
                    " four five six"],
    "phone": ["07700 900123", "01843 123456", "+44 7700 900123"],
    "postcode": ["CT9 1XX", "ME14 2LL", "ME14", "CT9", "tn23", "da1"],
    "street": ["12 Acacia Avenue", "4 mill lane", "27b Station Road", "Kings Road"],
    "place": ["Margate", "sittingbourne", "Herne Bay", "westgate-on-sea", "Millmead", "Paddock Wood"],
    "school": ["Hartsdown Academy", "king ethelbert school", "the Marlowe Academy", "Simon Langton", "Invicta"],
}
TEMPLATES = {
    "lower_name": ["my carer {x} always listens to me", "i told {x} about it and she helped",
                   "me and {x} go to the youth club"],
    "name": ["{x} is the best social worker ever", "When I moved, {x} made me feel welcome",
             "I wish {x} had told me sooner"],
    "surname": ["Mrs {x} helped me with my homework", "my foster dad mr {x} is kind"],
    "initials": ["{x} said I could stay up late", "me and {x} are like brothers"],
    "handle": ["add me on insta {x} if you want", "my snap is {x}", "follow me {x}"],
    "email_words": ["you can email me on {x}", "write to {x} please"],
    "email": ["my email is {x}", "send it to {x}"],
    "phone_words": ["ring me on {x}", "my number is {x}"],
    "phone": ["call my nan on {x}", "text {x} if its urgent"],
    "postcode": ["I live near {x} by the sea", "we moved to {x} last year"],
    "street": ["our house on {x} is too small", "I used to live at {x} with my mum"],
    "place": ["I want to go back to {x} to see my brother", "there's nothing to do in {x}"],
    "school": ["I got excluded from {x}", "{x} doesn't help kids in care"],
}
CASES = [
    (kind, template.format(x=value), value)
    for kind, templates in TEMPLATES.items()
    for template, value in itertools.product(templates, IDENTIFIERS[kind])
]


def test_the_set_is_big_enough() -> None:
    assert len(CASES) >= 100
    assert {k for k, _, _ in CASES} == set(IDENTIFIERS)


def _survives(value: str, text: str) -> bool:
    words = [w for w in re.findall(r"[\w@]+", value.lower()) if len(w) > 1 or value.isupper()]
    if any(ch.isdigit() for ch in value) and re.search(r"\d", text):  # codes and numbers: no digit survives
        return True
    lowered = text.lower()
    if len(words) == 1:
        return re.search(rf"(?<![\w\[]){re.escape(words[0])}(?![\w\]])", lowered) is not None
    # several words: the identifying ones must all be gone (common words such as "dot", "at", "the" may stay)
    common = {"dot", "at", "the", "on", "com", "co", "uk", "oh", "zero", "one", "two", "three", "four", "five",
              "six", "seven", "eight", "nine", "double", "road", "lane", "avenue", "school", "academy",
              "bay", "wood", "mill", "station", "kings"}
    return any(re.search(rf"(?<![\w\[]){re.escape(w)}(?![\w\]])", lowered) for w in words if w not in common) or (
        sum(w in lowered.split() for w in ("oh", "zero", "one", "two", "three", "four", "five", "six", "seven",
                                             "eight", "nine", "double")) >= 5
    )


@pytest.mark.parametrize(("kind", "text", "value"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_no_identifier_survives(kind: str, text: str, value: str) -> None:
    out = scrub(text)
    assert not _survives(value, out), (kind, out)


@pytest.mark.parametrize(
    "text",
    [
        "My carer is kind and listens to me",
        "I feel safe where I live now",
        "School is ok but maths is hard",
        "I want more say in my review meetings",
        "The OCYPC helped me feel heard",
    ],
)
def test_ordinary_words_stay(text: str) -> None:
    assert scrub(text) == text


def test_approval_may_only_take_words_out() -> None:
    original = "my carer listens to me and takes me to football on saturdays"
    assert removes_only(original, "my carer listens to me")
    assert removes_only(original, "My carer listens to me [removed] on saturdays.")
    assert not removes_only(original, "my carer listens to me and I love the council")
    assert not removes_only(original, "me listens carer")  # words moved round change the meaning


def test_near_duplicate_quotes_are_shown_once() -> None:
    from admin.reports.ocypc import near_duplicate

    assert near_duplicate("My carer listens to me.", "my carer listens to me!!")
    assert near_duplicate("My carer [name] listens to me", "My carer listens to me")
    assert not near_duplicate("My carer listens to me", "School is too far away from my new home")
