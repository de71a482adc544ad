"""Whole calls through the queue: the terminal phone, its switchboard, simulated operators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from callqueue.models import EntryKind, EntryStatus, Offer, OfferStatus
from callqueue.presence import State
from core.db import db
from ivr.models import Call
from ivr.switchboard import CallerScript, OperatorPolicy
from tests.queue_desk import entry_of, run_calls


def the_call(sid: str) -> Call:
    db.session.rollback()
    return db.session.scalars(select(Call).where(Call.call_sid == sid)).one()


def test_an_idle_operator_answers_a_caller_from_the_queue(phone: Any, desk: Any, board: Any):
    agent = desk.operator("op1", policy=OperatorPolicy(answer_after=4, talk_seconds=90))
    outcome = phone.call(keys=["4"])  # 其他 → service desk in office hours
    call = the_call(outcome.call_sid)
    assert "operator" in call.path and call.reached_operator
    entry = entry_of(outcome.call_sid)
    assert entry is not None and entry.status == EntryStatus.COMPLETED
    assert entry.agent_id == agent.id and entry.talk_seconds == 90
    assert call.operator_answer_seconds == (entry.answered_at - entry.enqueued_at).seconds
    # One REST request rang the operator's device, exactly as documented.
    (method, url, form), = board.rest_requests
    assert (method, url.rsplit("/", 1)[-1]) == ("POST", "Calls.json")
    offer = db.session.scalars(select(Offer)).one()
    assert form["To"] == desk.agent(agent.id).device
    assert form["Url"].endswith(f"/ivr/queue/offer/{offer.id}/answer")
    assert form["StatusCallback"].endswith(f"/ivr/queue/offer/{offer.id}/status")
    assert str(form["Timeout"]) == "15"
    assert offer.status == OfferStatus.ENDED
    assert desk.agent(agent.id).state == State.WRAP_UP
    assert "感谢您的来电" in outcome.heard[-1]


def test_nobody_on_duty_means_no_queue_and_a_callback_at_once(phone: Any, desk: Any):
    desk.operator("op1", state=State.BREAK)
    outcome = phone.call(keys=["4", "1"])
    assert any("没有可以接听的工作人员" in h for h in outcome.heard)
    entry = entry_of(outcome.call_sid)
    assert entry is not None and entry.status == EntryStatus.UNAVAILABLE
    callback = entry_of(outcome.call_sid, EntryKind.CALLBACK)
    assert callback is not None and callback.status == EntryStatus.WAITING
    assert any("已为您预约回电" in h for h in outcome.heard)


def test_waiting_callers_hear_their_position(phone: Any, desk: Any, board: Any):
    desk.operator("op1", policy=OperatorPolicy(answer_after=2, talk_seconds=300))
    first, second = run_calls(board, phone, [
        (0, {"keys": ["4"], "from_number": "+8613800000001"}),
        (10, {"keys": ["4"], "from_number": "+8613800000002",
              "queue": CallerScript(hang_up_after=100)}),
    ])
    assert entry_of(first.call_sid).status == EntryStatus.COMPLETED
    assert any("您是下一位" in h for h in second.heard)
    assert second.reason == "hung up while waiting"
    entry = entry_of(second.call_sid)
    assert entry is not None and entry.status == EntryStatus.ABANDONED
