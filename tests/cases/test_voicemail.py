"""Voicemails as cases: filing, retries, duplicate linking (并单), transcript hand-off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actions.details import do_update_details
from cases.actions.triage import do_answer_instantly
from cases.case_models import Case
from cases.enterprises import register_enterprise
from cases.intake import VOICEMAIL_PLACEHOLDER
from cases.voicemail import file_voicemail, transcript_ready
from tests.cases.factories import CALENDAR, OPERATOR, actions, local, voicemail_recording

NOW = local("2026-11-24 22:00")


def file(session: Session, recording, now=NOW):  # type: ignore[no-untyped-def]
    call = recording.call
    return file_voicemail(session, recording_id=recording.id, call_id=call.id,
                          caller=call.from_number, category=call.category,
                          subcategory=call.subcategory, now=now, calendar=CALENDAR)


def case_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def test_voicemail_is_filed_with_the_menu_category_and_caller(session: Session) -> None:
    recording = voicemail_recording(session, category="factor", subcategory="finance")
    case = file(session, recording).case
    assert (case.channel, case.category, case.subcategory) == (
        "hotline_voicemail", "factor", "finance")
    assert (case.contact_phone, case.call_id, case.recording_id) == (
        "+8613800138000", recording.call_id, recording.id)
    assert case.description == VOICEMAIL_PLACEHOLDER


def test_caller_number_identifies_the_enterprise(session: Session) -> None:
    enterprise = register_enterprise(session, name="宁波甲机械有限公司",
                                     phones=["138 0013 8000"], now=NOW).enterprise
    case = file(session, voicemail_recording(session)).case
    assert case.enterprise_id == enterprise.id


def test_retried_record_action_files_one_case(session: Session) -> None:
    recording = voicemail_recording(session)
    first = file(session, recording)
    again = file(session, recording)
    assert (again.case.id, again.created) == (first.case.id, False)
    assert case_count(session) == 1


def test_repeat_message_within_seven_days_is_linked(session: Session) -> None:
    first = file(session, voicemail_recording(session)).case
    later = NOW + timedelta(days=6)
    second = file(session, voicemail_recording(session, now=later), now=later)
    assert (second.case.id, second.linked) == (first.id, True)
    assert "voicemail_linked" in actions(session, first)
    assert case_count(session) == 1


def test_repeat_message_in_another_category_is_a_new_case(session: Session) -> None:
    file(session, voicemail_recording(session, category="policy"))
    second = file(session, voicemail_recording(session, category="special"))
    assert not second.linked
    assert case_count(session) == 2


def test_repeat_message_after_seven_days_is_a_new_case(session: Session) -> None:
    file(session, voicemail_recording(session))
    later = NOW + timedelta(days=8)
    assert not file(session, voicemail_recording(session, now=later), now=later).linked


def test_repeat_message_about_an_answered_case_is_a_new_case(session: Session) -> None:
    first = file(session, voicemail_recording(session)).case
    do_answer_instantly(session, first.id, text="已答复", actor=OPERATOR, now=NOW,
                        calendar=CALENDAR)
    assert not file(session, voicemail_recording(session)).linked


def test_messages_from_different_callers_are_not_linked(session: Session) -> None:
    file(session, voicemail_recording(session, caller="+8613800138000"))
    assert not file(session, voicemail_recording(session, caller="+8613900139000")).linked


def test_transcript_becomes_the_description_and_needs_review(session: Session) -> None:
    recording = voicemail_recording(session)
    case = file(session, recording).case
    transcript_ready(session, recording.id, "我们公司想咨询贷款融资的问题", 0.82, now=NOW)
    assert case.description == "我们公司想咨询贷款融资的问题"
    assert case.needs_review is True
    assert case.recordings[0].confidence == 0.82


def test_transcript_suggests_routing_with_the_matched_keywords(session: Session) -> None:
    recording = voicemail_recording(session)
    case = file(session, recording).case
    transcript_ready(session, recording.id, "我们公司想咨询贷款融资的问题", 0.8, now=NOW)
    top = case.suggestions[0]
    assert (top.department_name, top.source) == ("区金融发展服务中心", "transcript")
    assert set(top.keywords) == {"贷款", "融资"}


def test_transcript_hand_off_is_idempotent(session: Session) -> None:
    recording = voicemail_recording(session)
    case = file(session, recording).case
    for _ in range(2):
        transcript_ready(session, recording.id, "咨询排污许可", 0.7, now=NOW)
    assert actions(session, case).count("transcript_attached") == 1
    assert len(case.suggestions) == 1


def test_transcript_of_an_unfiled_recording_files_the_case(session: Session) -> None:
    recording = voicemail_recording(session, category="factor", subcategory="land")
    case = transcript_ready(session, recording.id, "厂房土地证办理", 0.9, now=NOW)
    assert case is not None
    assert (case.category, case.description, case.recording_id) == (
        "factor", "厂房土地证办理", recording.id)


def test_transcript_for_an_unknown_recording_returns_none(session: Session) -> None:
    assert transcript_ready(session, 987654, "文本", 0.5, now=NOW) is None


def test_operator_edit_is_not_overwritten_by_a_late_transcript(session: Session) -> None:
    recording = voicemail_recording(session)
    case = file(session, recording).case
    do_update_details(session, case.id, description="（人工听写）咨询税收优惠",
                      actor=OPERATOR, now=NOW)
    transcript_ready(session, recording.id, "咨询税收优惠政策", 0.6, now=NOW)
    assert case.description == "（人工听写）咨询税收优惠"


def test_linked_message_transcript_adds_to_the_suggestions(session: Session) -> None:
    first_recording = voicemail_recording(session)
    case = file(session, first_recording).case
    transcript_ready(session, first_recording.id, "想咨询一下", 0.6, now=NOW)
    second = voicemail_recording(session)
    file(session, second)
    transcript_ready(session, second.id, "关于发票和退税", 0.6, now=NOW)
    assert case.description == "想咨询一下"
    assert case.suggestions[0].department_name == "区税务局"


def test_empty_transcript_asks_the_operator_to_listen(session: Session) -> None:
    recording = voicemail_recording(session)
    case = file(session, recording).case
    transcript_ready(session, recording.id, "", 0.0, now=NOW)
    assert "请收听录音" in case.description
    # No words to match: only the caller's menu choice (政策咨询) speaks.
    assert case.suggestions
    assert all(s.source == "menu" and s.keywords == [] for s in case.suggestions)
