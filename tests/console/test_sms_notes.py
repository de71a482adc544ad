"""Messages say what became of the texts (已发送 / 已排队 / 未发送：原因), from the outbox rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from core.db import db
from messaging import outbox
from messaging.models import SmsMessage
from tests.console.conftest import DEPT_A, OPERATOR, Accounts, department_id

MOBILE = "+8613957410001"
LANDLINE = "+8657488990011"
FLASH = re.compile(r'<div class="flash flash-success"[^>]*>([^<]*)</div>')


def flash_after(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    found = FLASH.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found.group(1)


@pytest.fixture
def with_sender(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["SMS_SENDER"] = "+8657400000009"
    return app_config


def _pair(window_case: Any, phone: str) -> tuple[Case, Case]:
    earlier = window_case("企业新建厂房需要用电增容", category="factor", contact_phone=phone)
    repeat = window_case("再次反映用电增容", category="factor", contact_phone=phone)
    return earlier, repeat


def test_merge_without_a_sender_says_the_text_was_not_sent(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any) -> None:
    earlier, repeat = _pair(window_case, MOBILE)
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{repeat.id}/merge", follow_redirects=True,
                           data={"into_id": str(earlier.id), "reason": "同一事项"})
    message = flash_after(response)
    assert message == "已并单；短信告知企业：未发送：未配置短信发送号码"
    assert "已短信告知企业" not in response.get_data(as_text=True)
    # The case page lists the text the same way.
    page = client.get(f"/console/cases/{repeat.id}").get_data(as_text=True)
    texts = page.split('id="texts"')[1].split("</section>")[0]
    assert "并单告知" in texts and "未发送：未配置短信发送号码" in texts and MOBILE in texts


def test_merge_with_a_sender_says_the_text_is_queued_then_sent(
        with_sender: Any, client: Any, accounts: Accounts, sign_in: Any, window_case: Any,
        clock: Any) -> None:
    earlier, repeat = _pair(window_case, MOBILE)
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{repeat.id}/merge", follow_redirects=True,
                           data={"into_id": str(earlier.id), "reason": "同一事项"})
    assert flash_after(response) == "已并单；短信告知企业：已排队"
    message = db.session.scalars(select(SmsMessage).where(
        SmsMessage.case_id == repeat.id)).one()
    outbox.mark_sent(db.session, message.id, sid="SM" + "0" * 32, body="…", now=clock())
    db.session.commit()
    page = client.get(f"/console/cases/{repeat.id}").get_data(as_text=True)
    assert "<td>并单告知</td><td>已发送</td>" in page


def test_progress_to_a_landline_says_why_no_text_went_out(
        with_sender: Any, client: Any, accounts: Accounts, sign_in: Any, window_case: Any,
        clock: Any) -> None:
    case = window_case("咨询贴息政策", contact_phone=LANDLINE)
    session = db.session()
    do_route_to_department(session, case.id, department_id=department_id(session, DEPT_A),
                           actor=OPERATOR, now=clock())
    session.commit()
    sign_in(accounts.dept_a)
    response = client.post(f"/console/assignments/{case.assignments[0].id}/progress",
                           data={"text": "已联系银行"}, follow_redirects=True)
    assert flash_after(response) == (
        "进度反馈已提交；短信告知企业：未发送：联系电话不是手机号码，无法接收短信")
    assert not db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id)).all()


def test_the_answer_that_closes_a_case_reports_its_text_and_routing_reports_the_liaisons(
        with_sender: Any, client: Any, accounts: Accounts, sign_in: Any, window_case: Any
) -> None:
    accounts.dept_a.phone = "+8613900000001"
    db.session.commit()
    case = window_case("咨询贴息政策", contact_phone=MOBILE)
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{case.id}/route", follow_redirects=True, data={
        "department_id": str(department_id(db.session(), DEPT_A))})
    assert flash_after(response) == "已流转交办；短信通知联络员（1条）：已排队"
    sign_in(accounts.dept_a)
    assignment = db.session.get(Case, case.id).assignments[0]
    response = client.post(f"/console/assignments/{assignment.id}/reply", follow_redirects=True,
                           data={"kind": "answer", "text": "已办理"})
    assert flash_after(response) == "答复已提交；短信告知企业：已排队"


def test_an_answer_without_any_phone_says_so(client: Any, accounts: Accounts, sign_in: Any,
                                             window_case: Any) -> None:
    case = window_case("咨询贴息政策")
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{case.id}/answer", follow_redirects=True,
                           data={"text": "已电话答复"})
    assert flash_after(response) == "已即时答复；短信告知企业：未发送：企业未留联系电话"
