"""回访未果: recorded with a reason on an operator task, then the settings' rule for the case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.case_models import Case, CaseEvent
from core.db import db
from followup.models import FollowUp
from tests.console.conftest import Accounts
from tests.console.test_followup_pages import operator_task
from tests.followup.support import MOBILE, answered_case


def state(case_id: int) -> tuple[Case, FollowUp, list[str]]:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    followup = db.session.scalars(select(FollowUp).where(FollowUp.case_id == case_id)).one()
    actions = list(db.session.scalars(select(CaseEvent.action).where(
        CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
    return case, followup, actions


def test_unreachable_settles_the_case_as_unrated(client: Any, accounts: Accounts,
                                                 sign_in: Any, clock: Any) -> None:
    case_id = operator_task(clock)
    _case, followup, _ = state(case_id)
    sign_in(accounts.operator)
    html = client.get("/console/followups").get_data(as_text=True)
    assert f"/console/followups/{followup.id}/unreachable" in html
    empty = client.post(f"/console/followups/{followup.id}/unreachable",
                        data={"reason": "", "reason_other": ""})
    assert empty.status_code == 422
    done = client.post(f"/console/followups/{followup.id}/unreachable",
                       data={"reason": "号码停机或空号"})
    assert done.status_code == 303
    case, followup, actions = state(case_id)
    assert (case.status, case.ledger_state, case.unrated_reason) == (
        "closed", "settled", "号码停机或空号")
    assert (followup.status, followup.unreachable_reason) == ("unreachable", "号码停机或空号")
    assert case.ratings == []
    assert actions[-3:] == ["followup_unreachable", "ledger_settled", "closed_unrated"]
    after = client.get("/console/followups").get_data(as_text=True)
    assert f"task-{followup.id}" not in after
    detail = client.get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert "回访未果办结（未评价）" in detail


def test_keep_rule_leaves_the_case_waiting_for_a_rating(client: Any, accounts: Accounts,
                                                        sign_in: Any, clock: Any,
                                                        app: Any) -> None:
    app.config["FOLLOWUP_UNREACHABLE_RULE"] = "keep"
    case_id = operator_task(clock)
    _case, followup, _ = state(case_id)
    sign_in(accounts.operator)
    client.post(f"/console/followups/{followup.id}/unreachable",
                data={"reason": "多次拨打无人接听", "reason_other": "企业搬迁，新号码未知"})
    case, followup, actions = state(case_id)
    assert (case.status, case.ledger_state) == ("answered", "open")
    assert (followup.status, followup.unreachable_reason) == ("unreachable", "企业搬迁，新号码未知")
    assert actions[-1] == "followup_unreachable"


def test_only_an_operator_task_can_be_unreachable(client: Any, accounts: Accounts,
                                                 sign_in: Any, clock: Any) -> None:
    case_id = answered_case(clock(), phone=MOBILE)  # its follow-up is still new
    _case, followup, _ = state(case_id)
    sign_in(accounts.operator)
    refused = client.post(f"/console/followups/{followup.id}/unreachable",
                          data={"reason": "多次拨打无人接听"})
    assert refused.status_code == 409
    assert state(case_id)[0].status == "answered"
    sign_in(accounts.dept_a)
    assert client.post(f"/console/followups/{followup.id}/unreachable",
                       data={"reason": "多次拨打无人接听"}).status_code == 403


def test_unrated_closures_are_counted_apart_in_the_kpis(client: Any, accounts: Accounts,
                                                        sign_in: Any, clock: Any) -> None:
    from zoneinfo import ZoneInfo

    from reports import periods
    from reports.indicators import Scope, totals
    from tests.cases.factories import CALENDAR

    case_id = operator_task(clock)
    _case, followup, _ = state(case_id)
    sign_in(accounts.operator)
    client.post(f"/console/followups/{followup.id}/unreachable", data={"reason": "企业拒绝评价"})
    scope = Scope(period=periods.month(2026, 11), today=clock().date(),
                  tz=ZoneInfo("Asia/Shanghai"))
    figures = totals(db.session, scope, CALENDAR)
    assert (figures["answered"], figures["unrated"], figures["rated"]) == (1, 1, 0)
