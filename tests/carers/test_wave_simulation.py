"""A wave of 500 carers across districts on an injected clock: some finish, some drift off mid-way, some
pause with /stop, some turn reminders off. Reminders must reach exactly the right people, at the right
times, never in quiet hours and never beyond the cap; `survey status` must match direct SQL counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from admin.actions.policy import Actor
from admin.commands import survey_cmd
from admin.jobs.carer_reminders import send_notices
from bot.engine import ConversationState
from storage import conversations, participants, submissions, waves
from storage.db import session
from tests.carers.conftest import answer_current, answer_n, make_carers, open_wave
from tests.helpers import Person

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
END = datetime(2026, 12, 12, 12, 0, tzinfo=UTC)
INVITE_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # wave opens at midnight; quiet hours end at 08:00


def _pid(rt, sender: str) -> int:
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
        assert found is not None
        return found[0].id  # type: ignore[return-value]


def _participant(s, rt, sender: str):
    found = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
    assert found is not None
    return found[0]


def _complete_directly(rt, senders: list[str], at: datetime) -> None:
    """Chat completions written straight to storage (as the dispatcher would), to keep 500 carers fast."""
    with session(rt.engine) as s:
        for sender in senders:
            sub = submissions.get_or_start(s, _participant(s, rt, sender), "carer_annual", 1, now=at)
            submissions.put_answer(s, sub, "informed", 4, skipped=False, free_text=False, quarantined=False,
                                   now=at)
            submissions.complete(s, sub, now=at)


def _pause_directly(rt, senders: list[str], at: datetime) -> None:
    """Three answers given, then /stop: a partial submission and a paused conversation."""
    with session(rt.engine) as s:
        for sender in senders:
            p = _participant(s, rt, sender)
            sub = submissions.get_or_start(s, p, "carer_annual", 1, now=at)
            for q in ("years_fostering", "care_types", "informed"):
                submissions.put_answer(s, sub, q, None, skipped=True, free_text=False, quarantined=False,
                                       now=at)
            state = ConversationState(flow_id="carer_annual", node_id="reply_child_sw", run=1, paused=True,
                                      profile={"band": "carer", "audience": "carer"})
            conversations.save(s, p.id, state.to_json(), version=0, now=at)


def _opt_out_directly(rt, senders: list[str], at: datetime) -> None:
    with session(rt.engine) as s:
        for sender in senders:
            assert waves.opt_out(s, _participant(s, rt, sender).id, now=at) == 1


def test_wave_of_500_carers(rt) -> None:
    senders = make_carers(rt, 500)
    make_carers(rt, 10, start=500, status="opted_out")  # left fostering: never invited
    wave_id = open_wave(rt)
    # Carers marked "chat" are driven message by message through the dispatcher (tests.helpers.Person);
    # the others are written straight to storage, as the dispatcher would, to keep 500 carers fast.
    groups = {
        "finish_chat": senders[0:5],
        "finish_early": senders[5:100],
        "drift": senders[100:115],
        "pause_chat": senders[115:125],
        "pause": senders[125:160],
        "opt_out_chat": senders[160:170],
        "opt_out": senders[170:200],
        "finish_late": senders[200:250],
        "opt_out_late": senders[250:260],
        "silent": senders[260:500],
    }
    finished_at: dict[str, datetime] = {}

    def day2(now: datetime) -> None:
        for sender in groups["finish_chat"]:
            p = Person(rt.dispatcher, sender, now=now)
            p.text("hello")
            p.press("▶ Start")
            while "Sent. Thank you" not in p.said:
                answer_current(p)
            finished_at[sender] = now
        _complete_directly(rt, groups["finish_early"], now)
        finished_at.update(dict.fromkeys(groups["finish_early"], now))
        for sender in groups["drift"]:
            p = Person(rt.dispatcher, sender, now=now)
            p.text("hello")
            p.press("▶ Start")
            answer_n(p, 6)
        for sender in groups["pause_chat"]:
            p = Person(rt.dispatcher, sender, now=now)
            p.text("hello")
            p.press("📋 Annual")
            answer_n(p, 3)
            p.command("stop")
        _pause_directly(rt, groups["pause"], now)
        for sender in groups["opt_out_chat"]:
            p = Person(rt.dispatcher, sender, now=now)
            p.text("hello")
            p.press("🔕")
        _opt_out_directly(rt, groups["opt_out"], now)

    def day5(now: datetime) -> None:
        for sender in groups["opt_out_late"]:
            p = Person(rt.dispatcher, sender, now=now)
            p.text("hi")  # ("please stop" worries the risk check: its safe reply would be the whole answer)
            p.press("🔕")

    def day6(now: datetime) -> None:
        _complete_directly(rt, groups["finish_late"], now)
        finished_at.update(dict.fromkeys(groups["finish_late"], now))

    events = {
        datetime(2026, 12, 2, 10, 15, tzinfo=UTC): day2,
        datetime(2026, 12, 5, 12, 15, tzinfo=UTC): day5,
        datetime(2026, 12, 6, 12, 15, tzinfo=UTC): day6,
    }
    results: dict[datetime, str] = {}
    now = START
    while now <= END:
        for at, act in events.items():
            if now - timedelta(hours=1) < at <= now:
                act(at)
        results[now] = send_notices(rt, now=now)
        now += timedelta(hours=1)

    # -- who got what, and when -------------------------------------------------------------------
    with session(rt.engine) as s:
        sent = waves.notices_of(s, wave_id)
    pid_to_sender = {_pid(rt, x): x for x in senders}
    got: dict[str, list[tuple[int, str, datetime]]] = defaultdict(list)
    for _member, pid, number, kind, at in sent:
        got[pid_to_sender[pid]].append((number, kind, at))

    expected_numbers = {
        "finish_chat": [0], "finish_early": [0], "drift": [0, 1, 2], "pause": [0], "pause_chat": [0],
        "opt_out": [0], "opt_out_chat": [0], "finish_late": [0, 1], "opt_out_late": [0, 1],
        "silent": [0, 1, 2],
    }
    for name, members in groups.items():
        for sender in members:
            assert [n for n, _, _ in got[sender]] == expected_numbers[name], (name, sender, got[sender])
    assert len(got) == 500, "the 10 carers who left were never invited"
    kinds = {name: {k for x in groups[name] for n, k, _ in got[x] if n > 0} for name in groups}
    assert kinds["drift"] == {"resume"}
    assert kinds["silent"] == {"start"}

    for sender, notes in got.items():
        invite_at = notes[0][2]
        assert invite_at == INVITE_AT
        for number, _, at in notes:
            local = at.astimezone(LONDON)
            assert 8 <= local.hour < 21, f"sent in quiet hours at {local}"
            assert number <= 2
            if number:
                assert at == invite_at + timedelta(days=(3, 7)[number - 1]), (sender, number, at)
            if sender in finished_at:
                assert at < finished_at[sender], "never reminded after finishing"

    quiet_runs = [t for t, r in results.items() if r == "quiet_hours"]
    assert quiet_runs
    assert all(not 8 <= t.astimezone(LONDON).hour < 21 for t in quiet_runs)
    assert len(quiet_runs) == sum(1 for t in results if not 8 <= t.astimezone(LONDON).hour < 21)

    # -- staff entries, then status against direct SQL --------------------------------------------
    survey_cmd.do_enter(rt, wave_id, mode="phone", district="east", answers={"informed": 3}, actor=Actor("j.smith", "participation_manager"),
                        case_ref=None, now=END)
    survey_cmd.do_enter(rt, wave_id, mode="paper", district="north", answers={"informed": 5}, actor=Actor("j.smith", "participation_manager"),
                        case_ref=None, now=END)
    with session(rt.engine) as s:
        case_ref = participants.get(s, _pid(rt, groups["silent"][0])).case_ref  # type: ignore[union-attr]
    survey_cmd.do_enter(rt, wave_id, mode="phone", district=None, answers={"informed": 2}, actor=Actor("j.smith", "participation_manager"),
                        case_ref=case_ref, now=END)
    out = survey_cmd.do_status(rt, wave_id, actor=Actor("j.smith", "participation_manager"), now=END)
    with session(rt.engine) as s:
        st = waves.wave_status(s, wave_id)
    assert st is not None
    direct = _direct_counts(rt, wave_id)
    for d in st.districts:
        counts = (d.invited, d.started, d.completed, d.opted_out, d.staff_entered)
        assert counts == direct[d.district], d.district
    t = st.total
    assert (t.invited, t.completed, t.opted_out, t.staff_entered) == (502, 5 + 95 + 50 + 3, 50, 3)
    assert t.started == t.completed + 15 + 45  # drifted and paused carers are partial
    total_line = next(line for line in out.splitlines() if line.startswith("total"))
    # Every count staff see passes the disclosure layer: the 3 entered by staff (under 5) is not shown.
    assert total_line.split()[1:6] == [str(t.invited), str(t.started), str(t.completed), str(t.partial),
                                       str(t.opted_out)]
    assert total_line.split()[6:8] == ["not", "shown"]
    assert "paper 1" not in out and "phone 2" not in out


def _direct_counts(rt, wave_id: int) -> dict[str, tuple[int, int, int, int, int]]:
    """The same figures counted a different way: plain SQL over members and submissions."""
    q = text("""
        SELECT d, SUM(invited), SUM(started), SUM(completed), SUM(opted), SUM(staff) FROM (
          SELECT COALESCE(m.district, 'unknown') AS d, 1 AS invited,
                 CASE WHEN (SELECT COUNT(*) FROM submission s WHERE s.wave_id = :w
                            AND s.participant_id = m.participant_id) > 0 THEN 1 ELSE 0 END AS started,
                 CASE WHEN (SELECT COUNT(*) FROM submission s WHERE s.wave_id = :w AND s.status = 'completed'
                            AND s.participant_id = m.participant_id) > 0 THEN 1 ELSE 0 END AS completed,
                 CASE WHEN m.opted_out_at IS NULL THEN 0 ELSE 1 END AS opted,
                 CASE WHEN (SELECT COUNT(*) FROM submission s WHERE s.wave_id = :w AND s.status = 'completed'
                            AND s.participant_id = m.participant_id AND s.mode <> 'chat') > 0
                       AND (SELECT COUNT(*) FROM submission s WHERE s.wave_id = :w AND s.status = 'completed'
                            AND s.participant_id = m.participant_id AND s.mode = 'chat') = 0
                      THEN 1 ELSE 0 END AS staff
          FROM wave_member m WHERE m.wave_id = :w
          UNION ALL
          SELECT COALESCE(s.district, 'unknown'), 1, 1, 1, 0, 1 FROM submission s
          WHERE s.wave_id = :w AND s.participant_id IS NULL AND s.status = 'completed'
        ) x GROUP BY d
    """)
    with rt.engine.connect() as conn:
        return {row[0]: tuple(int(v) for v in row[1:]) for row in conn.execute(q, {"w": wave_id})}
