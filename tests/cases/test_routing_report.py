"""The operators' final routing next to the suggestion, and the hit-rate report."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cases.actions.triage import do_route_to_department
from cases.routing_report import format_report, routing_report
from tests.cases.factories import CALENDAR, OPERATOR, department_id, local, new_case

NOW = local("2026-11-24 09:00")


def route(session: Session, description: str, department: str) -> None:
    case = new_case(session, NOW, description=description)
    do_route_to_department(session, case.id,
                           department_id=department_id(session, department),
                           actor=OPERATOR, now=NOW, calendar=CALENDAR)


def test_routing_marks_which_suggestion_was_chosen(session: Session) -> None:
    case = new_case(session, NOW, description="申请贷款贴息")
    do_route_to_department(session, case.id,
                           department_id=department_id(session, "区金融发展服务中心"),
                           actor=OPERATOR, now=NOW, calendar=CALENDAR)
    top = case.suggestions[0]
    assert (top.department_name, top.chosen) == ("区金融发展服务中心", True)


def test_report_counts_first_and_any_suggestion_hits(session: Session) -> None:
    route(session, "申请贷款贴息", "区金融发展服务中心")  # first suggestion
    route(session, "人才公寓申请", "区人力社保局")  # second suggestion (区委人才办 first)
    route(session, "发票开具问题", "区经信局")  # miss
    report = routing_report(session)
    assert (report.top.numerator, report.any.numerator, report.top.denominator) == (1, 2, 3)


def test_cases_without_suggestions_are_reported_apart(session: Session) -> None:
    route(session, "其他困难需要帮助", "区府办")
    report = routing_report(session)
    assert (report.top.denominator, report.routed_without_suggestion) == (0, 1)


def test_report_text_shows_the_rates(session: Session) -> None:
    route(session, "申请贷款贴息", "区金融发展服务中心")
    text = format_report(routing_report(session))
    assert "首选建议命中率：100.0%（1/1）" in text
    assert "区金融发展服务中心：建议 1 件，命中 1 件" in text
