"""Demo council activity (issue 20): each council's meetings by area, activity days, a holiday event, a
residential and an in-person consultation over the last year, with invitations, replies, attendance (QR, typed
code and paper registers with unnamed people), and evaluations. Made-up people and words only.

Called by `ourvoice demo setup` after the synthetic young people exist; goes through storage/events.py like the
bot and the staff actions do, so the Panel paper reads the same rows it would in real use.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from storage import events
from storage.models import Participant

# (council, area, place, topics): where each council meets. The East Kent council exists because Thanet
# children came to activity days but found the other councils too far to travel to.
MEETINGS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("super_council", "west", "Maidstone", ("What makes a good social worker", "Christmas decorations")),
    ("super_council", "north", "Dartford", ("What makes a good social worker", "Baking")),
    ("ocypc", "west", "Maidstone", ("Stigma in school", "A film about us in three words")),
    ("ocypc_extra", "thanet", "Margate", ("Getting to meetings", "The fostering review")),
    ("yac", "south", "Folkestone", ("Finding a guarantor", "Budgeting for food")),
]
# (kind, title, area, place, bands, topics)
DAYS: list[tuple[str, str, str | None, str, tuple[str, ...], tuple[str, ...]]] = [
    ("activity_day", "Horse riding", "south", "Ashford", ("junior", "teen"), ()),
    ("activity_day", "Canoeing", "west", "Tonbridge", ("teen", "young_adult"), ()),
    ("activity_day", "Climbing wall", "east", "Canterbury", ("junior", "teen"), ()),
    ("activity_day", "Art day", "north", "Gravesend", ("junior",), ("What we want the Panel to know",)),
    ("activity_day", "Sports day", None, "Canterbury", ("junior", "teen"), ()),
    ("activity_day", "Castle visit", "east", "Dover", ("junior", "teen"), ()),
    ("activity_day", "Gliding", "west", "Headcorn", ("teen", "young_adult"), ()),
    ("activity_day", "Bowling", "thanet", "Margate", ("junior", "teen"), ()),
    ("holiday_event", "Halloween puddings", "north", "Dartford", ("junior",), ()),
    ("residential", "Outdoor weekend", None, "Bewl Water", ("teen",), ("Confidence", "Making friends")),
    ("consultation", "Fostering review: your views", None, "Maidstone", ("teen", "young_adult"),
     ("What a good foster home is like", "Moving placements")),
]
NEXT_TIME = [
    "Horse riding again please", "Canoeing", "More time to play games", "A trip to the beach",
    "Pizza at the end", "Can we go climbing again", "A cooking day", "Football tournament",
    "Somewhere we can stay overnight", "Bring a friend", "More art", "Gliding was amazing, again!",
]


def _fits(p: Participant, bands: tuple[str, ...], area: str | None) -> bool:
    return (p.band in bands) and (area is None or p.district == area)


def _hold(s: Any, keyring: Any, rng: random.Random, view: events.EventView, people: list[Participant], *,
          came: int, unnamed: int, now: datetime) -> None:
    """Invite, reply, attend and evaluate one past event."""
    at = datetime.combine(view.held_on, datetime.min.time(), now.tzinfo) + timedelta(hours=10)
    pool = [p for p in people if _fits(p, view.bands, view.district)]
    rng.shuffle(pool)
    invited = pool[: max(came * 2, 8)]
    events.invite(s, view.id, [p.id or 0 for p in invited], now=at - timedelta(days=14))
    for p in invited:
        r = rng.random()
        if r < 0.55:
            events.rsvp(s, view.id, p.id or 0, "going", now=at - timedelta(days=10))
        elif r < 0.8:
            events.rsvp(s, view.id, p.id or 0, "not_going", now=at - timedelta(days=10))
    for p in invited[:came]:
        source = rng.choice(("qr", "qr", "code", "register"))
        events.check_in(s, view.id, p.id or 0, source=source, now=at)
        if rng.random() < 0.65:
            rating = rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 6, 14, 20))[0]
            words = rng.choice(NEXT_TIME) if rng.random() < 0.7 else None
            events.save_evaluation(
                s, event_id=view.id, participant_id=p.id or 0, rating=rating,
                next_time_enc=keyring.encrypt(words) if words else None, quarantined=False, band=p.band,
                now=at + timedelta(days=1),
            )
    if unnamed:
        events.set_unnamed(s, view.id, unnamed)
    if view.held_on < now.date():
        events.close(s, view.id, now=at + timedelta(hours=6))


def seed(s: Any, keyring: Any, *, now: datetime, seed: int = 20, staff: str = "demo") -> int:
    """Meetings every six weeks per council for the last year, the activity days and one upcoming meeting per
    council (invited, not yet held). Returns how many events were made."""
    from content.loader import current_council

    rng = random.Random(seed)
    people = events.active_young_people(s)
    if not people:
        return 0
    made = 0
    today = now.date()
    for council, area, place, topics in MEETINGS:
        bands = tuple(current_council().councils[council].bands)
        label = current_council().councils[council].label
        for k in range(8, -1, -1):  # 9 meetings: the last one is in three weeks' time
            day = today - timedelta(days=42 * k - 21)
            view = events.create(
                s, kind="council_meeting", title=f"{label} meeting", held_on=day, start_time="17:00",
                council=council, bands=bands, district=area, place=place, topics=topics[: 1 + k % 2],
                created_by=staff, now=now,
            )
            made += 1
            if day < today:
                _hold(s, keyring, rng, view, people, came=rng.randint(6, 14), unnamed=rng.choice((0, 0, 2, 3)),
                      now=now)
            else:
                events.invite(s, view.id, events.eligible(s, view), now=now)
    for i, (kind, title, where, spot, for_bands, about) in enumerate(DAYS):
        held: date = today - timedelta(days=20 + 31 * i)
        view = events.create(
            s, kind=kind, title=title, held_on=held, start_time="10:00", council=None, bands=for_bands,
            district=where, place=spot, topics=about, created_by=staff, now=now,
        )
        _hold(s, keyring, rng, view, people, came=rng.randint(12, 40), unnamed=rng.choice((0, 4, 7, 12)), now=now)
        made += 1
    return made
