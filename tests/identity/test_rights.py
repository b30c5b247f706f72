"""Data rights and linking: a second channel, summary, export, pause, profile changes, deletion,
and the rights commands from every state of every shipped flow."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine import ConversationState
from bot.identity import RIGHTS_COMMANDS, tidy_copy
from content.schema import QUESTION_TYPES, MenuNode, text_for
from storage import conversations, privacy, submissions
from storage.db import session
from storage.models import Answer, ChannelIdentity, OutboxMessage, Participant, Submission
from tests.conftest import fixed_now
from tests.identity.util import Who, code_in, count, dump, invite, make_rt, text_of


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = make_rt(db_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def joined(rt, sender: str, *, channel: str = "web", address: str = "", **kw) -> Who:
    now = fixed_now()
    p = Who(rt.dispatcher, sender, channel=channel, address=address, now=now)
    p.command("start", invite(rt, now, **kw)[0])
    p.press("OK, let's go")
    return p


def words(rt, key: str, band: str = "teen") -> str:
    return text_for(rt.library.string(key), band)


def link_code_for(p: Who) -> str:
    p.command("menu")
    p.press("🔒 My stuff")
    p.press("📱")
    return code_in(p.said)


def test_link_a_second_channel_and_continue_the_same_conversation(rt) -> None:
    web = joined(rt, "web-cookie-1")
    code = link_code_for(web)
    web.command("mystuff")
    web.press("📍")  # now waiting at the area question on the web chat
    area_q = text_for(rt.library.flows["my_stuff_area"].index["pick"].text, "teen")
    assert area_q in web.said
    tg = Who(rt.dispatcher, "7001002003", channel="telegram", address="7001002003", now=fixed_now())
    res = tg.command("link", code)
    assert words(rt, "link_done") in tg.said
    assert area_q in tg.said, "the conversation carries on where it was"
    assert res.participant_id == _pid(rt, "web-cookie-1")
    tg.press("Thanet")
    with session(rt.engine) as s:
        people = s.execute(select(Participant)).scalars().all()
        idents = s.execute(select(ChannelIdentity)).scalars().all()
    assert len(people) == 1
    assert people[0].district == "thanet"
    assert sorted(i.channel for i in idents) == ["telegram", "web"]
    tg_ident = next(i for i in idents if i.channel == "telegram")
    assert rt.keyring.decrypt(tg_ident.address_enc) == "7001002003"
    # the code was one-time: a third app cannot use it
    third = Who(rt.dispatcher, "web-cookie-3", now=fixed_now())
    third.command("start", code)
    assert third.said == words(rt, "link_used", "default")
    assert count(rt, Participant) == 1


def test_link_code_expires_after_15_minutes_and_works_as_a_start_link(shared_rt) -> None:
    rt = shared_rt
    web = joined(rt, "web-a")
    code = link_code_for(web)
    late = Who(rt.dispatcher, "tg-late", channel="telegram", now=fixed_now() + timedelta(minutes=16))
    late.command("link", code)
    assert late.said == words(rt, "link_expired", "default")
    code2 = link_code_for(web)
    assert code2 != code
    ok = Who(rt.dispatcher, "web-b", now=fixed_now() + timedelta(minutes=14))
    ok.command("start", code2)  # a web link https://.../?start=CODE sends "/start CODE"
    assert words(rt, "link_done") in ok.said
    assert count(rt, ChannelIdentity) == 2


def test_known_senders_cannot_merge_accounts_with_link(shared_rt) -> None:
    rt = shared_rt
    a = joined(rt, "person-a")
    b = joined(rt, "person-b")
    code_a = link_code_for(a)
    a.command("link", code_a)
    assert a.said.startswith(words(rt, "link_already"))
    b.command("link", code_a)
    assert b.said.startswith(words(rt, "link_other_account"))
    assert _pid(rt, "person-a") != _pid(rt, "person-b"), "b's chat still belongs to b"


def _sentinel_answer(rt, participant_id: int, text: str, *, question: str = "why", held: bool = False):
    with session(rt.engine) as s:
        p = s.get(Participant, participant_id)
        sub = submissions.get_or_start(s, p, "wellbeing", 99, now=fixed_now())
        # Flagged words are stored as the dispatcher stores them: encrypted only.
        submissions.put_answer(s, sub, question, text, skipped=False, free_text=True, quarantined=held,
                               now=fixed_now(), sealed=rt.keyring.encrypt(text) if held else None)


def _pid(rt, sender: str, channel: str = "web") -> int:
    from storage import participants

    with session(rt.engine) as s:
        return participants.find_by_key(s, rt.keyring.identity_hash(channel, sender))[0].id


def test_summary_shows_my_answers_and_never_other_peoples(shared_rt) -> None:
    rt = shared_rt
    me, other = joined(rt, "me-1"), joined(rt, "other-1")
    _sentinel_answer(rt, _pid(rt, "me-1"), "MINE-penguins")
    _sentinel_answer(rt, _pid(rt, "other-1"), "THEIRS-giraffes")
    _sentinel_answer(rt, _pid(rt, "me-1"), "HELD-words", question="worry", held=True)
    me.command("mystuff")
    me.press("📋")
    assert "HELD-words" not in me.said, "flagged words are not repeated on screen"
    assert words(rt, "my_summary_held") in me.said
    assert "MINE-penguins" in me.said
    assert "THEIRS-giraffes" not in me.said
    me.press("Yes, send me a copy")
    assert "/my-data/" in me.said, "a one-time link, not the data itself"
    assert "MINE-penguins" not in me.said.split("conversation(s)")[-1]
    with session(rt.engine) as s:
        p = s.get(Participant, _pid(rt, "me-1"))
        export = json.dumps(tidy_copy(s, rt.library, p, now=fixed_now()), default=str)
    assert json.loads(export)["all_records"]["participant"][0]["id"] == _pid(rt, "me-1")
    assert "MINE-penguins" in export
    assert "THEIRS-giraffes" not in export
    assert "HELD-words" not in export  # kept, but only encrypted: the copy says so without the words
    assert "stored encrypted" in export
    other.command("mystuff")
    other.press("📋")
    assert "THEIRS-giraffes" in other.said
    assert "MINE-penguins" not in other.said


def test_export_holds_every_row_keyed_to_me_and_nothing_of_anyone_elses(rt) -> None:
    me, other = joined(rt, "exp-me"), joined(rt, "exp-other")
    mine, theirs = _pid(rt, "exp-me"), _pid(rt, "exp-other")
    _sentinel_answer(rt, mine, "mine words")
    _sentinel_answer(rt, theirs, "their words")
    me.command("mystuff")
    me.press("📍")
    me.press("West")
    other.command("mystuff")
    with session(rt.engine) as s:
        data = privacy.export_rows(s, mine)
    tables = dump(rt)
    # direct queries: every row of every table that names me, and the answers under my submissions
    my_subs = {r["id"] for r in tables["submission"] if r["participant_id"] == mine}
    my_answers = {r["id"] for r in tables["answer"] if r["submission_id"] in my_subs}
    expected: dict[str, set] = {"participant": {mine}, "answer": my_answers}
    for name, rows in tables.items():
        for r in rows:
            if r.get("participant_id") == mine:
                expected.setdefault(name, set()).add(r["id"] if "id" in r else r["participant_id"])
    expected.setdefault("answer_choice", set()).update(
        r["id"] for r in tables["answer_choice"] if r["submission_id"] in my_subs
    )
    got = {name: {r["id"] if "id" in r else r["participant_id"] for r in rows} for name, rows in data.items()}
    assert {k: v for k, v in expected.items() if v} == got
    blob = json.dumps(data, default=str)
    assert "their words" not in blob
    assert "mine words" in blob
    assert rt.keyring.identity_hash("web", "exp-me") not in blob  # hashes described, not copied


def test_pause_and_resume_messages(shared_rt) -> None:
    rt = shared_rt
    p = joined(rt, "pauser")
    p.command("pause")
    p.press("Pause messages")
    assert words(rt, "my_paused") in p.said
    with session(rt.engine) as s:
        assert s.get(Participant, _pid(rt, "pauser")).status == "opted_out"
    p.command("mystuff")
    p.press("🔕")
    p.press("Turn messages back on")
    with session(rt.engine) as s:
        assert s.get(Participant, _pid(rt, "pauser")).status == "active"


def test_change_band_and_area(shared_rt) -> None:
    rt = shared_rt
    p = joined(rt, "grower", age="11-16")
    p.command("mystuff")
    p.press("🎂")
    p.press("16 to 25")
    p.command("mystuff")
    p.press("📍")
    p.press("Outside Kent")
    with session(rt.engine) as s:
        row = s.get(Participant, _pid(rt, "grower"))
    assert (row.band, row.district) == ("young_adult", "out_of_county")
    carer = joined(rt, "carer-1", role="carer", age=None)
    carer.command("mystuff")
    assert not any(b.startswith("🎂") for b in carer.buttons), "carers have no age group to change"


def test_saying_no_deletes_nothing(shared_rt) -> None:
    rt = shared_rt
    p = joined(rt, "unsure")
    before = count(rt, Participant), count(rt, ChannelIdentity)
    p.command("delete")
    p.press("No, keep my things")
    assert text_for(rt.library.flows["my_stuff_delete"].index["kept"].text, "teen") in p.said
    assert (count(rt, Participant), count(rt, ChannelIdentity)) == before


def test_delete_removes_everything_but_an_unlinked_safeguarding_record(rt) -> None:
    me = joined(rt, "tg-del-8812", channel="telegram", address="chat-55501")
    other = joined(rt, "keep-me")
    mine = _pid(rt, "tg-del-8812", "telegram")
    web = Who(rt.dispatcher, "web-del-cookie", now=fixed_now())
    web.command("link", link_code_for(me))
    _sentinel_answer(rt, mine, "SENTINEL-kiwi")
    _sentinel_answer(rt, _pid(rt, "keep-me"), "OTHER-otter")
    me.text("i want to die")  # a disclosure: the alert must survive the erasure
    import storage.models as models

    with session(rt.engine) as s:
        if hasattr(models, "GoodNews"):
            s.add(models.GoodNews(participant_id=mine, text="SENTINEL-goodnews", created_at=fixed_now()))
    hashes = {rt.keyring.identity_hash("telegram", "tg-del-8812"),
              rt.keyring.identity_hash("web", "web-del-cookie")}
    other_before = text_of({k: v for k, v in dump(rt).items()})
    assert "OTHER-otter" in other_before
    me.command("delete")
    res = me.press("Yes, delete everything")
    assert words(rt, "my_deleted") in me.said
    assert words(rt, "my_deleted_kept", "default") in me.said
    rows = dump(rt)
    blob = text_of(rows)
    for h in hashes:
        assert h not in blob, "no trace of their keyed hash anywhere"
    assert "SENTINEL-kiwi" not in blob
    assert "SENTINEL-goodnews" not in blob
    for name, items in rows.items():
        for r in items:
            assert r.get("participant_id") != mine, f"{name} still points at the erased participant"
    assert all(r["id"] != mine for r in rows["participant"])
    alerts = rows["alert"]
    assert len(alerts) == 1
    assert alerts[0]["participant_id"] is None
    # the goodbye still has to reach Telegram: kept unlinked until sent, then purged
    goodbye = [r for r in rows["outbox_message"] if r["kind"] == "goodbye"]
    assert len(goodbye) == 1
    assert goodbye[0]["participant_id"] is None
    assert goodbye[0]["status"] == "pending"
    assert res.outbox_ids == [goodbye[0]["id"]]
    assert "OTHER-otter" in blob
    assert count(rt, Participant) == 1
    from storage import outbox

    with session(rt.engine) as s:
        outbox.mark_sent(s, [goodbye[0]["id"]], now=fixed_now())
    from admin.jobs.identity import purge

    assert "goodbyes=1" in purge(rt, now=fixed_now())
    assert count(rt, OutboxMessage) == len([r for r in rows["outbox_message"] if r["kind"] != "goodbye"])
    # they are a stranger again: a new message stores nothing and asks for a code
    me.text("hello?")
    assert me.said == words(rt, "not_invited", "default")
    assert count(rt, Participant) == 1
    other.command("mystuff")
    other.press("📋")
    assert "OTHER-otter" in other.said


def test_staff_can_export_and_erase_from_the_cli(sqlite_url: str, tmp_path: Path) -> None:
    rt = make_rt(sqlite_url, tmp_path)
    from typer.testing import CliRunner

    from admin.cli import app

    joined(rt, "letter-writer")
    pid = _pid(rt, "letter-writer")
    _sentinel_answer(rt, pid, "by-letter words")
    with session(rt.engine) as s:
        ref = s.get(Participant, pid).case_ref
    env = {"OURVOICE_DATABASE_URL": rt.settings.database_url, "OURVOICE_ID_HASH_KEY": rt.settings.id_hash_key,
           "OURVOICE_ENCRYPTION_KEYS": rt.settings.encryption_keys}
    out = tmp_path / "export.json"
    r = CliRunner().invoke(app, ["participant", "export", ref, "--out", str(out), "--staff", "dpo"], env=env)
    assert r.exit_code == 0, r.output
    assert "by-letter words" in out.read_text()
    r = CliRunner().invoke(app, ["participant", "delete", ref, "--staff", "dpo"], env=env)
    assert r.exit_code == 2  # needs --yes
    r = CliRunner().invoke(app, ["participant", "delete", ref, "--staff", "dpo", "--yes"], env=env)
    assert r.exit_code == 0, r.output
    assert count(rt, Participant) == 0
    assert count(rt, Answer) == 0
    assert count(rt, Submission) == 0
    with session(rt.engine) as s:
        from storage import audit

        actions = [e.action for e in audit.entries(s)]
    assert "participant.export" in actions
    assert "participant.erase" in actions
    rt.engine.dispose()


def _askable(rt):
    for flow in rt.library.flows.values():
        for node in flow.nodes:
            if isinstance(node, QUESTION_TYPES + (MenuNode,)):
                yield flow, node


def test_rights_commands_work_from_every_state_of_every_flow(shared_rt) -> None:
    rt = shared_rt
    p = joined(rt, "everywhere")
    pid = _pid(rt, "everywhere")
    checked = 0
    for (flow, node), command in itertools.product(_askable(rt), [*sorted(RIGHTS_COMMANDS), "link"]):
        # /link without a code hands out a link code and then shows the menu
        expected = RIGHTS_COMMANDS.get(command) or "menu_young_person"
        with session(rt.engine) as s:
            raw, version = conversations.load(s, pid)
            state = ConversationState.from_json(raw)
            state.flow_id, state.node_id, state.history, state.answers = flow.id, node.id, [], {}
            conversations.save(s, pid, state.to_json(), version=version, now=fixed_now())
        res = p.command(command)
        assert res.stored, (flow.id, node.id)
        assert res.replies, (flow.id, node.id)
        assert any(r.choices for r in res.replies), f"{command} from {flow.id}.{node.id} leaves no way on"
        with session(rt.engine) as s:
            after = ConversationState.from_json(conversations.load(s, pid)[0])
        assert after.flow_id is None or after.node_id in rt.library.flows[after.flow_id].index
        assert after.flow_id == expected, (command, flow.id, node.id)
        checked += 1
    assert checked > 100
