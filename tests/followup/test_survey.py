"""The survey call, end to end: job → Twilio REST (faked) → the terminal phone answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cases.actions.assignments import do_reply
from cases.actions.rating import do_record_rating
from cases.case_models import Case
from cases.notifications import Audience, Notification, inbox
from cases.voicemail import transcript_ready
from core.db import db
from followup.models import AttemptStatus, FollowUpStatus
from followup.queries import operator_tasks
from ivr.models import Call, Recording
from tests.cases.factories import CALENDAR, actions, department_id, liaison, local, write_wav
from tests.followup.support import (
    OPERATOR,
    answer,
    answered_case,
    attempts,
    case,
    followup_of,
    place,
    scheduled,
)

NUMBER_SPOKEN = "编号二六幺幺二四，零零零幺"


def survey(phone: Any, twilio: Any, clock: Any, case_id: int, **kwargs: Any) -> Any:
    followup = followup_of(case_id)
    if followup.status == FollowUpStatus.NEW:
        followup = scheduled(case_id, clock)
    else:
        clock.now = followup.next_attempt_at
    sid, data = place(followup.id, twilio)
    return answer(phone, sid, data, **kwargs)


def test_rated_five_settles_the_case(jobs: Any, clock: Any, phone: Any,
                                     twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    outcome = survey(phone, twilio_http, clock, case_id, keys=["5", "1", "2"])
    heard = " ".join(outcome.heard)
    assert "综合服务中心8718服务热线" in heard
    assert f"您于11月24日反映的诉求，{NUMBER_SPOKEN}，已由区经信局答复" in heard
    assert "非常不满意请按1，不满意请按2，基本满意请按3，满意请按4，非常满意请按5。" in heard
    assert "您的评价是：非常满意。" in heard and "您的评价已记录。" in heard
    assert outcome.reason == "hung up by the hotline"
    rated = case(case_id)
    assert (rated.status, rated.ledger_state) == ("closed", "settled")
    (attempt,) = attempts(followup_of(case_id).id)
    assert (attempt.status, attempt.score, attempt.answered_by) == ("rated", 5, "human")
    rating = rated.ratings[-1]
    assert (rating.score, rating.via, rating.call_id) == (5, "callback", attempt.call_id)
    followup = followup_of(case_id)
    assert (followup.status, followup.score, followup.rated_via) == ("rated", 5, "callback")
    trail = actions(db.session(), rated)
    assert trail[-4:] == ["followup_scheduled", "followup_call", "ledger_settled", "rated"]
    call = db.session.get(Call, attempt.call_id)
    assert (call.direction, call.flow, call.status) == ("outbound-api", "survey", "completed")


def test_rated_one_reopens_the_case_and_alerts_the_supervisor(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any, tmp_path: Path) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    comment = write_wav(tmp_path / "comment.wav")
    outcome = survey(phone, twilio_http, clock, case_id, keys=["1", "1", "1"], recording=comment)
    assert "您的评价是：非常不满意。" in outcome.heard
    reopened = case(case_id)
    assert (reopened.status, reopened.ledger_state, reopened.rework_count) == (
        "handling", "hanging", 1)
    session = db.session()
    (alert,) = inbox(session, Audience.SUPERVISOR)
    assert (alert.kind, alert.score, alert.title) == (
        "poor_rating", 1, "差评：诉求2611240001评价为“非常不满意”")
    assert "自动回访" in alert.body and alert.comment is None
    # The department: the poor rating, then the rework assignment (newest first).
    rework, notice = inbox(session, Audience.DEPARTMENT,
                           department_id=department_id(session, "区经信局"))[:2]
    assert notice.rating_id == alert.rating_id
    assert (rework.kind, rework.title) == (
        "rework", "重办：诉求2611240001企业评价不满意，请于11月27日前重新答复")

    # The spoken comment is transcribed like a voicemail, but it is no new case.
    (attempt,) = attempts(followup_of(case_id).id)
    recording = db.session.scalars(
        select(Recording).where(Recording.recording_sid == outcome.recording_sid)).one()
    assert attempt.comment_recording_id == recording.id
    cases_before = db.session.scalar(select(func.count()).select_from(Case))
    with db.transaction() as session:
        assert transcript_ready(session, recording.id, "办理太慢，问题没有解决", 0.8,
                                now=clock()) is None
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == cases_before
        comments = set(session.scalars(select(Notification.comment).where(
            Notification.kind == "poor_rating")))
        assert comments == {"办理太慢，问题没有解决"}
        reworked = session.get(Case, case_id)
        assert reworked.ratings[-1].comment == "办理太慢，问题没有解决"
        assert "followup_comment" in actions(session, reworked)

    # Re-handled and answered again: the new round gets its own follow-up.
    with db.transaction() as session:
        reworked = session.get(Case, case_id)
        lead = next(a for a in reworked.assignments if a.round == 1)
        do_reply(session, lead.id, text="已重新办理", now=clock(), calendar=CALENDAR,
                 actor=liaison(session, "区经信局"))
    assert (followup_of(case_id).round, followup_of(case_id).status) == (1, "new")


def test_invalid_key_is_reprompted_then_a_valid_rating_counts(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    outcome = survey(phone, twilio_http, clock, case_id, keys=["7", "4", "1", "2"])
    assert "您的输入有误。" in outcome.heard
    assert "您的评价是：满意。" in outcome.heard
    assert case(case_id).status == "closed" and case(case_id).ratings[-1].score == 4


def test_no_input_ends_without_a_rating_and_tries_again_later(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    outcome = survey(phone, twilio_http, clock, case_id, keys=[])
    menu = [line for line in outcome.heard if line.startswith("请您对办理结果进行评价")]
    assert len(menu) == 2  # asked once more, then the call ends
    assert outcome.heard[-1].startswith("抱歉，没有收到您的评价")
    assert case(case_id).status == "answered" and not case(case_id).ratings
    (attempt,) = attempts(followup_of(case_id).id)
    assert attempt.status == AttemptStatus.NO_RATING
    followup = followup_of(case_id)
    assert (followup.status, followup.next_attempt_at) == ("scheduled", local("2026-11-25 14:00"))


def test_hanging_up_before_confirming_is_no_rating(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    survey(phone, twilio_http, clock, case_id, keys=["5"], hang_up_after=1)
    assert attempts(followup_of(case_id).id)[0].status == AttemptStatus.NO_RATING
    assert case(case_id).status == "answered"


def test_answering_machine_gets_no_survey_and_counts_as_a_failed_attempt(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    outcome = survey(phone, twilio_http, clock, case_id, keys=["5"],
                     answered_by="machine_start")
    assert outcome.heard == [] and outcome.pressed == []
    (attempt,) = attempts(followup_of(case_id).id)
    assert (attempt.status, attempt.answered_by) == ("machine", "machine_start")
    assert followup_of(case_id).status == "scheduled"
    assert case(case_id).status == "answered"
    assert "followup_failed" in actions(db.session(), case(case_id))


def test_three_failed_attempts_become_an_operator_task(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    survey(phone, twilio_http, clock, case_id, call_status="no-answer")
    assert clock.now == local("2026-11-25 09:30")
    survey(phone, twilio_http, clock, case_id, call_status="busy")
    assert clock.now == local("2026-11-25 14:00")
    survey(phone, twilio_http, clock, case_id, answered_by="machine_start")
    assert clock.now == local("2026-11-26 14:00")
    assert [a.status for a in attempts(followup_of(case_id).id)] == [
        "no_answer", "busy", "machine"]
    (task,) = operator_tasks(db.session())
    assert (task.case_id, task.status, task.attempt_count) == (case_id, "operator", 3)
    assert task.operator_reason == "自动回访3次未成功（最后一次：答录机接听）"
    trail = actions(db.session(), case(case_id))
    assert trail.count("followup_call") == 3 and trail.count("followup_failed") == 3
    assert trail[-1] == "followup_to_operator"
    # The operator calls and enters the rating: the task is done.
    with db.transaction() as session:
        do_record_rating(session, case_id, score=4, via="operator", actor=OPERATOR,
                         now=clock(), calendar=CALENDAR)
    assert operator_tasks(db.session()) == []
    assert (followup_of(case_id).status, followup_of(case_id).rated_via) == ("rated", "operator")


def test_case_rated_by_an_operator_meanwhile_is_not_rated_again(
        jobs: Any, clock: Any, phone: Any, twilio_http: Any) -> None:
    case_id = answered_case(local("2026-11-24 10:00"))
    followup = scheduled(case_id, clock)
    sid, data = place(followup.id, twilio_http)
    with db.transaction() as session:
        do_record_rating(session, case_id, score=5, via="operator", actor=OPERATOR,
                         now=clock(), calendar=CALENDAR)
    outcome = answer(phone, sid, data, keys=["1", "1"])
    assert "抱歉，打扰您了。本次回访的诉求已完成评价。" in outcome.heard
    assert [r.score for r in case(case_id).ratings] == [5]


def test_rating_order_is_configurable() -> None:
    from followup.survey_hooks import rating_options

    assert rating_options("descending") == (
        "非常满意请按5，满意请按4，基本满意请按3，不满意请按2，非常不满意请按1。")
