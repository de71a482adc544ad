"""The faults of issue 20, each played out: devices, REST errors, repeated and late callbacks,
callers who hang up, late waitUrl requests, Redis paused, consoles closed mid-call."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select
from twilio.http.response import Response

from callqueue import service
from callqueue.models import EntryStatus, Offer, OfferStatus
from callqueue.presence import State
from core.db import db
from ivr.switchboard import CallerScript, OperatorPolicy
from tests.conftest import PUBLIC_BASE_URL, QUEUE_ACCOUNT_SID
from tests.queue_desk import entry_of, run_calls

CALLER = {"AccountSid": QUEUE_ACCOUNT_SID, "From": "+8613800000009", "To": "+8657488888718"}


def offers() -> list[Offer]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(select(Offer).order_by(Offer.id)))


def xml(response: Any) -> etree._Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    return etree.fromstring(response.get_data())


def test_an_unreachable_device_sends_the_caller_to_the_next_operator(phone, desk, board):
    broken = desk.operator("op1", policy=OperatorPolicy(fails=True))
    working = desk.operator("op2", policy=OperatorPolicy(answer_after=3, talk_seconds=40))
    outcome = phone.call(keys=["4"])
    entry = entry_of(outcome.call_sid)
    assert entry.status == EntryStatus.COMPLETED and entry.agent_id == working.id
    first, second = offers()
    assert (first.agent_id, first.status) == (broken.id, OfferStatus.FAILED)
    assert (second.agent_id, second.status) == (working.id, OfferStatus.ENDED)
    op1 = desk.agent(broken.id)
    assert op1.state == State.BREAK and "无法接通" in (op1.notice or "")
    assert "感谢您的来电" in outcome.heard[-1]  # the caller noticed nothing


def test_an_unanswered_device_rings_15_seconds_then_the_next_operator(phone, desk, board):
    sleepy = desk.operator("op1", policy=OperatorPolicy(answer_after=None))
    awake = desk.operator("op2", policy=OperatorPolicy(answer_after=2, talk_seconds=30))
    outcome = phone.call(keys=["4"])
    entry = entry_of(outcome.call_sid)
    assert entry.agent_id == awake.id and entry.status == EntryStatus.COMPLETED
    first, _second = offers()
    assert first.status == OfferStatus.NO_ANSWER
    assert (first.ended_at - first.created_at).total_seconds() >= 15
    op1 = desk.agent(sleepy.id)
    assert op1.state == State.BREAK and "未接听" in (op1.notice or "")


class FailingOnce:
    """The board's HTTP client, but the first ``calls.create`` answers a Twilio 500."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = 0

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        if url.endswith("/Calls.json") and not self.failed:
            self.failed += 1
            return Response(500, json.dumps({"status": 500, "code": 20500,
                                             "message": "Internal Server Error"}))
        return self.inner.request(method, url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_rest_error_when_connecting_goes_to_the_next_operator(app, phone, desk, board):
    first = desk.operator("op1", policy=OperatorPolicy(answer_after=2))
    second = desk.operator("op2", policy=OperatorPolicy(answer_after=2, talk_seconds=30))
    failing = FailingOnce(board.http_client)
    app.config["TWILIO_HTTP_CLIENT"] = failing
    outcome = phone.call(keys=["4"])
    assert failing.failed == 1
    entry = entry_of(outcome.call_sid)
    assert entry.status == EntryStatus.COMPLETED and entry.agent_id == second.id
    failed, answered = offers()
    assert failed.status == OfferStatus.FAILED and "TwilioRestException" in (failed.error or "")
    assert answered.agent_id == second.id
    # Not the operator's fault: 空闲 again (not 小休), and no notice blaming the device.
    op1 = desk.agent(first.id)
    assert op1.state == State.IDLE and "系统原因" in (op1.notice or "")


def test_duplicate_and_out_of_order_operator_callbacks(phone, desk, board, twilio_post, clock):
    agent = desk.operator("op1", policy=OperatorPolicy(answer_after=None))
    phone.call(keys=["4"], queue=CallerScript(hang_up_after=200))
    offer = offers()[0]
    assert offer.status == OfferStatus.NO_ANSWER
    assert desk.agent(agent.id).state == State.BREAK
    path = f"/ivr/queue/offer/{offer.id}/status"
    leg = {"AccountSid": QUEUE_ACCOUNT_SID, "CallSid": offer.operator_call_sid,
           "To": "+8613900000001", "From": "+8657488888718"}
    # The operator comes back; then Twilio repeats no-answer, and a late "ringing" arrives.
    desk.runtime.commit(db.session, service.set_presence(
        db.session, desk.runtime, agent.id, State.IDLE, now=desk.runtime.now()))
    ended = offer.ended_at
    clock.now += timedelta(minutes=1)
    for status in ("no-answer", "ringing", "no-answer"):
        assert twilio_post(path, {**leg, "CallStatus": status}).status_code == 204
    assert desk.agent(agent.id).state == State.IDLE  # not sent to 小休 a second time
    assert (offers()[0].status, offers()[0].ended_at) == (OfferStatus.NO_ANSWER, ended)
    # A late answer request for that offer finds the caller gone: nothing is connected.
    late = xml(twilio_post(f"/ivr/queue/offer/{offer.id}/answer",
                           {**leg, "CallStatus": "in-progress"}))
    assert "来电已挂断" in late.xpath("string(/Response/Say)") and late.xpath("/Response/Hangup")
    assert desk.agent(agent.id).state == State.IDLE


def test_repeated_queue_webhooks_of_a_caller(phone, desk, board, twilio_post):
    desk.operator("op1", policy=OperatorPolicy(answer_after=2, talk_seconds=20))
    outcome = phone.call(keys=["4"])
    entry = entry_of(outcome.call_sid)
    params = {**CALLER, "CallSid": outcome.call_sid}
    # Twilio repeats the <Enqueue> action and the <Queue url> request: nothing changes.
    again = twilio_post("/ivr/flow/hotline/operator?event=queue&cat=other",
                        {**params, "QueueResult": "bridged", "QueueTime": "3"})
    assert "感谢您的来电" in xml(again).xpath("string(/Response/Say)")
    offer = offers()[0]
    twilio_post(f"/ivr/queue/offer/{offer.id}/bridge", {**params, "QueueTime": "3"})
    after = entry_of(outcome.call_sid)
    assert (after.status, after.answered_at, after.talk_seconds) == (
        EntryStatus.COMPLETED, entry.answered_at, entry.talk_seconds)
    # A second join request (Twilio's retry of the menu step) keeps one entry.
    twilio_post("/ivr/flow/hotline/main_menu?event=gather", {**params, "Digits": "4"})
    assert entry_of(outcome.call_sid).id == entry.id


def test_a_caller_hanging_up_while_the_device_rings(phone, desk, board):
    agent = desk.operator("op1", policy=OperatorPolicy(answer_after=10))
    outcome = phone.call(keys=["4"], queue=CallerScript(hang_up_after=4))
    assert entry_of(outcome.call_sid).status == EntryStatus.ABANDONED
    offer = offers()[0]
    assert offer.status == OfferStatus.CANCELLED
    cancels = [form for method, url, form in board.rest_requests
               if url.endswith(f"/Calls/{offer.operator_call_sid}.json")]
    assert cancels == [{"Status": "canceled"}]
    op1 = desk.agent(agent.id)
    assert op1.state == State.IDLE and op1.notice == "来电已挂断。"


def test_a_caller_gone_when_the_operator_picks_up(phone, desk, board, twilio_post):
    """The caller hangs up between the operator answering and being connected."""
    agent = desk.operator("op1")
    params = {**CALLER, "CallSid": "CA" + "a" * 32, "CallStatus": "in-progress"}
    twilio_post("/ivr/voice", {**params, "CallStatus": "ringing"})
    # Reach the queue without the switchboard: the device is rung (the board records it).
    joined = xml(twilio_post("/ivr/flow/hotline/main_menu?event=gather",
                             {**params, "Digits": "4"}))
    assert joined.xpath("/Response/Enqueue")
    offer = offers()[0]
    leg = {"AccountSid": QUEUE_ACCOUNT_SID, "CallSid": offer.operator_call_sid or "CAleg",
           "CallStatus": "in-progress"}
    answer = xml(twilio_post(f"/ivr/queue/offer/{offer.id}/answer", leg))
    assert answer.xpath("/Response/Dial/Queue")
    assert desk.agent(agent.id).state == State.ON_CALL
    gone = twilio_post("/ivr/flow/hotline/operator?event=queue&cat=other",
                       {**params, "QueueResult": "hangup", "QueueTime": "5"})
    assert [e.tag for e in xml(gone)] == ["Hangup"]
    assert entry_of(params["CallSid"]).status == EntryStatus.ABANDONED
    op1 = desk.agent(agent.id)
    assert op1.state == State.IDLE and op1.notice == "来电已挂断。"
    assert offers()[0].status == OfferStatus.DROPPED
    # Twilio then ends the operator's <Dial> (nobody to take from the queue): no effect.
    twilio_post(f"/ivr/queue/offer/{offer.id}/dialed", {**leg, "DialCallStatus": "no-answer"})
    assert desk.agent(agent.id).state == State.IDLE


def test_wait_requests_after_the_caller_left(phone, desk, board, twilio_post):
    desk.operator("op1", policy=OperatorPolicy(answer_after=2, talk_seconds=20))
    done = phone.call(keys=["4"])
    late = xml(twilio_post("/ivr/queue/wait", {**CALLER, "CallSid": done.call_sid,
                                               "QueuePosition": "1"}))
    assert [e.tag for e in late] == ["Leave"]
    unknown = xml(twilio_post("/ivr/queue/wait", {**CALLER, "CallSid": "CA" + "f" * 32}))
    assert [e.tag for e in unknown] == ["Play"]
    assert unknown.xpath("string(/Response/Play)") == f"{PUBLIC_BASE_URL}/ivr/queue/hold.wav"
    assert entry_of("CA" + "f" * 32) is None


@pytest.mark.parametrize("path", [
    "/ivr/queue/wait", "/ivr/queue/key", "/ivr/queue/offer/1/answer", "/ivr/queue/offer/1/status",
    "/ivr/queue/offer/1/bridge", "/ivr/queue/offer/1/dialed", "/ivr/queue/offer/1/recording"])
def test_every_queue_webhook_checks_the_signature(twilio_post, path):
    assert twilio_post(path, {**CALLER, "CallSid": "CA1"}, signature="forged").status_code == 403


def test_the_hold_music_is_made_here_and_cached(client):
    first = client.get("/ivr/queue/hold.wav")
    assert first.status_code == 200 and first.mimetype == "audio/wav"
    assert first.data[:4] == b"RIFF" and len(first.data) > 100_000
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/ivr/queue/hold.wav", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_browser_closed_while_on_a_call(phone, desk, board):
    """The call finishes on the device and is logged; then the operator is signed out
    instead of being given the next caller."""
    agent = desk.operator("op1", policy=OperatorPolicy(answer_after=2, talk_seconds=120))
    session = db.session()
    found = desk.agent(agent.id)
    found.seen_at = desk.runtime.now()  # the console was open when the call came
    session.commit()
    desk.ticking()
    first, second = run_calls(board, phone, [
        (0, {"keys": ["4"], "from_number": "+8613800000001"}),
        (300, {"keys": ["4"], "from_number": "+8613800000002"}),
    ])
    assert entry_of(first.call_sid).status == EntryStatus.COMPLETED  # talked to the end
    # The console was closed during the call: by the time the second caller comes the tick
    # has signed the operator out, and that caller is not queued for nobody.
    assert desk.agent(agent.id).state == State.OFFLINE
    assert entry_of(second.call_sid).status == EntryStatus.UNAVAILABLE


def test_redis_paused_callers_keep_hearing_valid_twiml(app_config, redis_url, redis_conn,
                                                       twilio_post_factory, clock):
    from redis import Redis

    from tests.followup.support import FakeTwilio
    from tests.queue_desk import Desk

    twilio = FakeTwilio()
    app_config.update(REDIS_URL=redis_url, TWILIO_HTTP_CLIENT=twilio)
    post = twilio_post_factory(app_config)
    app = post.app
    with app.app_context():
        desk = Desk(app, None)
        desk.operator("op1")
        pauser = Redis.from_url(redis_url)
        params = {**CALLER, "CallSid": "CA" + "p" * 32, "CallStatus": "in-progress"}
        post("/ivr/voice", {**params, "CallStatus": "ringing"})
        pauser.execute_command("CLIENT", "PAUSE", "4000", "ALL")
        try:
            joined = etree.fromstring(post("/ivr/flow/hotline/main_menu?event=gather",
                                           {**params, "Digits": "4"}).get_data())
            waiting = etree.fromstring(post("/ivr/queue/wait", params).get_data())
        finally:
            pauser.execute_command("CLIENT", "UNPAUSE")
        assert joined.xpath("/Response/Enqueue") and not joined.xpath("//Record")
        assert waiting.tag == "Response" and waiting.xpath("/Response/Play|/Response/Gather")
        entry = entry_of(params["CallSid"])
        assert entry is not None and entry.status in (EntryStatus.WAITING, EntryStatus.OFFERED)
        # The device was rung from a thread of the web process: the offer left "placing".
        for thread in threading.enumerate():
            if thread.name == "queue-placement":
                thread.join(10)
        assert offers()[0].status == OfferStatus.RINGING
        assert len(twilio.calls()) == 1
