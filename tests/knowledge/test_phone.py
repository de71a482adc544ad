"""The phone FAQ menu under 政策咨询, walked with calls signed like Twilio's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.flow import load_flow_file, load_flows
from call_flows.validator import validate_flow
from cases.case_models import Case, CaseEvent
from cases.vocab import Channel, Ledger, Mode, Status
from core.db import db
from followup.models import FollowUp
from ivr.models import Call
from knowledge import phone as kb_phone
from knowledge.service import set_phone_menu, transition
from tests.knowledge.conftest import ADMIN, CENTRE, TODAY, db_now, publish

LOAN_SPOKEN = "融资属于要素保障，可以在热线要素保障菜单中选择融资。"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["KB_PHONE_MENU_TTL"] = 0  # every step sees the database's phone menu
    return app_config


@pytest.fixture
def menu(session: Session) -> dict[str, int]:
    ids = {
        "hours": publish(session, "热线服务时间", "24小时受理。",
                         spoken_answer="本热线24小时受理。"),
        "loan": publish(session, "融资问题怎么反映", "融资属于要素保障。",
                        spoken_answer=LOAN_SPOKEN, category="factor", subcategory="finance"),
        "expired": publish(session, "过期条目", "旧", spoken_answer="旧答复。",
                           valid_until=TODAY + timedelta(days=1)),
    }
    set_phone_menu(session, [ids["hours"], ids["loan"], ids["expired"]], actor=ADMIN,
                   now=db_now())
    session.commit()
    return ids


def the_call(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalars(select(Call).where(Call.call_sid == sid)).one()


def test_key_2_reads_the_published_phone_articles_in_order(phone: Any, clock: Any,
                                                           menu: dict[str, int]) -> None:
    clock.now += timedelta(days=2)  # “过期条目” expired yesterday
    outcome = phone.call(keys=["2"])
    faq = next(line for line in outcome.heard if line.startswith("政策咨询常见问题"))
    assert faq.startswith(
        "政策咨询常见问题：热线服务时间，请按1；融资问题怎么反映，请按2；其他问题请按0")
    assert "过期条目" not in faq


def test_solved_files_a_closed_self_service_case_without_follow_up(
        phone: Any, clock: Any, menu: dict[str, int]) -> None:
    outcome = phone.call(keys=["2", "2", "1"])
    assert any(line.startswith(LOAN_SPOKEN)
               and "问题已解决请按1，需要人工服务请按2，其他问题请按0" in line
               for line in outcome.heard)
    assert outcome.heard[-1].startswith("很高兴为您解答")
    call = the_call(outcome.call_sid)
    assert call.path[-4:] == ["kb_faq", f"kb_answer_{menu['loan']}", "kb_resolved",
                              "kb_resolved_bye"]
    assert [e.input for e in call.events if e.kind == "input"] == ["2", "2", "1"]
    case = db.session.scalars(select(Case)).one()
    assert (case.channel, case.mode, case.status, case.ledger_state) == (
        Channel.HOTLINE_SELF_SERVICE, Mode.INSTANT, Status.CLOSED, Ledger.SETTLED)
    assert (case.category, case.subcategory) == ("factor", "finance")
    assert case.contact_phone == "+8613800138000" and case.call_id == call.id
    assert case.replies[0].text == LOAN_SPOKEN
    cited = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "kb_article_cited")).one()
    assert cited.after["article_id"] == menu["loan"] and cited.after["article_version"] == 1
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_retried_webhook_files_one_case(session: Session, menu: dict[str, int]) -> None:
    now = db_now()
    first = kb_phone.resolve_by_phone(session, menu["loan"], caller="+8613800138000",
                                      call_id=None, now=now)
    again = kb_phone.resolve_by_phone(session, menu["loan"], caller="+8613800138000",
                                      call_id=None, now=now + timedelta(seconds=5))
    anonymous = kb_phone.resolve_by_phone(session, menu["loan"], caller="anonymous",
                                          call_id=None, now=now)
    assert first is not None and again is None
    assert anonymous is not None and anonymous.contact_phone is None


def test_not_solved_goes_to_the_operator_with_the_area_preset(
        phone: Any, clock: Any, menu: dict[str, int], desk: Any) -> None:
    desk.operator("duty")
    outcome = phone.call(keys=["2", "2", "2"])
    call = the_call(outcome.call_sid)
    assert call.path[-3:] == ["service_desk", "operator", "goodbye"]
    assert call.reached_operator
    assert (call.category, call.subcategory) == ("factor", "finance")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_not_solved_after_hours_leaves_a_voicemail_in_the_area(
        phone: Any, clock: Any, menu: dict[str, int], voicemail_wav: Any) -> None:
    clock.set_local("2026-11-24 22:00")
    outcome = phone.call(keys=["2", "1", "2"], voicemail=voicemail_wav)
    call = the_call(outcome.call_sid)
    assert call.path[-4:] == ["service_desk", "after_hours", "voicemail", "voicemail_done"]
    assert call.category == "policy"  # 热线服务时间 has no area: 政策咨询 stays
    case = db.session.scalars(select(Case)).one()
    assert case.channel == Channel.HOTLINE_VOICEMAIL and case.category == "policy"


def test_key_0_and_silence_reach_the_service_desk(phone: Any, menu: dict[str, int],
                                                 desk: Any) -> None:
    desk.operator("duty")
    other = the_call(phone.call(keys=["2", "0"]).call_sid)
    assert other.path[-4:] == ["policy_menu", "service_desk", "operator", "goodbye"]
    assert other.category == "policy"
    silent = the_call(phone.call(keys=["2"]).call_sid)
    assert silent.path[-4:] == ["kb_faq", "service_desk", "operator", "goodbye"]
    assert silent.category == "policy"


def test_need_a_person_without_a_sub_area_reaches_a_person_in_the_area(
        phone: Any, menu: dict[str, int], desk: Any) -> None:
    desk.operator("duty")
    outcome = phone.call(keys=["2", "1", "2"])
    assert not any(line.startswith("产业政策请按1") for line in outcome.heard)
    call = the_call(outcome.call_sid)
    assert call.path[-4:] == [f"kb_answer_{menu['hours']}", "service_desk", "operator",
                              "goodbye"]
    assert (call.category, call.subcategory) == ("policy", None)


def test_an_other_area_article_keeps_its_area_for_the_voicemail(
        phone: Any, clock: Any, session: Session, menu: dict[str, int],
        voicemail_wav: Any) -> None:
    other = publish(session, "企业开办咨询", "请到服务窗口。", spoken_answer="请到服务窗口办理。",
                    category="other")
    set_phone_menu(session, [menu["hours"], other], actor=ADMIN, now=db_now())
    session.commit()
    clock.set_local("2026-11-24 22:00")
    outcome = phone.call(keys=["2", "2", "2"], voicemail=voicemail_wav)
    call = the_call(outcome.call_sid)
    assert call.path[-5:] == [f"kb_answer_{other}", "service_desk", "after_hours", "voicemail",
                              "voicemail_done"]
    case = db.session.scalars(select(Case)).one()
    assert (case.category, case.subcategory) == ("other", None)


def test_key_0_in_an_answer_goes_back_to_the_list(phone: Any, menu: dict[str, int]) -> None:
    outcome = phone.call(keys=["2", "1", "0", "2", "1"])
    faq = [i for i, line in enumerate(outcome.heard) if line.startswith("政策咨询常见问题")]
    assert len(faq) == 2
    assert any(line.startswith(LOAN_SPOKEN) for line in outcome.heard[faq[1]:])
    call = the_call(outcome.call_sid)
    assert call.path[-5:] == [f"kb_answer_{menu['hours']}", "kb_faq",
                              f"kb_answer_{menu['loan']}", "kb_resolved", "kb_resolved_bye"]


def test_republishing_a_withdrawn_article_puts_it_back_on_the_menu(
        phone: Any, session: Session, menu: dict[str, int]) -> None:
    transition(session, menu["hours"], "withdrawn", actor=CENTRE, now=db_now(), note="调整")
    session.commit()
    faq = next(line for line in phone.call(keys=["2"]).heard
               if line.startswith("政策咨询常见问题"))
    assert "热线服务时间" not in faq
    transition(session, menu["hours"], "published", actor=CENTRE, now=db_now())
    session.commit()
    faq = next(line for line in phone.call(keys=["2"]).heard
               if line.startswith("政策咨询常见问题"))
    assert faq.startswith("政策咨询常见问题：热线服务时间，请按1；融资问题怎么反映，请按2")


def test_a_caller_in_the_middle_of_a_withdrawn_article_finishes_it(
        twilio_post: Any, session: Session, menu: dict[str, int], desk: Any) -> None:
    desk.operator("duty")  # someone on duty: "need a person" queues the caller
    params = {"CallSid": "CA" + "8" * 32, "From": "+8613800138000", "To": "+8657488888718",
              "CallStatus": "in-progress"}
    hearing = twilio_post("/ivr/flow/hotline/kb_faq?event=gather&cat=policy",
                          {**params, "Digits": "2"})
    assert LOAN_SPOKEN in hearing.get_data(as_text=True)
    transition(session, menu["loan"], "withdrawn", actor=CENTRE, now=db_now(), note="政策调整")
    session.commit()
    answer = f"/ivr/flow/hotline/kb_answer_{menu['loan']}?cat=policy"
    again = twilio_post(answer + "&event=gather", {**params, "Digits": "*"}).get_data(
        as_text=True)
    assert LOAN_SPOKEN in again and "系统暂时无法处理" not in again
    person = twilio_post(answer + "&event=gather", {**params, "Digits": "2"}).get_data(
        as_text=True)
    assert "正在为您转接工作人员" in person and "系统暂时无法处理" not in person
    # Meanwhile a new caller's list no longer offers it.
    listing = twilio_post("/ivr/flow/hotline/main_menu?event=gather",
                          {**params, "CallSid": "CA" + "9" * 32, "Digits": "2"})
    assert "融资问题怎么反映" not in listing.get_data(as_text=True)


def test_the_menu_follows_the_knowledge_base_without_a_restart(
        phone: Any, session: Session, menu: dict[str, int], desk: Any) -> None:
    desk.operator("duty")
    first = phone.call(keys=["2"])
    assert any("热线服务时间，请按1" in line for line in first.heard)
    transition(session, menu["hours"], "withdrawn", actor=CENTRE, now=db_now(), note="调整")
    session.commit()
    second = phone.call(keys=["2"])
    faq = next(line for line in second.heard if line.startswith("政策咨询常见问题"))
    assert "热线服务时间" not in faq and "融资问题怎么反映，请按1" in faq
    set_phone_menu(session, [], actor=ADMIN, now=db_now())
    session.commit()
    third = phone.call(keys=["2"])
    assert not any(line.startswith("政策咨询常见问题") for line in third.heard)
    assert "operator" in the_call(third.call_sid).path


def test_signed_steps_into_the_faq_nodes(twilio_post: Any, menu: dict[str, int]) -> None:
    params = {"CallSid": "CA" + "7" * 32, "From": "+8613800138000", "To": "+8657488888718",
              "CallStatus": "in-progress", "Digits": "1"}
    response = twilio_post("/ivr/flow/hotline/kb_faq?event=gather&cat=policy", params)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "本热线24小时受理。" in body
    assert f"/ivr/flow/hotline/kb_answer_{menu['hours']}?event=gather" in body
    forged = twilio_post("/ivr/flow/hotline/kb_faq?event=gather", params, signature="bad")
    assert forged.status_code == 403


def test_the_composed_flow_is_valid_with_eight_articles() -> None:
    from app import build_hooks

    articles = [kb_phone.PhoneArticle(n, f"问题{n}", f"答复{n}{{x}}", None, None, 1)
                for n in range(1, 9)]
    flow = kb_phone.compose(load_flows()["hotline"], articles)
    assert [p for p in validate_flow(flow, build_hooks()) if p.severity == "error"] == []
    # An article's text is data: kept as written, never filled as a template.
    assert flow.nodes["kb_answer_1"].prompt.startswith("答复1{x} ")
    assert kb_phone.compose(load_flows()["hotline"], []).nodes["main_menu"].options[
        "2"].target == "policy_menu"


def test_the_faq_follows_renamed_role_bearing_nodes(tmp_path) -> None:
    from tests.flow_copies import a_call, app_engine, renamed_flow

    base = renamed_flow(tmp_path, "hotline", main_menu="root_menu",
                        policy_menu="policy_areas", service_desk="desk")
    flow = kb_phone.compose(base, [kb_phone.PhoneArticle(1, "问题", "答复", None, None, 1)])
    listing = app_engine(flow).advance("hotline", "root_menu", "gather", a_call(), digits="2")
    assert listing.last_node == kb_phone.FAQ_MENU
    faq = flow.nodes[kb_phone.FAQ_MENU]
    assert (faq.options["0"].target, faq.no_input.target) == ("policy_areas", "desk")
    assert flow.nodes["kb_answer_1"].options["2"].target == "desk"


def test_the_faq_takes_the_key_that_leads_to_the_policy_menu(tmp_path) -> None:
    from tests.flow_copies import copy_flow

    def swap_keys(text: str) -> str:  # 政策咨询 on key 3, 专项服务 on key 2
        return (text.replace('"2": {goto: policy_menu', '"@": {goto: policy_menu')
                .replace('"3": {goto: special_menu', '"2": {goto: special_menu')
                .replace('"@": {goto: policy_menu', '"3": {goto: policy_menu'))

    base = load_flow_file(copy_flow(tmp_path, "hotline", edit=swap_keys))
    flow = kb_phone.compose(base, [kb_phone.PhoneArticle(1, "问题", "答复", None, None, 1)])
    main = flow.nodes["main_menu"]
    assert (main.options["3"].target, main.options["2"].target) == (kb_phone.FAQ_MENU,
                                                                    "special_menu")
