"""Chat channels and scheduled jobs serve each council (issue 26 item 4), in one PostgreSQL database.

The invite decides a young person's council: one web chat and one Telegram bot serve Kent
and Borsetshire from one PostgreSQL database. Redeeming a Borsetshire invite makes the person Borsetshire's;
every later message of theirs runs in Borsetshire's context, so a worrying message gets Borsetshire's duty
team and numbers in the safe reply (Kent's person gets Kent's), and every row their messages make (participant,
conversation, ledger, alert, outbox) is stored under their own council. A stranger with no invite is told they
need one, in the deployment's own council, and nothing of theirs is kept.

Jobs run once per council per occurrence, each in its own council: an event's invitations go out for Kent's and
Borsetshire's events alike, and each council's queued messages name only its own event."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, REQUIRE_PG, make_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.tenancy.conftest import BORSETSHIRE_FILE, council_database, rows_by_council, sealed_by_council

pytestmark = pytest.mark.skipif(not PG_URL and not REQUIRE_PG, reason="needs PostgreSQL (OURVOICE_TEST_POSTGRES_URL)")

DB = "ourvoice_entry_points_test"
SECRET = "chat-councils-Secret_1"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORRY = "he hits me every night and i am scared to go home"
DUTY = {"kent": ("03000 41 11 11", "children's duty team"),
        "borsetshire": ("01632 960 000", "Borsetshire children's duty team")}
DISTRICT = {"kent": "thanet", "borsetshire": "hollerton"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The database, Borsetshire added, and one young person's invite per council per channel."""
    from bot import identity, tenant
    from bot.runtime import build_runtime
    from content.loader import load_library
    from storage.db import session

    url = council_database(DB)
    rt = build_runtime(make_settings(url, tmp_path_factory.mktemp("chat"), invite_only=True,
                                     public_url="http://testserver"), library=load_library())
    tenant.add(rt.engine, BORSETSHIRE_FILE.read_text(encoding="utf-8"), actor="operator", now=NOW)
    codes: dict[str, list[str]] = {}
    for council in DUTY:
        with tenant.serving(rt.engine, council), session(rt.engine) as s:
            _, made = identity.create_invites(
                s, rt.keyring, role="young_person", age_band="11-16", district=DISTRICT[council], council=None,
                expires_days=30, count=2, public_url="http://testserver", bot_username="", created_by="test",
                now=NOW)
        codes[council] = [identity.pretty(m.code) for m in made]
    yield {"rt": rt, "codes": codes}
    rt.engine.dispose()


@pytest.fixture
async def app(world: dict[str, Any], tg: FakeBotAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The one ASGI app: web chat and the Telegram webhook, with the outbox sender running in its lifespan."""
    from bot.runtime import build_app
    from tests.telegram.conftest import tg_settings

    rt = world["rt"]
    rt.channel = "telegram"
    rt.telegram_settings = tg_settings(tg, webhook_url="https://bot.example.org", webhook_secret=SECRET)
    application = build_app(rt)
    async with application.router.lifespan_context(application), browser(application) as client:
        client.rt = rt  # type: ignore[attr-defined]
        client.asgi = application  # type: ignore[attr-defined]
        yield client


def browser(application: Any) -> httpx.AsyncClient:
    """A client with its own cookies: one person's browser (and the webhook's caller)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")


@pytest.fixture
async def tg() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def web_says(client: httpx.AsyncClient, text: str) -> str:
    resp = await client.post("/api/chat", json={"message_id": uuid.uuid4().hex, "text": text})
    assert resp.status_code == 200, resp.text
    return "\n".join(r["text"] for r in resp.json()["replies"])


async def tg_says(client: httpx.AsyncClient, tg: FakeBotAPI, chat_id: int, update: dict[str, Any]) -> str:
    """Post one update to the webhook, wait for its replies to be sent, and return them."""
    before = len(tg.sent_messages(chat_id))
    resp = await client.post("/telegram/webhook", content=json.dumps(update),
                             headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.status_code == 200
    await client.rt.running["telegram"].wait_idle()  # type: ignore[attr-defined]
    return "\n".join(m["text"] for m in tg.sent_messages(chat_id)[before:])


async def test_the_invite_decides_the_council_on_web_chat_and_telegram(
    world: dict[str, Any], app: httpx.AsyncClient, tg: FakeBotAPI
) -> None:
    safe: dict[tuple[str, str], str] = {}
    for n, council in enumerate(DUTY):
        web, telegram = world["codes"][council]
        async with browser(app.asgi) as web_client:  # type: ignore[attr-defined]
            await web_client.get("/")
            joined = await web_says(web_client, web)
            assert joined, "redeeming the invite answers (the privacy notice)"
            safe[(council, "web")] = await web_says(web_client, WORRY)
        chat = 7100 + n
        await tg_says(app, tg, chat, tg.command_update(chat, "start", telegram.replace("-", "")))
        safe[(council, "telegram")] = await tg_says(app, tg, chat, tg.text_update(chat, WORRY))
    for (council, channel), text in safe.items():
        other = "kent" if council == "borsetshire" else "borsetshire"
        number, team = DUTY[council]
        assert number in text and team in text, (council, channel, text)
        assert DUTY[other][0] not in text, (council, channel)
    for table in ("participant", "channel_identity", "conversation", "inbound_event", "alert", "outbox_message"):
        counts = rows_by_council(DB, table)
        assert counts.get("borsetshire", 0) > 0 and counts.get("kent", 0) > 0, (table, counts)
    assert rows_by_council(DB, "participant") == {"kent": 2, "borsetshire": 2}
    assert rows_by_council(DB, "alert") == {"kent": 2, "borsetshire": 2}
    # Each council's data keys (bot/crypto): a council's stored addresses open with its own keys only. The
    # replies above reached both councils' chats, so the sender opened each row with that row's council's keys.
    keyring = world["rt"].keyring
    for table in ("channel_identity", "outbox_message"):
        for council, token in sealed_by_council(DB, table):
            other = "kent" if council == "borsetshire" else "borsetshire"
            assert keyring.decrypt(token, council=council)
            with pytest.raises(ValueError):
                keyring.decrypt(token, council=other)


async def test_a_stranger_is_asked_for_an_invite_and_nothing_is_kept(
    world: dict[str, Any], app: httpx.AsyncClient
) -> None:
    before = rows_by_council(DB, "participant")
    await app.get("/")
    said = await web_says(app, "hello is anyone there")
    assert said
    assert rows_by_council(DB, "participant") == before


def test_a_job_runs_once_for_each_council_in_its_own_context(world: dict[str, Any]) -> None:
    from admin.scheduler import JOBS, run_job
    from bot import tenant
    from storage import participants, tenancy
    from storage.db import session
    from storage.models import EventInvitation, OutboxMessage, ParticipationEvent

    rt = world["rt"]
    job = next(j for j in JOBS if j.name == "event_notices")
    titles = {"kent": "Kestrel Kent residential", "borsetshire": "Badger Borsetshire day out"}
    for n, council in enumerate(titles):
        with tenant.serving(rt.engine, council), session(rt.engine) as s:
            p, _ = participants.create(s, key_hash=f"job-{council}", channel="telegram",
                                       address_enc=rt.keyring.encrypt(str(8100 + n)), now=NOW, band="teen",
                                       district=DISTRICT[council])
            event = ParticipationEvent(kind="residential", title=titles[council], held_on=NOW.date().replace(day=20),
                                       short_code=f"J{council[:4].upper()}", created_by="test", created_at=NOW)
            s.add(event)
            s.flush()
            s.add(EventInvitation(event_id=event.id, participant_id=p.id, created_at=NOW))

    done = run_job(rt, job, now=NOW)
    assert sorted(str(done).split("; ")) == ["borsetshire: invitations=1", "kent: invitations=1"], done
    assert run_job(rt, job, now=NOW) is None  # each council's occurrence is claimed once
    for council, title in titles.items():
        other = titles["kent" if council == "borsetshire" else "borsetshire"]
        with tenant.serving(rt.engine, council), session(rt.engine) as s:
            rows = s.execute(sa.select(OutboxMessage.payload_json)).scalars()
            texts = [json.loads(r)["text"] for r in rows]
        mine = [t for t in texts if title in t]
        assert len(mine) == 1, (council, texts)
        assert not any(other in t for t in texts), council
    with tenancy.use("borsetshire"):  # `ourvoice --council borsetshire jobs run ...`: that council alone
        assert run_job(rt, job, now=NOW.replace(day=2)) == "sent=0"
