"""督查问责: each rule triggered once, with the setting for 久拖不办's working days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_reroute
from cases.actors import SYSTEM
from reports import periods
from reports.accountability import accountability
from reports.indicators import Scope
from reports.settings import ReportSettings
from tests.cases.factories import CALENDAR, OPERATOR, department_id, lead, liaison, local
from tests.reports.month import UNIT_1, UNIT_2, _route

SCOPE = Scope(period=periods.month(2026, 11), today=date(2026, 11, 30),
              tz=ZoneInfo("Asia/Shanghai"))


def build(session: Session) -> dict[str, str]:
    delayed = _route(session, "2026-11-16 09:00", UNIT_1)  # due 11-18, 8 working days late
    barely = _route(session, "2026-11-24 09:00", UNIT_1)  # due 11-26, 2 working days late
    poor = _route(session, "2026-11-02 09:00", UNIT_2)
    actor = liaison(session, UNIT_2)
    for rated_at, score in (("2026-11-04 10:00", 1), ("2026-11-06 10:00", 2),
                            ("2026-11-10 10:00", 5)):
        do_reply(session, lead(poor).id, text="已答复", actor=actor,
                 now=local(rated_at.replace("10:00", "08:00")), calendar=CALENDAR)
        do_record_rating(session, poor.id, score=score, via="operator", actor=SYSTEM,
                         now=local(rated_at), calendar=CALENDAR)
    returned = _route(session, "2026-11-10 09:00", UNIT_2)
    do_return_assignment(session, lead(returned).id, reason="不属于本单位", actor=actor,
                         now=local("2026-11-10 10:00"), calendar=CALENDAR)
    do_reroute(session, returned.id, department_id=department_id(session, UNIT_2),
               actor=OPERATOR, now=local("2026-11-10 11:00"), reason="职责明确",
               calendar=CALENDAR)
    do_reply(session, lead(returned).id, text="已答复", actor=actor,
             now=local("2026-11-11 08:00"), calendar=CALENDAR)
    session.commit()
    return {"delayed": delayed.number, "barely": barely.number, "poor": poor.number,
            "returned": returned.number}


def test_each_rule_once(session: Session) -> None:
    numbers = build(session)
    entries = accountability(session, SCOPE, CALENDAR)
    got = sorted((e.department, e.number, e.rule) for e in entries)
    assert got == sorted([
        (UNIT_1, numbers["delayed"], "delay"),
        (UNIT_2, numbers["poor"], "unsatisfied"),
        (UNIT_2, numbers["poor"], "perfunctory"),
        (UNIT_2, numbers["returned"], "perfunctory"),
    ])
    delay = next(e for e in entries if e.rule == "delay")
    assert delay.detail == "办理期限2026-11-18，已逾期8个工作日未答复"
    refused = next(e for e in entries if e.number == numbers["returned"])
    assert refused.detail == "退单未被采纳，已重新交办本单位（退单理由：不属于本单位）"


def test_settings_change_the_threshold_and_the_rules(session: Session) -> None:
    numbers = build(session)
    two_days = replace(SCOPE, settings=ReportSettings(delay_working_days=2,
                                                      accountability_rules=("delay",)))
    got = {(e.number, e.rule) for e in accountability(session, two_days, CALENDAR)}
    assert got == {(numbers["delayed"], "delay"), (numbers["barely"], "delay")}
    unit_only = replace(SCOPE, department_id=department_id(session, UNIT_1))
    assert {e.department for e in accountability(session, unit_only, CALENDAR)} == {UNIT_1}
