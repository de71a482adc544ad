"""The queue's rules one at a time: the estimate (or silence), positions, callback deadlines
in office time, the waiting and operator TwiML."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import event

from call_flows import queue_twiml
from call_flows.engine import VoiceSettings
from callqueue.models import Agent, EntryKind, EntryStatus, QueueEntry
from callqueue.runtime import add_office_time
from callqueue.waiting import estimate, position_of, recent_handling, wait, wait_read
from core.db import db
from workdays.calendar import WorkCalendar
from workdays.office_hours import OfficeHours

TZ = ZoneInfo("Asia/Shanghai")
BASE = "https://hotline.example.test"
SETTINGS = VoiceSettings(base_url=BASE, caller_id="+8657488888718")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(("position", "handling", "staff", "minutes"), [
    (1, 120.0, 1, 2),  # 120 s → 2 minutes
    (3, 100.0, 2, 3),  # 150 s → rounded up
    (1, 20.0, 3, 1),  # under a minute: "about 1 minute"
    (10, 200.0, 1, None),  # 33 minutes: a wild guess, not said
    (2, None, 2, None),  # too few recent calls
    (2, 120.0, 0, None),  # nobody on duty
])
def test_the_estimate_or_silence(position, handling, staff, minutes):
    assert estimate(position, handling, staff) == minutes


def entry(n: int, at: datetime, status: EntryStatus, area: str = "factor", *,
          talk: int | None = None, wrapup: int | None = None,
          kind: EntryKind = EntryKind.CALL) -> QueueEntry:
    made = QueueEntry(kind=kind.value, call_sid=f"CA{n:032d}", from_number="+86138",
                      area=area, place_at=at, enqueued_at=at, status=status.value,
                      talk_seconds=talk, wrapup_seconds=wrapup, attempts=0)
    db.session.add(made)
    return made


def test_recent_handling_needs_three_calls_of_the_last_two_hours(app):
    now = local("2026-11-24 10:00")
    entry(1, now - timedelta(minutes=30), EntryStatus.COMPLETED, talk=100, wrapup=20)
    entry(2, now - timedelta(minutes=20), EntryStatus.COMPLETED, talk=200, wrapup=30)
    entry(3, now - timedelta(hours=3), EntryStatus.COMPLETED, talk=900, wrapup=30)  # too old
    entry(4, now - timedelta(minutes=10), EntryStatus.COMPLETED, "policy", talk=50)  # other area
    db.session.commit()
    assert recent_handling(db.session, "factor", now) is None
    entry(5, now - timedelta(minutes=5), EntryStatus.COMPLETED, talk=60)
    db.session.commit()
    assert recent_handling(db.session, "factor", now) == (120 + 230 + 60) / 3


def test_position_counts_the_area_ahead_callbacks_included(app):
    at = local("2026-11-24 10:00")
    callback = entry(1, at, EntryStatus.WAITING, kind=EntryKind.CALLBACK)  # kept its place
    offered = entry(2, at + timedelta(seconds=5), EntryStatus.OFFERED)
    entry(3, at + timedelta(seconds=6), EntryStatus.WAITING, "policy")  # another area
    entry(4, at + timedelta(seconds=7), EntryStatus.ABANDONED)  # gone
    mine = entry(5, at + timedelta(seconds=9), EntryStatus.WAITING)
    db.session.commit()
    assert position_of(db.session, mine) == 3
    assert position_of(db.session, offered) == 2 and position_of(db.session, callback) == 1


def operator(n: int, state: str, skills: str = "factor,policy") -> Agent:
    made = Agent(user_id=n, username=f"op{n}", display_name=f"坐席{n}",
                 device=f"+8613900000{n:03d}", skills=skills, state=state,
                 state_since=local("2026-11-24 09:00"), idle_since=local("2026-11-24 09:00"))
    db.session.add(made)
    return made


def a_busy_line(now: datetime) -> dict[str, QueueEntry]:
    """Callers of two areas, a callback ahead, a tie on the place, answers of the last hour
    (an estimate), two operators on calls and one on a break (nobody to dispatch to)."""
    operator(1, "on_call")
    operator(2, "wrap_up", "factor")
    operator(3, "break", "factor,policy,special,other")
    operator(4, "ringing", "policy,special")
    operator(5, "on_call", "policy").device = None  # no device: not counted
    db.session.flush()
    db.session.get(Agent, 2).wrapup_until = now + timedelta(seconds=20)  # type: ignore[union-attr]
    for n in range(3):
        entry(90 + n, now - timedelta(minutes=20 + n), EntryStatus.COMPLETED, talk=150 + n,
              wrapup=30)
        entry(95 + n, now - timedelta(minutes=30 + n), EntryStatus.COMPLETED, "policy",
              talk=400, wrapup=30)
    at = now - timedelta(seconds=120)
    made = {
        "callback": entry(1, at, EntryStatus.WAITING, kind=EntryKind.CALLBACK),
        "offered": entry(2, at + timedelta(seconds=5), EntryStatus.OFFERED),
        "policy": entry(3, at + timedelta(seconds=6), EntryStatus.WAITING, "policy"),
        "tie_first": entry(4, at + timedelta(seconds=9), EntryStatus.WAITING),
        "tie_second": entry(5, at + timedelta(seconds=9), EntryStatus.WAITING),
        "connected": entry(6, at + timedelta(seconds=10), EntryStatus.CONNECTED),
        "left": entry(7, at + timedelta(seconds=11), EntryStatus.LEFT),
        "last": entry(8, at + timedelta(seconds=30), EntryStatus.WAITING),
    }
    db.session.commit()
    return made


def test_the_waiturl_read_answers_as_the_queue_does(app):
    runtime = app.extensions["queue_runtime"]
    now = local("2026-11-24 10:00")
    line = a_busy_line(now)
    sids = [e.call_sid for e in line.values()] + ["CA" + "f" * 32]
    for sid in sids:
        read = db.run_quick(lambda conn, sid=sid: wait_read(
            conn, dataclasses.replace(runtime, _handling={}), call_sid=sid, now=now))
        done = wait(db.session, dataclasses.replace(runtime, _handling={}), call_sid=sid,
                    now=now)
        db.session.rollback()
        assert read is not None and not done.changes
        assert (read.answer, read.position, read.estimate_minutes, read.waited_seconds) == (
            done.answer, done.position, done.estimate_minutes, done.waited_seconds), sid
    positions = {name: wait(db.session, runtime, call_sid=e.call_sid, now=now).position
                 for name, e in line.items() if e.kind == EntryKind.CALL}
    assert positions == {"offered": None, "policy": 1, "tie_first": 3, "tie_second": 4,
                         "connected": None, "left": None, "last": 5}
    # 2 on duty for factor (op1, op2), 2 for policy (op1, op4): 5 × 180 s / 2, 430 s / 2.
    assert wait(db.session, runtime, call_sid=line["last"].call_sid, now=now).estimate_minutes == 8
    assert wait(db.session, runtime, call_sid=line["policy"].call_sid,
                now=now).estimate_minutes == 4


def test_the_waiturl_read_leaves_changes_to_the_queue(app):
    runtime = app.extensions["queue_runtime"]
    now = local("2026-11-24 10:00")
    line = a_busy_line(now)
    last = line["last"].call_sid

    def read(at: datetime) -> object:
        return db.run_quick(lambda conn: wait_read(conn, runtime, call_sid=last, now=at))

    assert read(now) is not None
    # Waited the longest allowed: the caller must leave (a write, under the queue's lock).
    assert read(now + timedelta(seconds=runtime.settings.max_wait_seconds)) is None
    # A wrap-up over, or an operator free for the area: a dispatch pass is due.
    assert read(now + timedelta(seconds=20)) is None
    op3 = db.session.get(Agent, 3)
    assert op3 is not None
    op3.state, op3.skills = "idle", "special,other"  # free, but not for this caller's area
    db.session.commit()
    assert read(now) is not None
    op3.skills = "special,factor"
    db.session.commit()
    assert read(now) is None


def test_a_waiturl_answer_takes_one_read_and_no_transaction(app, twilio_post, clock):
    """The entry, its position and the operators in one statement; nothing begun or
    committed on the request's session (it was ping, BEGIN, three reads, COMMIT)."""
    clock.set_local("2026-11-24 10:00")
    line = a_busy_line(clock())
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    engines = {db.engine, db.quick_engine} - {None}
    params = {"AccountSid": "AC" + "1" * 32, "CallSid": line["last"].call_sid,
              "From": "+8613800000009", "To": "+8657488888718", "QueuePosition": "5"}
    twilio_post("/ivr/queue/wait", params)  # the recent handling time, read once per 15 s
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = etree.fromstring(twilio_post("/ivr/queue/wait", params).get_data())
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert answer.xpath("string(//Say)").startswith("您前面还有4位来电。预计等待约")
    assert [s for s in statements if s != "BEGIN"] == ["SELECT"]
    assert db.session().get_transaction() is None


def test_callback_deadlines_count_office_time():
    hours = OfficeHours.parse("08:30-12:00,13:30-17:30", WorkCalendar(), TZ)
    hour = timedelta(minutes=60)
    assert add_office_time(hours, local("2026-11-24 10:00"), hour) == local("2026-11-24 11:00")
    # Lunch is not office time; nor the night, nor the weekend.
    assert add_office_time(hours, local("2026-11-24 11:40"), hour) == local("2026-11-24 14:10")
    assert add_office_time(hours, local("2026-11-24 17:20"), hour) == local("2026-11-25 09:20")
    assert add_office_time(hours, local("2026-11-27 17:00"), hour) == local("2026-11-30 09:00")
    assert add_office_time(hours, local("2026-11-28 10:00"), hour) == local("2026-11-30 09:30")


def xml(response) -> etree._Element:
    return etree.fromstring(str(response).encode())


def test_a_waiting_cycle_says_the_position_then_plays_music_with_keys_open():
    doc = xml(queue_twiml.wait(SETTINGS, position=3, estimate_minutes=4))
    gather = doc.xpath("/Response/Gather")[0]
    assert (gather.get("numDigits"), gather.get("action")) == ("1", f"{BASE}/ivr/queue/key")
    said = gather.xpath("string(Say)")
    assert said.startswith("您前面还有2位来电。预计等待约4分钟。")
    assert "预约回电请按1" in said and "留言请按2" in said
    assert gather.xpath("string(Play)") == f"{BASE}/ivr/queue/hold.wav"
    assert doc.xpath("string(/Response/Redirect)") == f"{BASE}/ivr/queue/wait"
    first = xml(queue_twiml.wait(SETTINGS, position=1, estimate_minutes=None))
    assert first.xpath("string(//Say)").startswith("您是下一位") and "预计" not in first.xpath(
        "string(//Say)")


def test_the_waiting_cycle_sent_is_the_one_built():
    """``wait_xml`` (made once per position and estimate) is ``wait`` as text, for any
    settings: another base URL, voice or language is another document."""
    settings = dataclasses.replace(SETTINGS, variables={"hotline": "8718"},
                                   live_stream_url="wss://live.example.test")
    other = VoiceSettings(base_url="https://other.example.test", voice="Polly.Zhiyu",
                          language="cmn-CN")
    for voice in (settings, other, dataclasses.replace(other, voice="alice", language="en-US")):
        for position, minutes in ((1, None), (3, 4), (3, None), (12, 30)):
            for _ in range(2):
                assert queue_twiml.wait_xml(voice, position=position,
                                            estimate_minutes=minutes) == str(
                    queue_twiml.wait(voice, position=position, estimate_minutes=minutes))


def test_the_operator_hears_the_call_then_takes_it_from_the_queue_recorded():
    doc = xml(queue_twiml.operator_queue(SETTINGS, offer_id=7, area_label="要素保障",
                                         waited_seconds=65, queue="hotline-factor"))
    assert doc.xpath("string(/Response/Say)") == "8718热线来电，要素保障，已等待1分5秒。"
    dial = doc.xpath("/Response/Dial")[0]
    assert dial.get("action") == f"{BASE}/ivr/queue/offer/7/dialed"
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == f"{BASE}/ivr/queue/offer/7/recording"
    assert dial.get("callerId") == "+8657488888718"
    queue = dial.xpath("Queue")[0]
    assert (queue.text, queue.get("url")) == ("hotline-factor", f"{BASE}/ivr/queue/offer/7/bridge")
    told = xml(queue_twiml.bridging(SETTINGS)).xpath("string(/Response/Say)")
    assert "您的通话可能会被录音" in told  # said to the caller before the recording starts


def test_a_callback_task_dials_the_caller():
    doc = xml(queue_twiml.operator_callback(SETTINGS, offer_id=8, area_label="政策咨询",
                                            target="sip:13800138000@trunk.example.cn"))
    assert "回电任务" in doc.xpath("string(/Response/Say)")
    assert doc.xpath("string(/Response/Dial/Sip)") == "sip:13800138000@trunk.example.cn"
