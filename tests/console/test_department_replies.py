"""The department's three reply types in the console: 答复, 解释说明 (policy cited), 进度反馈."""

from __future__ import annotations

from typing import Any

from cases.case_models import Case
from cases.vocab import Status
from core.db import db
from tests.console.conftest import Accounts


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    found = db.session.get(Case, case_id)
    assert found is not None
    return found


def test_progress_keeps_the_case_with_the_department(client: Any, accounts: Accounts,
                                                     sign_in: Any, routed_case: Case) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    due = routed_case.due_date
    page = client.get(f"/console/cases/{routed_case.id}").get_data(as_text=True)
    assert f"/console/assignments/{assignment.id}/progress" in page and "解释说明" in page
    empty = client.post(f"/console/assignments/{assignment.id}/progress", data={"text": ""})
    assert empty.status_code == 422 and "请填写办理进度" in empty.get_data(as_text=True)
    done = client.post(f"/console/assignments/{assignment.id}/progress",
                       data={"text": "已约企业下周现场踏勘"})
    assert done.status_code == 303
    case = fresh(routed_case.id)
    assert (case.status, case.due_date) == (Status.HANDLING, due)
    after = client.get(f"/console/cases/{routed_case.id}").get_data(as_text=True)
    assert "进度反馈已提交" in after and "已约企业下周现场踏勘" in after
    # Still answerable afterwards.
    assert f"/console/assignments/{assignment.id}/reply" in after


def test_explanation_without_policy_is_refused_then_answers(
        client: Any, accounts: Accounts, sign_in: Any, routed_case: Case) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    path = f"/console/assignments/{assignment.id}/reply"
    refused = client.post(path, data={"kind": "explanation", "text": "不符合条件"})
    assert refused.status_code == 422
    assert "解释说明须注明所依据的政策" in refused.get_data(as_text=True)
    assert fresh(routed_case.id).status == Status.HANDLING
    client.post(path, data={"kind": "explanation", "text": "不符合条件",
                            "policy_basis": "甬政发〔2020〕1号"})
    case = fresh(routed_case.id)
    assert case.status == Status.ANSWERED and case.replies[-1].kind == "explanation"
    html = client.get(f"/console/cases/{routed_case.id}").get_data(as_text=True)
    assert "解释说明" in html and "依据：甬政发〔2020〕1号" in html


def test_other_department_cannot_report_progress(client: Any, accounts: Accounts,
                                                 sign_in: Any, routed_case: Case) -> None:
    sign_in(accounts.dept_b)
    assignment = routed_case.assignments[0]
    response = client.post(f"/console/assignments/{assignment.id}/progress",
                           data={"text": "冒充"})
    assert response.status_code == 404
    assert fresh(routed_case.id).replies == []


def test_unknown_reply_kind_is_refused(client: Any, accounts: Accounts, sign_in: Any,
                                       routed_case: Case) -> None:
    sign_in(accounts.dept_a)
    assignment = routed_case.assignments[0]
    response = client.post(f"/console/assignments/{assignment.id}/reply",
                           data={"kind": "progress", "text": "x"})
    assert response.status_code == 422
    assert fresh(routed_case.id).status == Status.HANDLING
