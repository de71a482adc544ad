"""Follow-through in the console: operator tasks (人工回访), the notifications inbox, the
case page's follow-up record."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from cases import reminders
from cases.actions.rating import do_record_rating
from cases.notifications import Audience, Notification, unread_count
from core.db import db
from followup import calls
from followup.models import AttemptStatus, FollowUp
from followup.policy import FollowUpPolicy
from tests.cases.factories import CALENDAR, department_id, routed_case
from tests.console.conftest import DEPT_A, DEPT_B, OPERATOR, Accounts, csrf_token
from tests.followup.support import MOBILE, answered_case

POLICY = FollowUpPolicy()
OUTCOMES = (AttemptStatus.NO_ANSWER, AttemptStatus.BUSY, AttemptStatus.NO_ANSWER)


def operator_task(clock: Any, department: str = DEPT_A) -> int:
    """A case answered by ``department`` whose three automatic calls failed: an operator task."""
    case_id = answered_case(clock(), phone=MOBILE, department=department)
    session = db.session()
    followup = session.scalars(select(FollowUp).where(FollowUp.case_id == case_id)).one()
    calls.schedule(session, followup.id, now=clock(), policy=POLICY, calendar=CALENDAR)
    for outcome in OUTCOMES:
        at = followup.next_attempt_at
        assert at is not None
        plan = calls.begin_attempt(session, followup.id, now=at, policy=POLICY,
                                   calendar=CALENDAR, dial=lambda number: number)
        assert plan.attempt_id is not None
        calls.attempt_failed(session, plan.attempt_id, status=outcome, now=at,
                             policy=POLICY, calendar=CALENDAR)
    session.commit()
    assert followup.status == "operator"
    return case_id


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def unread_badge(html: str) -> int:
    found = re.search(r'data-unread="(\d+)"', html)
    return int(found.group(1)) if found else 0


def test_operator_sees_the_task_after_automatic_calls_failed(
    client: Any, accounts: Accounts, sign_in: Any, clock: Any
) -> None:
    case_id = operator_task(clock)
    number = db.session.scalars(
        select(FollowUp).where(FollowUp.case_id == case_id)).one().case.number
    sign_in(accounts.operator)
    html = page(client, "/console/followups")
    tasks = html.split('id="operator-tasks"')[1].split("已答复、待企业评价")[0]
    assert "待人工回访" in tasks
    assert number in tasks
    assert MOBILE in tasks
    assert "自动回访3次未成功（最后一次：无人接听）" in tasks
    assert tasks.count("<li>") == 3
    assert "无人接听" in tasks and "占线" in tasks
    assert f'/console/cases/{case_id}#rate' in tasks
    # Listed once: not again below among the cases awaiting their automatic follow-up.
    assert number not in html.split("已答复、待企业评价")[1]
    assert html.count(f'/console/cases/{case_id}#rate') == 1
    # The case page has the rating form the task links to.
    assert 'id="rate"' in page(client, f"/console/cases/{case_id}")

    response = client.post(f"/console/cases/{case_id}/rating", data={"score": "4"})
    assert response.status_code == 303
    tasks = page(client, "/console/followups").split('id="operator-tasks"')[1]
    assert number not in tasks.split("已答复、待企业评价")[0]
    assert "没有待人工回访的诉求" in tasks


def test_operator_has_no_inbox_badge(client: Any, accounts: Accounts, sign_in: Any) -> None:
    sign_in(accounts.operator)
    html = page(client, "/console/followups")
    assert "/console/notifications" not in html


def test_case_page_shows_the_attempts(client: Any, accounts: Accounts, sign_in: Any,
                                      clock: Any) -> None:
    case_id = operator_task(clock)
    for account in (accounts.operator, accounts.dept_a, accounts.supervisor):
        sign_in(account)
        html = page(client, f"/console/cases/{case_id}")
        record = html.split('id="followups"')[1].split("</section>")[0]
        assert "回访记录" in html
        assert "待人工回访" in record
        assert "第1次" in record and "第2次" in record and "第3次" in record
        assert record.count("<td>无人接听</td>") == 2 and "<td>占线</td>" in record
        assert MOBILE in record
        assert "自动回访3次未成功" in record
    sign_in(accounts.dept_b)
    assert client.get(f"/console/cases/{case_id}").status_code == 404


def test_spoken_comment_transcript_on_the_case_page(client: Any, accounts: Accounts,
                                                    sign_in: Any, clock: Any) -> None:
    case_id = operator_task(clock)
    attempt = db.session.scalars(select(FollowUp).where(FollowUp.case_id == case_id)
                                 ).one().attempts[0]
    attempt.comment = "<script>alert(1)</script>答复太慢"
    db.session.commit()
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{case_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;答复太慢" in html
    assert "<script>alert(1)</script>" not in html


@pytest.fixture
def poor_rating(client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> int:
    """Department A answered; the operator records 非常不满意 with a comment. Returns the
    department's notification id."""
    case_id = answered_case(clock(), phone=MOBILE, department=DEPT_A)
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{case_id}/rating",
                           data={"score": "1", "comment": "<b>问题仍未解决</b>，希望再协调"})
    assert response.status_code == 303
    db.session.rollback()
    return db.session.scalars(select(Notification.id).where(
        Notification.audience == Audience.DEPARTMENT, Notification.kind == "poor_rating")).one()


def test_department_sees_the_poor_rating_with_the_comment(
    client: Any, accounts: Accounts, sign_in: Any, poor_rating: int
) -> None:
    sign_in(accounts.dept_a)
    html = page(client, "/console/notifications")
    # The assignment, the poor rating and the rework assignment it caused.
    assert unread_badge(html) == 3
    assert "新交办" in html and "重办：诉求" in html
    item = html.split(f'id="notification-{poor_rating}"')[1].split("</li>")[0]
    assert "差评重办" in item
    assert "评价为“非常不满意”" in item
    assert "已挂账重办" in item
    assert "&lt;b&gt;问题仍未解决&lt;/b&gt;，希望再协调" in item
    assert "<b>问题仍未解决</b>" not in html
    assert "标记已读" in item

    response = client.post(f"/console/notifications/{poor_rating}/read")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/console/notifications")
    html = page(client, "/console/notifications")
    assert unread_badge(html) == 2
    item = html.split(f'id="notification-{poor_rating}"')[1].split("</li>")[0]
    assert "已读" in item and "dept-a-姓名（dept-a）" in item
    assert "标记已读" not in item
    assert f'id="notification-{poor_rating}"' not in page(client,
                                                          "/console/notifications?unread=1")


def test_another_department_neither_sees_nor_marks_it(
    client: Any, accounts: Accounts, sign_in: Any, poor_rating: int
) -> None:
    sign_in(accounts.dept_b)
    html = page(client, "/console/notifications")
    assert "问题仍未解决" not in html and 'id="notification-' not in html
    assert "暂无通知" in html and unread_badge(html) == 0
    assert client.post(f"/console/notifications/{poor_rating}/read").status_code == 404
    assert client.post("/console/notifications/read-all").status_code == 303
    session = db.session()
    session.rollback()
    assert session.get(Notification, poor_rating).read_at is None  # type: ignore[union-attr]
    # Supervisors do not read the department's inbox either: they have their own copy.
    sign_in(accounts.supervisor)
    assert client.post(f"/console/notifications/{poor_rating}/read").status_code == 404
    assert client.post("/console/notifications/999999/read").status_code == 404


def test_supervisor_sees_the_escalation_and_marks_all_read(
    client: Any, accounts: Accounts, sign_in: Any, clock: Any
) -> None:
    clock.set_local("2026-11-23 10:00")  # Monday: due Wednesday the 25th
    session = db.session()
    routed_case(session, clock(), DEPT_B)
    session.commit()
    clock.set_local("2026-11-27 09:00")  # two working days overdue
    reminders.send_reminders(session, clock(), calendar=CALENDAR)
    session.commit()

    sign_in(accounts.supervisor)
    html = page(client, "/console/notifications")
    assert unread_badge(html) == 1
    assert "督办" in html
    assert "督办：区经信局诉求2611230001逾期2个工作日" in html
    assert "请企服专班督办" in html
    assert "到期提醒：" not in html  # the department's notices stay in its inbox
    sign_in(accounts.admin)
    assert unread_badge(page(client, "/console/notifications")) == 1

    sign_in(accounts.dept_b)
    html = page(client, "/console/notifications")
    assert unread_badge(html) >= 2 and "督办：诉求2611230001已提请企服专班督办" in html
    sign_in(accounts.dept_a)
    assert "2611230001" not in page(client, "/console/notifications")

    sign_in(accounts.supervisor)
    response = client.post("/console/notifications/read-all")
    assert response.status_code == 303
    assert unread_badge(page(client, "/console/notifications")) == 0
    session.rollback()
    assert unread_count(session, Audience.SUPERVISOR) == 0
    assert unread_count(session, Audience.DEPARTMENT,
                        department_id=department_id(session, DEPT_B)) >= 2


def test_marking_read_needs_the_csrf_token(client: Any, accounts: Accounts, sign_in: Any,
                                           clock: Any, app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    case_id = answered_case(clock(), phone=MOBILE, department=DEPT_A)
    do_record_rating(db.session, case_id, score=2, comment="不满意", via="operator",
                     actor=OPERATOR, now=clock(), calendar=CALENDAR)
    db.session.commit()
    notification_id = db.session.scalars(select(Notification.id).where(
        Notification.audience == Audience.DEPARTMENT, Notification.kind == "poor_rating")).one()
    sign_in(accounts.dept_a)
    assert client.post(f"/console/notifications/{notification_id}/read").status_code == 400
    token = csrf_token(client, "/console/notifications")
    response = client.post(f"/console/notifications/{notification_id}/read",
                           data={"csrf_token": token})
    assert response.status_code == 303
