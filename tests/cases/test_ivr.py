"""Through the terminal phone: a voicemail filed as a case, status lookup, caller greeting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cases.actions.triage import do_answer_instantly, do_route_to_department
from cases.case_models import Case
from cases.enterprises import register_enterprise
from cases.queries import count_open_cases_for_caller
from cases.voicemail import transcript_ready
from ivr.models import Recording
from ivr.phone import TerminalPhone
from ivr.speech import spoken_case_number
from tests.cases.factories import CALENDAR, OPERATOR, department_id, local, new_case

MALFORMED = "诉求编号为10位数字，请重新输入。"


def only_case(session: Session) -> Case:
    return session.scalars(select(Case)).one()


def test_voicemail_to_case_to_transcript_to_suggestion(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-10-10 22:00")
    outcome = phone.call(keys=["2"], voicemail=message_wav)
    case = only_case(session)
    assert case.number == "2610100001"
    assert (case.channel, case.category) == ("hotline_voicemail", "policy")
    readback = next(line for line in outcome.heard if "诉求编号是" in line)
    assert spoken_case_number("2610100001") in readback  # 二六幺零幺零，零零零幺

    recording = session.scalars(select(Recording)).one()
    assert case.recording_id == recording.id
    transcript_ready(session, recording.id, "我们公司想咨询贷款融资的问题", 0.8,
                     now=local("2026-10-10 22:05"))
    session.commit()
    top = only_case(session).suggestions[0]
    assert top.department_name == "区金融发展服务中心"
    assert {"贷款", "融资"} <= set(top.keywords)


def test_caller_hears_the_number_read_back_digit_by_digit(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-11-27 23:00")
    outcome = phone.call(keys=["4"], voicemail=message_wav)
    assert "您的诉求编号是：二六幺幺二七，零零零幺。" in " ".join(outcome.heard)


def test_second_message_of_the_week_is_linked_and_says_so(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-11-27 23:00")
    phone.call(keys=["4"], voicemail=message_wav)
    clock.set_local("2026-11-28 23:00")
    outcome = phone.call(keys=["4"], voicemail=message_wav)
    assert any("并入该诉求" in line for line in outcome.heard)
    assert len(session.scalars(select(Case)).all()) == 1


def test_status_lookup_of_a_known_case_from_its_phone(session: Session, phone: TerminalPhone,
                                                     clock: Any) -> None:
    case = new_case(session, local("2026-10-10 09:00"), contact_phone="13800138000")
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区税务局"),
                           actor=OPERATOR, now=local("2026-10-10 09:30"),
                           calendar=CALENDAR)
    session.commit()
    clock.set_local("2026-10-12 10:00")
    outcome = phone.call(from_number="+8613800138000", keys=["9", "2610100001#"])
    status = next(line for line in outcome.heard if "正在办理中。承办单位" in line)
    assert "区税务局" in status
    assert "10月13日" in status


def test_status_lookup_of_a_malformed_number_is_rejected(phone: TerminalPhone) -> None:
    outcome = phone.call(keys=["9", "12*4#"])
    assert MALFORMED in outcome.heard
    assert outcome.heard[outcome.heard.index(MALFORMED) + 1].startswith("查询诉求进度")


def test_caller_with_open_cases_hears_about_them_first(
    session: Session, phone: TerminalPhone
) -> None:
    enterprise = register_enterprise(session, name="宁波乙电子有限公司",
                                     phones=["+8613800138000"], now=local("2026-11-20 09:00"))
    new_case(session, local("2026-11-20 09:00"), enterprise_id=enterprise.enterprise.id)
    new_case(session, local("2026-11-21 09:00"), contact_phone="13800138000")
    session.commit()
    outcome = phone.call(from_number="+8613800138000", keys=[])
    assert "您有2件诉求正在办理中，查询进度请按9。" in outcome.heard
    assert outcome.heard.index("您有2件诉求正在办理中，查询进度请按9。") < next(
        i for i, line in enumerate(outcome.heard) if line.startswith("要素保障问题"))


def test_unknown_caller_hears_no_case_greeting(phone: TerminalPhone) -> None:
    outcome = phone.call(from_number="+8613900139000", keys=[])
    assert not any("件诉求正在办理中" in line for line in outcome.heard)


def test_star_in_status_lookup_returns_to_the_main_menu(phone: TerminalPhone) -> None:
    outcome = phone.call(keys=["9", "*#"])
    heard = outcome.heard
    lookup = next(i for i, line in enumerate(heard) if line.startswith("查询诉求进度"))
    assert heard[lookup + 1].startswith("要素保障问题")


def test_open_cases_count_by_contact_number_and_enterprise_phone(session: Session) -> None:
    enterprise = register_enterprise(session, name="宁波丙化工有限公司",
                                     phones=["+8613800138000"], now=local("2026-11-20 09:00"))
    new_case(session, local("2026-11-20 09:00"), enterprise_id=enterprise.enterprise.id)
    new_case(session, local("2026-11-21 09:00"), contact_phone="13800138000")
    new_case(session, local("2026-11-21 10:00"), contact_phone="13900139000")
    assert count_open_cases_for_caller(session, "138 0013 8000") == 2


def test_open_cases_count_a_case_matching_both_ways_once(session: Session) -> None:
    enterprise = register_enterprise(session, name="宁波丁纺织有限公司",
                                     phones=["+8613800138000"], now=local("2026-11-20 09:00"))
    new_case(session, local("2026-11-20 09:00"), enterprise_id=enterprise.enterprise.id,
             contact_phone="13800138000")
    assert count_open_cases_for_caller(session, "+8613800138000") == 1


def test_open_cases_count_every_enterprise_sharing_the_phone(session: Session) -> None:
    for name in ("宁波戊公司", "宁波己公司"):
        enterprise = register_enterprise(session, name=name, phones=["+8657487000000"],
                                         now=local("2026-11-20 09:00")).enterprise
        new_case(session, local("2026-11-20 09:00"), enterprise_id=enterprise.id)
    assert count_open_cases_for_caller(session, "+8657487000000") == 2


def test_open_cases_count_leaves_out_answered_cases(session: Session) -> None:
    case = new_case(session, local("2026-11-20 09:00"), contact_phone="13800138000")
    do_answer_instantly(session, case.id, text="已答复", actor=OPERATOR,
                        now=local("2026-11-20 10:00"), calendar=CALENDAR)
    assert count_open_cases_for_caller(session, "13800138000") == 0


def test_open_cases_count_is_one_statement(session: Session) -> None:
    register_enterprise(session, name="宁波庚公司", phones=["+8613800138000"],
                        now=local("2026-11-20 09:00"))
    session.commit()
    seen: list[str] = []
    engine = session.get_bind()

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        count_open_cases_for_caller(session, "+8613800138000")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len([s for s in seen if s != "BEGIN"]) == 1  # SQLite's BEGIN is not a query


def test_open_cases_count_of_no_number_is_zero(session: Session) -> None:
    assert count_open_cases_for_caller(session, "") == 0
    assert count_open_cases_for_caller(session, "anonymous") == 0


def test_a_caller_arriving_over_a_sip_trunk_is_greeted_and_filed_by_number(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    # BYOC: the domestic carrier's From reaches the webhooks as a SIP URI.
    new_case(session, local("2026-11-20 09:00"), contact_phone="13800138000")
    session.commit()
    clock.set_local("2026-10-10 22:00")
    outcome = phone.call(from_number="sip:13800138000@trunk.example.cn;user=phone", keys=["2"],
                         voicemail=message_wav)
    assert "您有1件诉求正在办理中，查询进度请按9。" in outcome.heard
    filed = session.scalars(select(Case).where(Case.channel == "hotline_voicemail")).one()
    assert filed.contact_phone == "+8613800138000"


def test_special_service_sub_area_reaches_the_case_and_its_suggestion(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-10-10 22:00")
    outcome = phone.call(keys=["3", "4"], voicemail=message_wav)
    assert any(line.startswith("技术开发请按1") for line in outcome.heard)
    case = only_case(session)
    assert (case.category, case.subcategory) == ("special", "legal")
    assert [(s.department_name, s.source, s.subcategory) for s in case.suggestions] == [
        ("区司法局", "menu", "legal")]


def test_policy_sub_area_reaches_the_case(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-10-10 22:00")
    phone.call(keys=["2", "3"], voicemail=message_wav)
    case = only_case(session)
    assert (case.category, case.subcategory) == ("policy", "cost_relief")
    assert [s.department_name for s in case.suggestions] == ["区经信局", "区财政局"]


def test_silence_in_the_sub_area_menu_still_files_under_the_area(
    session: Session, phone: TerminalPhone, clock: Any, message_wav: Path
) -> None:
    clock.set_local("2026-10-10 22:00")
    phone.call(keys=["3"], voicemail=message_wav)
    assert (only_case(session).category, only_case(session).subcategory) == ("special", None)
