"""`ourvoice demo`: synthetic data so the demo and benchmarks show a real-looking Panel update.

Writes only made-up people and words (see admin/reports/synthetic.py). `demo setup` is what
`make demo` runs: it seeds only an empty database, so it is safe to run again.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from admin.commands import demo_events
from admin.commands.wiring import report_wiring as wiring
from storage import audit, bulk, report_actions
from storage import quotes as quote_store
from storage.db import session

if TYPE_CHECKING:
    from bot.services import ReportParts

app = typer.Typer(help="Synthetic demo data (never real people).", no_args_is_help=True)

DEMO_ACTIONS = [
    (
        "good_foster_carer",
        "Carers should listen more and tell us the truth, even when it's hard.",
        "Listening and honesty are now part of every new foster carer's training, and young people helped "
        "write the session.",
    ),
    (
        None,
        "It's hard to get to council meetings from Thanet.",
        "We started a local group in East Kent with travel paid, so nobody misses out because of the "
        "bus fare.",
    ),
]
DEMO_CARDS = [
    ("yac", "Every care leaver should have someone to act as a guarantor when renting a flat."),
    ("ocypc", "Let us see brothers and sisters more often, including in the holidays."),
    ("super_council", "Give every child a welcome box with things for their room when they move in."),
]
DEMO_GOOD_NEWS = [
    ("teen", "I passed my maths mock and my carer made me a cake!"),
    ("junior", "I learnt to swim a whole length this term."),
    ("young_adult", "I got a place at college to study plumbing."),
]


def _now() -> datetime:
    return datetime.now(UTC)


def _keyring(rt: ReportParts) -> Any:
    """The keys the demo's encrypted words need: the runtime's, or built from the settings (the .env keys)."""
    keyring = getattr(rt, "keyring", None)
    if keyring is not None:
        return keyring
    from bot.runtime import build_keyring
    from bot.settings import BotSettings

    return build_keyring(getattr(rt, "settings", None) or BotSettings())


def seed_demo(rt: ReportParts, *, people: int, seed: int, months: int, now: datetime, staff: str = "demo") -> dict:
    """Seed synthetic answers over the last `months` months plus quotes, actions, cards and good news."""
    from admin.reports import quoting, synthetic

    since = now - timedelta(days=round(30.4 * months))
    with session(rt.engine) as s:
        result = synthetic.seed(
            s,
            synthetic.specs_from_library(rt.library),
            people=people,
            seed=seed,
            since=since,
            until=now,
            now=now,
        )
    with session(rt.engine) as s:
        added = quoting.collect(s, since=since, until=now, now=now, limit=5000)
        rng = random.Random(seed)
        pending = quote_store.list_quotes(s, status="pending", limit=5000)
        approved = 0
        for q in pending:
            if rng.random() < 0.4:  # in real use every approval is a person's decision
                quote_store.decide(s, q.id, status="approved", by=staff, now=now)
                approved += 1
        for flow_id, said, did in DEMO_ACTIONS:
            report_actions.add(s, said=said, did=did, by=staff, now=now - timedelta(days=20), flow_id=flow_id)
        cards = _demo_cards(s, now=now, staff=staff)
        news = _demo_good_news(s, now=now, staff=staff)
        wave = _demo_wave(s, rt.library, now=now, staff=staff)
        council_events = demo_events.seed(s, _keyring(rt), now=now, seed=seed, staff=staff)  # issue 20
        paper = _demo_paper(s, now=now, staff=staff)
        audit.record(s, actor=staff, action="demo.seed", detail=f"people={people} seed={seed}", now=now)
    return {
        "participants": result.participants,
        "submissions": result.submissions,
        "answers": result.answers,
        "quotes": added,
        "approved_quotes": approved,
        "cards": cards,
        "good_news": news,
        "carer_waves": wave,
        "council_events": council_events,
        "panel_paper": paper,
    }


# The last whole quarter's Panel paper: a card followed from raising to the Panel's resolution, each age
# band's good news and a "you said, we did" line inside the quarter, and what the manager writes for the
# Panel (population figures from the council's own papers: 2,286 children in care, 1,580 care leavers).
DEMO_PAPER_CARD = ("ocypc", "Young people should get their bus pass in time for their first day, not weeks later.")
DEMO_PAPER_STEPS = [
    # (days after the quarter starts, state, owner, note)
    (12, "discussed_at_council", None, None),
    (20, "taken_to_senior_officers", None, None),
    (34, "presented_to_panel", None, None),
    (36, "accepted", "Head of Transport", "Bus passes will be ordered when a college place is confirmed."),
    (70, "progress_update", None, "New starters in September had passes on their first day (the first group)."),
]
DEMO_PAPER_NEWS = [
    ("junior", "I was in the school play and remembered all my lines."),
    ("teen", "I got player of the match at football on Saturday."),
    ("young_adult", "I passed my driving theory test first time."),
]


def last_quarter(now: datetime) -> tuple[datetime, datetime, date]:
    """Start and end (UTC, end exclusive) of the last whole quarter before `now`, and its Panel date (ten
    days after it ends, as the report tests and the demo use)."""
    from admin.reports.periods import quarter

    q = (now.month - 1) // 3  # the quarter before this one; 0 means last year's fourth
    since, until = quarter(now.year, q) if q else quarter(now.year - 1, 4)
    start = datetime.combine(since, datetime.min.time(), UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
    return start, end, until + timedelta(days=10)


def _demo_paper(s: Any, *, now: datetime, staff: str) -> int:
    """What a complete Panel paper for the last whole quarter needs (see DEMO_PAPER_*)."""
    try:
        from storage import challenges, good_news, panel_papers
    except ModuleNotFoundError:
        return 0
    start, _end, panel_day = last_quarter(now)
    noon = timedelta(hours=12)
    council, text = DEMO_PAPER_CARD
    card = challenges.create(
        s, raised_by=None, council=council, challenge=text, why=None, who_for=(), personal=False,
        quarantined=False, submission_id=None, now=start + timedelta(days=5) + noon,
    )
    for days, state, owner, note in DEMO_PAPER_STEPS:
        challenges.move(s, card.id, state, staff=staff, now=start + timedelta(days=days) + noon, owner_role=owner,
                        note=note)
    panel_papers.resolve_card(
        s, card.id, (start + timedelta(days=34)).date(),
        "The Panel welcomed the card, agreed bus passes should be ready before term starts and asked for the "
        "figures at its next meeting.", by=staff, now=start + timedelta(days=35) + noon,
    )
    for k, (band, words) in enumerate(DEMO_PAPER_NEWS):
        item = good_news.add(
            s, participant_id=None, submission_id=None, text=words, category="achievement", consent=True,
            band=band, district=None, council=None, now=start + timedelta(days=40 + k) + noon,
        )
        good_news.decide(s, item.id, approve=True, staff=staff, now=start + timedelta(days=41 + k) + noon)
    report_actions.add(
        s, said="Bus passes arrive weeks after college starts.",
        did="Passes are now ordered as soon as a college place is confirmed.", by=staff,
        now=start + timedelta(days=72) + noon, bands=("young_adult",),
    )
    panel_papers.set_cover(
        s, panel_day,
        summary="Children in care and care leavers told us what makes a good foster carer, and the councils took "
        "a card about bus passes for college to the Panel, which has already changed how passes are ordered.",
        recommendation="The Panel is asked to NOTE the update and to CONSIDER and COMMENT ON the challenge cards.",
        by=staff, now=now,
    )
    panel_papers.set_population(s, panel_day, children_in_care=2286, care_leavers=1580, by=staff, now=now)
    return 1


DEMO_WAVE_AHEAD = timedelta(days=28)  # the demo wave stays open this long after seeding
LINKS_FILE = Path("var/demo-links.txt")  # invite links and the admin account; `ourvoice run` prints it last


def _demo_wave(s: Any, library: Any, *, now: datetime, staff: str) -> int:
    """A carers' survey wave over the seeded period and four weeks ahead: the update shows response rates by area,
    and a carer who joins with the demo invite gets the invitation and, after stopping part-way, the reminder."""
    try:
        from storage import waves
    except ModuleNotFoundError:
        return 0
    surveys = sorted(f.id for f in library.flows.values() if f.kind == "survey" and "carer" in f.audience)
    if not surveys:
        return 0
    survey = "carer_annual" if "carer_annual" in surveys else surveys[0]
    start, end = now - timedelta(days=120), now + DEMO_WAVE_AHEAD
    try:
        waves.open_wave(
            s,
            name="Foster carers' survey",
            questionnaire_id=survey,
            opens_on=start.date(),
            closes_on=end.date(),
            opens_at=start,
            closes_at=end,
            districts=None,
            created_by=staff,
            now=start,
        )
    except waves.WaveConflict:
        return 0
    return 1


def _demo_cards(s: Any, *, now: datetime, staff: str) -> int:
    try:
        from storage import challenges
    except ModuleNotFoundError:
        return 0
    made = 0
    for k, (council, text) in enumerate(DEMO_CARDS):
        card = challenges.create(
            s,
            raised_by=None,
            council=council,
            challenge=text,
            why=None,
            who_for=(),
            personal=False,
            quarantined=False,
            submission_id=None,
            now=now - timedelta(days=60 - 15 * k),
        )
        path = ["discussed_at_council", "taken_to_senior_officers", "presented_to_panel", "accepted"][: 4 - k]
        for step, state in enumerate(path):
            challenges.move(
                s,
                card.id,
                state,
                staff=staff,
                now=now - timedelta(days=50 - 15 * k - 3 * step),
                owner_role="Head of Fostering" if state == "accepted" else None,
                note="Accepted: a plan comes to the next Panel." if state == "accepted" else None,
            )
        made += 1
    return made


def _demo_good_news(s: Any, *, now: datetime, staff: str) -> int:
    try:
        from storage import good_news
    except ModuleNotFoundError:
        return 0
    for k, (band, text) in enumerate(DEMO_GOOD_NEWS):
        item = good_news.add(
            s,
            participant_id=None,
            submission_id=None,
            text=text,
            category="achievement",
            consent=True,
            band=band,
            district=None,
            council=None,
            now=now - timedelta(days=10 + k),
        )
        good_news.decide(s, item.id, approve=True, staff=staff, now=now)
    return len(DEMO_GOOD_NEWS)


@app.command("seed")
def seed(
    people: Annotated[int, typer.Option("--people", min=1, max=5_000_000)] = 2000,
    seed_: Annotated[int, typer.Option("--seed")] = 42,
    months: Annotated[
        int, typer.Option("--months", min=1, max=36, help="spread answers over this many months")
    ] = 6,
) -> None:
    """Generate synthetic people and answers (age, area and council mix from the domain figures)."""
    with wiring() as rt:
        out = seed_demo(rt, people=people, seed=seed_, months=months, now=_now())
    typer.echo(", ".join(f"{k}={v:,}" for k, v in out.items()))


def _demo_invites(now: datetime) -> list[str]:
    """Two invite codes (a young person and a carer) when the identity feature is installed."""
    try:
        from bot.identity import IdentitySettings, create_invites, pretty
        from bot.runtime import SetupError, build_keyring
    except ModuleNotFoundError:
        return []
    from admin.commands.settings_loader import load_settings

    settings = load_settings()
    try:
        keyring = build_keyring(settings)
    except SetupError:
        return []
    lines = []
    with wiring() as rt, session(rt.engine) as s:
        for role, age in (("young_person", "11-16"), ("carer", None)):
            _, created = create_invites(
                s,
                keyring,
                role=role,
                age_band=age,
                district="east",
                council=None,
                expires_days=30,
                count=1,
                public_url=settings.public_url,
                bot_username=IdentitySettings().telegram_bot_username,
                created_by="demo",
                now=now,
            )
            audit.record(
                s,
                actor="demo",
                action="invite.create",
                target="demo",
                detail=f"count=1 role={role}",
                now=now,
            )
            for c in created:
                lines.append(f"{role.replace('_', ' ')} invite: {pretty(c.code)}  web: {c.web_link}")
    return lines


@app.command("setup")
def setup(people: Annotated[int, typer.Option("--people", min=1)] = 300) -> None:
    """For `make demo`: seed a modest dataset if the database is empty, and print demo invite codes."""
    now = _now()
    with wiring() as rt:
        with session(rt.engine) as s:
            empty = bulk.is_empty(s)
        if empty:
            out = seed_demo(rt, people=people, seed=42, months=6, now=now)
            typer.echo("demo data: " + ", ".join(f"{k}={v:,}" for k, v in out.items()))
        else:
            typer.echo("database already has data: not seeding")
    lines = [*_demo_invites(now), _demo_staff(now)]
    for line in lines:
        typer.echo(line)
    write_links(lines)
    typer.echo(f"(kept in {LINKS_FILE}; `ourvoice run` prints them again once it has started)")


def write_links(lines: list[str]) -> None:
    """Keep the demo's invite links and admin account in var/demo-links.txt (owner-only: codes and a password)."""
    LINKS_FILE.parent.mkdir(parents=True, exist_ok=True)
    LINKS_FILE.touch(mode=0o600)
    LINKS_FILE.chmod(0o600)
    LINKS_FILE.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _demo_staff(now: datetime) -> str:
    """A demo manager account for the admin, created once; its password is kept in var/ (never committed)."""
    import secrets

    from admin.actions.staff import add_first_account
    from storage import staff as staff_store

    note = Path("var/demo-staff.txt")
    with wiring() as rt, session(rt.engine) as s:
        if staff_store.list_all(s):
            saved = note.read_text(encoding="utf-8").strip() if note.exists() else "see your staff accounts"
            return f"admin: http://127.0.0.1:8000/admin/  ({saved})"
        password = secrets.token_urlsafe(12)
        add_first_account(
            s, username="demo.manager", role="participation_manager", districts=(), password=password, now=now
        )
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f"username demo.manager, password {password}\n", encoding="utf-8")
    note.chmod(0o600)
    return f"admin: http://127.0.0.1:8000/admin/  (username demo.manager, password {password})"
