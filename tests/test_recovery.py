"""Recovery and reliability edges (issue 27): integrity faults that are not a concurrent duplicate, a
redelivery race that is one, and the crash-restart test of `ourvoice run --channel telegram`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.messages import Inbound
from bot.runtime import Runtime, build_app, build_runtime
from content.schema import text_for
from storage.db import session
from storage.models import InboundEvent, Participant
from tests.browser import browser_page, require_chromium, serve
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person

CHAT_JS = Path(__file__).parent.parent / "bot" / "channels" / "web_static" / "chat.js"
ROOT = str(Path(__file__).resolve().parents[1])


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(db_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def block_new_participants(rt: Runtime) -> None:
    """Put a real, lasting integrity fault in the way of the next join: on PostgreSQL the participant id
    sequence left behind by rows with explicit ids (what bulk seeding did); on SQLite, which has no
    sequences, a trigger that aborts the insert as a constraint does."""
    with session(rt.engine) as s:
        if rt.engine.dialect.name == "postgresql":
            for i in range(1, 4):
                s.add(Participant(id=i, case_ref=f"SEED{i:04d}", created_at=fixed_now()))
        else:
            s.execute(text(
                "CREATE TRIGGER block_join BEFORE INSERT ON participant "
                "BEGIN SELECT RAISE(ABORT, 'blocked for the test'); END"
            ))


def test_an_integrity_fault_that_is_not_a_duplicate_is_answered_once_not_retried(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    block_new_participants(rt)
    caplog.set_level(logging.INFO, logger="ourvoice.dispatcher")
    p = Person(rt.dispatcher, "newcomer", now=fixed_now())
    result = p.text("hello")  # the old code retried 20 times, then raised (a plain 500)
    # A final answer, not an outage: channels reply once and do not redeliver it forever.
    assert not result.unavailable and not result.stored
    assert p.said == text_for(rt.library.string("db_unavailable"), "default")  # "...nothing has been lost"
    events = [r.getMessage() for r in caplog.records if r.name == "ourvoice.dispatcher"]
    assert not [e for e in events if e.startswith("dispatch.retry_integrity")]
    (line,) = [e for e in events if e.startswith("dispatch.integrity_error")]
    # The constraint is named (PostgreSQL: participant_pkey); SQLite's trigger text is not copied into the log.
    if rt.engine.dialect.name == "postgresql":
        assert "constraint=participant_pkey" in line
    else:
        assert "constraint=unknown" in line and "blocked" not in line
    assert "hello" not in " ".join(events)


def test_concurrent_deliveries_of_one_message_still_answer_as_a_duplicate(rt: Runtime) -> None:
    """The ledger's own key is the one conflict worth retrying: both deliveries get the same replies."""
    Person(rt.dispatcher, "racer", now=fixed_now()).text("hello")
    msg = Inbound("web", "racer", "same-id", "text", text="hi again", address="racer")
    barrier = threading.Barrier(4)
    results: list = []

    def deliver() -> None:
        barrier.wait()
        results.append(rt.dispatcher.handle(msg, now=fixed_now()))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and not any(r.unavailable for r in results)
    assert len({tuple(x.text for x in r.replies) for r in results}) == 1
    with session(rt.engine) as s:
        n = s.execute(select(func.count()).select_from(InboundEvent).where(InboundEvent.message_id.like("%same-id"))).scalar_one()
    assert n == 1


def chat_js_setting(name: str) -> int:
    """A number the chat page is configured with (chat.js), so the test follows the configuration."""
    import re

    found = re.search(rf"const {name} = (\d+);", CHAT_JS.read_text(encoding="utf-8"))
    assert found, name
    return int(found.group(1))


@pytest.mark.browser
def test_chat_page_stops_after_bounded_tries_and_says_nothing_was_saved(sqlite_url: str, tmp_path: Path) -> None:
    """A database that stays unreachable: the page tries MAX_TRIES times with growing waits, then stops and
    says the message was not saved (the old page retried forever, saying nothing was lost); "Try again"
    sends the same message again once the database is back."""
    from storage.db import make_engine

    require_chromium()
    max_tries, shipped_wait = chat_js_setting("MAX_TRIES"), chat_js_setting("FIRST_WAIT_MS")
    # The page's own script, with the first wait cut to a tenth: the waits double the same way (1+2+4+8 s shipped,
    # 0.1+0.2+0.4+0.8 s here) and everything else is as shipped, so the suite spends 2 s here, not 17.
    first_wait = max(1, shipped_wait // 10)
    script = CHAT_JS.read_text(encoding="utf-8").replace(f"const FIRST_WAIT_MS = {shipped_wait};",
                                                          f"const FIRST_WAIT_MS = {first_wait};")
    assert f"const FIRST_WAIT_MS = {first_wait};" in script
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    real = rt.dispatcher.engine
    rt.dispatcher.engine = make_engine(f"sqlite:///{tmp_path / 'no_tables.db'}")  # every step fails to commit
    posts: list[str] = []
    with serve(build_app(rt)) as base, browser_page() as page:
        page.on("request", lambda r: posts.append(r.post_data or "") if r.url.endswith("/api/chat") else None)
        page.route("**/static/chat/chat.js", lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=script))
        page.goto(base + "/")
        page.get_by_text("stopped trying").wait_for(timeout=first_wait * 2 ** max_tries + 10_000)
        assert len(posts) == max_tries
        assert len(set(posts)) == 1  # the same message (same id) each time
        body = page.locator("body").inner_text()
        assert body.count("nothing has been lost") == 1  # the server's "couldn't save" shown once, not per try
        assert "Trying again" not in page.locator("#status").inner_text()
        page.wait_for_timeout(first_wait * 4)  # no try is left scheduled after the page stops
        assert len(posts) == max_tries  # stopped: no more tries on its own
        rt.dispatcher.engine = real  # the database is back
        page.locator("#choices").get_by_role("button", name="Try again").click()
        page.locator("#choices").get_by_role("button", name="I'm 11 to 16").wait_for()
        assert len(set(posts)) == 1  # still the same message id
    with session(rt.engine) as s:
        assert s.execute(select(func.count()).select_from(InboundEvent)).scalar_one() == 1
    rt.engine.dispose()


# -- the demo (issue 27 item 7) ---------------------------------------------------------------------------


def cli_env(tmp_path: Path) -> dict[str, str]:
    import os

    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "OURVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'ourvoice.db'}",
        "OURVOICE_ID_HASH_KEY": "demo-test-key",
        "OURVOICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OURVOICE_ALERT_SPOOL_DIR": str(tmp_path / "spool"),
        "OURVOICE_DEMO": "true",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "PYTHONUNBUFFERED": "1",
    }


def ourvoice(tmp_path: Path, *args: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_demo_setup_keeps_its_links_and_its_wave_stays_open_ahead(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from admin.commands.demo_cmd import DEMO_WAVE_AHEAD
    from storage import waves
    from storage.db import make_engine

    ourvoice(tmp_path, "db", "upgrade")
    seeded = datetime.now(UTC)
    out = ourvoice(tmp_path, "demo", "setup", "--people", "30")
    links = (tmp_path / "var" / "demo-links.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in links if "invite:" in line] and any(line.startswith("admin:") for line in links)
    assert all(line in out for line in links)
    assert (tmp_path / "var" / "demo-links.txt").stat().st_mode & 0o077 == 0  # invite codes and a password
    engine = make_engine(cli_env(tmp_path)["OURVOICE_DATABASE_URL"])
    with session(engine) as s:
        (wave,) = waves.list_waves(s)
        # Open now and for the configured time ahead, so an invitation and the reminders after it can be seen.
        assert wave.is_live(seeded + timedelta(minutes=5))
        assert wave.closes_at >= seeded + DEMO_WAVE_AHEAD - timedelta(minutes=5)
        assert wave.is_live(seeded + timedelta(days=7, hours=1))  # the second reminder is due on day 7
    engine.dispose()


def test_run_prints_the_demo_links_last_after_start_up(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.browser import free_port

    ourvoice(tmp_path, "db", "upgrade")
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo-links.txt").write_text("carer invite: ABCD-EFGH  web: http://x/?start=ABCDEFGH\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", str(free_port())], cwd=tmp_path, env=cli_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120  # a generous guard against a hang, not a speed assertion
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("-" * 20) and any("carer invite:" in x for x in lines):
                break
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    text_out = "\n".join(lines)
    assert "carer invite: ABCD-EFGH" in text_out, text_out[-2000:]
    started = next(i for i, x in enumerate(lines) if "Uvicorn running on" in x)
    link = next(i for i, x in enumerate(lines) if "carer invite: ABCD-EFGH" in x)
    scheduler = next(i for i, x in enumerate(lines) if x.startswith("scheduler:"))
    assert scheduler < started < link  # after the scheduler's and uvicorn's start-up lines


def test_the_readme_points_only_to_files_a_fresh_clone_has() -> None:
    """The README once sent readers to ../shared/ARCHITECTURE.md, outside the repository."""
    import re
    import subprocess

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert not re.findall(r"`\.\./[^`]+`", readme)  # nothing outside the repository
    tracked = subprocess.run(["git", "ls-files", "docs/ARCHITECTURE.md"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.split()
    assert "`docs/ARCHITECTURE.md`" in readme and (root / "docs" / "ARCHITECTURE.md").is_file()
    assert tracked == ["docs/ARCHITECTURE.md"] or not (root / ".git").exists()


# -- crash recovery (issue 27 item 1) -------------------------------------------------------------------------


async def test_after_sigkill_a_restarted_process_replies_before_the_dead_senders_claims_would_expire(
    tmp_path: Path,
) -> None:
    """`ourvoice run --channel telegram` as a real process on SQLite against the loopback fake Bot API: a
    conversation in progress, SIGKILL, restart. After the kill the dead process is made to hold, for ten minutes,
    a claim on a reply still waiting for the chat, and its polling lease is stretched as long, so only taking both
    over from the provably dead holder (not waiting for them to expire) can get the next reply out before then;
    the generous wait guards a hang, not the machine's speed."""
    import asyncio
    import os
    import signal
    import socket
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    from cryptography.fernet import Fernet
    from sqlalchemy import select, update

    from storage.db import make_engine
    from storage.models import OutboxMessage, SenderLease
    from tests.browser import free_port
    from tests.fakes.telegram_api import FakeBotAPI

    tg = FakeBotAPI()
    await tg.start()
    url = f"sqlite:///{tmp_path / 'ourvoice.db'}"
    env = {
        **os.environ,
        "OURVOICE_TELEGRAM_TOKEN": tg.token,
        "OURVOICE_TELEGRAM_API_BASE_URL": tg.bot_base_url,
        "OURVOICE_TELEGRAM_PER_CHAT_INTERVAL": "0.05",
        "OURVOICE_TELEGRAM_POLL_TIMEOUT": "1",
        "OURVOICE_DATABASE_URL": url,
        "OURVOICE_ID_HASH_KEY": "crash-test-key",
        "OURVOICE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OURVOICE_INVITE_ONLY": "false",
        "OURVOICE_ALERT_SPOOL_DIR": str(tmp_path / "spool"),
        "OURVOICE_DEMO": "true",
        "PYTHONPATH": ROOT,
    }

    async def start() -> asyncio.subprocess.Process:
        polls = len(tg.calls_to("getUpdates"))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--channel", "telegram", "--no-scheduler", "--port", str(free_port()),
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > polls, timeout=180)
        return proc

    chat = 5151

    def texts() -> list[str]:
        return [m["text"] for m in tg.sent_messages(chat)]

    first = second = None
    try:
        first = await start()
        tg.push_update(tg.command_update(chat, "start"))
        await tg.wait_for(lambda: len(texts()) >= 1, timeout=120)
        tg.push_update(tg.text_update(chat, "3"))  # an age band: the conversation is under way
        await tg.wait_for(lambda: len(texts()) >= 2, timeout=120)
        before = set(texts())
        first.send_signal(signal.SIGKILL)
        await first.wait()  # reaped: its process id is free, as after a real crash
        engine = make_engine(url)
        stretched = datetime.now(UTC) + timedelta(minutes=10)
        dead = f"{socket.gethostname()[:30]}:{first.pid}:deadbeef"
        with session(engine) as s:
            held = s.execute(update(SenderLease).where(SenderLease.channel == "poll:telegram")
                             .values(expires_at=stretched))
            assert held.rowcount == 1  # type: ignore[attr-defined]
            last = s.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).scalar_one()  # type: ignore[union-attr]
            s.add(OutboxMessage(  # a reply the dead process had claimed and not sent yet
                channel="telegram", participant_id=last.participant_id, address_enc=last.address_enc,
                payload_json='{"text": "Still here!", "layout": "none", "choices": []}', kind="reply",
                status="pending", not_before=last.not_before, created_at=last.created_at, claimed_by=dead,
                claimed_until=stretched,
            ))
        tg.push_update(tg.text_update(chat, "1"))  # written while ourvoice is down
        second = await start()
        await tg.wait_for(lambda: len(set(texts()) - before - {"Still here!"}) >= 1, timeout=300)
        assert datetime.now(UTC) < stretched  # replied before the dead holder's claims ran out: taken over
        after = [t for t in texts() if t not in before]
        assert after[0].startswith("Still here!")  # the claimed reply first (maybe joined): the chat kept its order
        with session(engine) as s:
            lease = s.get(SenderLease, "poll:telegram")
            assert lease is not None and f":{second.pid}:" in lease.holder
        engine.dispose()
        # Nothing lost: the age given before the crash and the answer sent while it was down are both there.
        assert len(set(texts()) - before) >= 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), timeout=30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        await tg.stop()


async def test_a_chats_next_message_waits_until_the_one_before_is_marked_sent(sqlite_url: str) -> None:
    """A reply Telegram accepted just before a kill is sent again after the restart unless it was already marked
    sent. The sender marks each send at once and sends a chat's next message only after that commit, so at most
    the one message in flight at the kill can repeat; the old sender marked every 0.1 s and sent on meanwhile
    (93 repeats in 40 kills of the kill loop). Rows pending as after a restart, found by the sender's scan."""
    import json
    from datetime import UTC, datetime

    from bot.crypto import Keyring
    from bot.messages import Outbound
    from bot.outbox import OutboxSender
    from storage import outbox
    from storage.db import make_engine
    from storage.models import OutboxMessage

    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    engine = make_engine(sqlite_url)
    keyring = Keyring("k", [Keyring.new_fernet_key()])
    with session(engine) as s:
        ids = [outbox.add(s, channel="telegram", payload_json=json.dumps(Outbound(f"part {i}").to_json()), now=now,
                          address_enc=keyring.encrypt("4242")) for i in range(3)]

    def statuses() -> list[str]:
        with session(engine) as s:
            rows = s.execute(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids))  # type: ignore[union-attr]
                             .order_by(OutboxMessage.id)).scalars()
            return list(rows)

    seen: list[list[str]] = []

    class Recording:  # no merge_limit: one send per row
        name = "telegram"

        async def send(self, address: str, message: Outbound) -> None:
            seen.append(statuses())  # what a crash at this moment would leave pending

    sender = OutboxSender(engine=engine, keyring=keyring, channel=Recording(), clock=lambda: now,
                          per_chat_interval=0.0, global_per_second=1000)
    await sender.start()
    try:
        await sender.rescan()  # what the scan does at start, awaited here
        await sender.wait_idle(30)  # a guard against a hang
        assert seen == [["pending"] * 3, ["sent", "pending", "pending"], ["sent", "sent", "pending"]]
        assert statuses() == ["sent"] * 3
    finally:
        await sender.stop()
        engine.dispose()


def test_after_demo_seeding_a_young_person_can_join_with_an_invite(db_url: str, tmp_path: Path) -> None:
    """`make demo` then `/start CODE`, on SQLite and PostgreSQL: the bulk-seeded ids must not collide with the
    first join (the sequences are moved past them), and the join must not end in 'couldn't save'."""
    from admin.commands.demo_cmd import seed_demo
    from bot.identity import create_invites

    rt = build_runtime(make_settings(db_url, tmp_path, invite_only=True))
    seed_demo(rt, people=40, seed=42, months=6, now=fixed_now())
    with session(rt.engine) as s:
        _, (invite,) = create_invites(
            s, rt.keyring, role="young_person", age_band="11-16", district="east", council=None, expires_days=30,
            count=1, public_url="http://127.0.0.1:8000", bot_username="", created_by="demo", now=fixed_now(),
        )
        before = s.execute(select(func.count()).select_from(Participant)).scalar_one()
    p = Person(rt.dispatcher, "new-young-person", now=fixed_now())
    result = p.command("start", invite.code)
    assert not result.unavailable, p.said
    assert result.participant_id is not None
    with session(rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Participant)).scalar_one() == before + 1
    rt.engine.dispose()


def test_the_web_chat_gets_the_integrity_fault_answer_once_and_is_not_told_to_retry(
    sqlite_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    block_new_participants(rt)
    with TestClient(build_app(rt)) as c:
        c.get("/")
        r = c.post("/api/chat", json={"message_id": "first", "text": "hello"})
    assert r.status_code == 200  # the old code answered a plain 500 after 20 retries
    data = r.json()
    assert data["retry"] is False and data["stored"] is False
    assert [x["text"] for x in data["replies"]] == [text_for(rt.library.string("db_unavailable"), "default")]
    rt.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def bare_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not migrated: `make demo` runs `ourvoice db upgrade` itself)."""
    from tests import conftest

    if request.param == "postgres":
        if not conftest.PG_URL:
            if conftest.REQUIRE_PG:
                pytest.fail("PostgreSQL required but not configured")
            pytest.skip("no PostgreSQL server configured")
        return conftest._postgres_url()
    return f"sqlite:///{tmp_path / 'ourvoice.db'}"


def test_make_demo_then_start_with_its_code(bare_db: str, tmp_path: Path) -> None:
    """`make demo`'s own steps as commands (`ourvoice db upgrade`, `ourvoice demo setup`), then `/start CODE` with
    the young person's code it printed, on SQLite and PostgreSQL: the join is stored, not refused or lost."""
    import re
    import subprocess
    import sys
    from datetime import UTC, datetime

    from bot.settings import BotSettings

    env = {**cli_env(tmp_path), "OURVOICE_DATABASE_URL": bare_db}
    for args in (["db", "upgrade"], ["demo", "setup", "--people", "30"]):
        done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    links = (tmp_path / "var" / "demo-links.txt").read_text(encoding="utf-8")
    found = re.search(r"young person invite: (\S+)", links)
    assert found, links
    settings = BotSettings(_env_file=None, database_url=bare_db, id_hash_key=env["OURVOICE_ID_HASH_KEY"],  # type: ignore[call-arg]
                           encryption_keys=env["OURVOICE_ENCRYPTION_KEYS"], alert_spool_dir=str(tmp_path / "spool"),
                           audit_anchor_file=str(tmp_path / "anchors.log"), invite_only=True, demo=True)
    rt = build_runtime(settings)
    try:
        with session(rt.engine) as s:
            before = s.execute(select(func.count()).select_from(Participant)).scalar_one()
        p = Person(rt.dispatcher, "demo-newcomer", now=datetime.now(UTC))
        result = p.command("start", found.group(1))
        assert not result.unavailable, p.said
        assert result.participant_id is not None, p.said
        with session(rt.engine) as s:
            assert s.execute(select(func.count()).select_from(Participant)).scalar_one() == before + 1
    finally:
        rt.engine.dispose()
