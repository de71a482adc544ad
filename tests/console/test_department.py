"""The department workspace: its cases by due date, accept, reply, return, extensions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cases.case_models import Assignment, Case
from cases.vocab import AssignmentState, Status
from core.db import db
from tests.console.conftest import DEPT_A, DEPT_B, Accounts, department_id


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def fresh(model: type, row_id: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, row_id)


def route(case: Case, department: str, clock: Any) -> Assignment:
    from cases.actions.triage import do_route_to_department
    from tests.console.conftest import OPERATOR

    session = db.session()
    do_route_to_department(session, case.id,
                           department_id=department_id(session, department),
                           actor=OPERATOR, now=clock())
    session.commit()
    return fresh(Case, case.id).assignments[-1]


def test_workspace_lists_only_own_cases_by_due_date_with_days_left(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any
) -> None:
    clock.set_local("2026-11-23 09:00")  # Monday
    early = window_case("先交办的诉求")
    route(early, DEPT_A, clock)
    clock.set_local("2026-11-25 09:00")
    late = window_case("后交办的诉求")
    route(late, DEPT_A, clock)
    other = window_case("别的单位的诉求")
    route(other, DEPT_B, clock)
    sign_in(accounts.dept_a)
    html = page(client, "/console/department")
    assert html.index(early.number) < html.index(late.number)
    assert other.number not in html
    # Due Wed 25th (2 working days after Mon 23rd): today, so "今日到期"; the later one has 2.
    assert "今日到期" in html and "剩2个工作日" in html
    clock.set_local("2026-11-26 09:00")
    overdue = page(client, "/console/department")
    assert "已逾期1个工作日" in overdue and "overdue-row" in overdue


def test_accept_then_reply_answers_the_case(client: Any, accounts: Accounts, sign_in: Any,
                                            routed_case: Case) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    html = page(client, f"/console/cases/{routed_case.id}")
    assert f"/console/assignments/{assignment.id}/accept" in html
    assert "/route" not in html and "/answer" not in html  # centre forms hidden
    assert client.post(f"/console/assignments/{assignment.id}/accept").status_code == 303
    assert fresh(Assignment, assignment.id).state == AssignmentState.ACCEPTED
    response = client.post(f"/console/assignments/{assignment.id}/reply",
                           data={"text": "已联系企业，推荐政策性担保产品"})
    assert response.status_code == 303
    assert fresh(Case, routed_case.id).status == Status.ANSWERED
    after = page(client, f"/console/cases/{routed_case.id}")
    assert "答复已提交" in after and "推荐政策性担保产品" in after
    assert f"/console/assignments/{assignment.id}/reply" not in after
    assert routed_case.number in page(client, "/console/department")  # recent list


def test_return_with_reason_sends_it_back_to_the_queue(
    client: Any, accounts: Accounts, sign_in: Any, routed_case: Case
) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    empty = client.post(f"/console/assignments/{assignment.id}/return", data={"reason": ""})
    assert empty.status_code == 422 and "请填写退单理由" in empty.get_data(as_text=True)
    client.post(f"/console/assignments/{assignment.id}/return",
                data={"reason": "属于税务问题，非本单位职责"})
    assert fresh(Case, routed_case.id).status == Status.RECEIVED
    sign_in(accounts.operator)
    queue = page(client, "/console/queue")
    assert routed_case.number in queue and "退单待重新交办" in queue
    detail = page(client, f"/console/cases/{routed_case.id}")
    assert "属于税务问题" in detail and f"/console/cases/{routed_case.id}/reroute" in detail
    tax = department_id(db.session(), "区税务局")  # no liaison account: confirm first
    warned = client.post(f"/console/cases/{routed_case.id}/reroute",
                         data={"department_id": str(tax), "reason": "改派税务"})
    assert warned.status_code == 422
    assert "该单位尚无在用的联络员账号" in warned.get_data(as_text=True)
    assert fresh(Case, routed_case.id).status == Status.RECEIVED
    client.post(f"/console/cases/{routed_case.id}/reroute",
                data={"department_id": str(tax), "reason": "改派税务",
                      "confirm_no_liaison": "1"})
    assert fresh(Case, routed_case.id).assignments[-1].department_id == tax


def test_extension_request_and_centre_approval(client: Any, accounts: Accounts, sign_in: Any,
                                               routed_case: Case, clock: Any) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    new_due = (assignment.due_date + timedelta(days=10)).isoformat()
    refused = client.post(f"/console/assignments/{assignment.id}/extension",
                          data={"new_due": new_due, "reason": "需现场踏勘"})
    assert refused.status_code == 422 and "延期须先与企业约定办结时限" in refused.get_data(
        as_text=True)
    client.post(f"/console/assignments/{assignment.id}/extension",
                data={"new_due": new_due, "reason": "需现场踏勘", "agreed_with_enterprise": "1"})
    assert "等待中心审批" in page(client, f"/console/cases/{routed_case.id}")
    sign_in(accounts.operator)
    assert "待审批延期申请" in page(client, "/console/queue")
    detail = page(client, f"/console/cases/{routed_case.id}")
    assert f"/console/assignments/{assignment.id}/extension/approve" in detail
    client.post(f"/console/assignments/{assignment.id}/extension/approve",
                data={"enterprise_informed": "1"})
    approved = fresh(Assignment, assignment.id)
    assert approved.due_date.isoformat() == new_due and approved.enterprise_informed


def test_extension_can_be_rejected_with_a_reason(client: Any, accounts: Accounts, sign_in: Any,
                                                 routed_case: Case) -> None:
    assignment = routed_case.assignments[0]
    sign_in(accounts.dept_a)
    client.post(f"/console/assignments/{assignment.id}/extension", data={
        "new_due": (assignment.due_date + timedelta(days=3)).isoformat(), "reason": "人手不足",
        "agreed_with_enterprise": "1"})
    sign_in(accounts.operator)
    client.post(f"/console/assignments/{assignment.id}/extension/reject",
                data={"reason": "理由不充分"})
    assert fresh(Assignment, assignment.id).extension_status == "rejected"


def test_rework_and_merged_repeat_requests_are_marked_where_the_department_works(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any
) -> None:
    """A 重办 is not just 待签收; what a merged repeat request says reaches the unit."""
    from cases import duplicates
    from cases.actions.assignments import do_reply
    from cases.actions.rating import do_record_rating
    from cases.actors import Actor
    from tests.console.conftest import OPERATOR

    reworked = window_case("希望协调银行续贷", contact_phone="13957410001", category="factor")
    first = route(reworked, DEPT_A, clock)
    session = db.session()
    do_reply(session, first.id, text="已联系银行",
             actor=Actor("department", "联络员", first.department_id), now=clock())
    do_record_rating(session, reworked.id, score=1, comment="银行仍不受理",
                     via="operator", actor=OPERATOR, now=clock())
    session.commit()

    handled = window_case("厂房用电增容", contact_phone="13957410002", category="factor")
    route(handled, DEPT_A, clock)
    repeat = window_case("再次反映：增容还需要加装变压器", contact_phone="13957410002",
                         category="factor")
    duplicates.merge(db.session(), repeat.id, into_id=handled.id, reason="同一事项",
                     actor=OPERATOR, now=clock())
    db.session.commit()

    sign_in(accounts.dept_a)
    listing = page(client, "/console/department")
    rework_row = listing.split(reworked.number)[1].split("</tr>")[0]
    assert ">重办</span>" in rework_row
    merged_row = listing.split(handled.number)[1].split("</tr>")[0]
    assert "并入重复诉求1件" in merged_row and "重办" not in merged_row

    rework_page = page(client, f"/console/cases/{reworked.id}")
    assert "企业对上次答复评价“非常不满意”" in rework_page and "银行仍不受理" in rework_page
    handled_page = page(client, f"/console/cases/{handled.id}")
    merged = handled_page.split('id="merged-cases"')[1].split("</section>")[0]
    assert "再次反映：增容还需要加装变压器" in merged and repeat.number in merged
    assert f"/console/cases/{repeat.id}" not in merged  # the unit cannot open that case
    assert client.get(f"/console/cases/{repeat.id}").status_code == 404
