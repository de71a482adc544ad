"""Known answers for each timeliness rule the audit found broken (each failed before).

Built through the case lifecycle; the figures read back through the indicators (SQL form),
the ledger (.xlsx) and the accountability list.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from cases import duplicates
from cases.actions.assignments import do_reply
from cases.actions.escalation import do_escalate
from cases.actions.extensions import do_request_extension
from cases.actions.joint import do_record_meeting_held, do_start_joint_handling
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_reroute
from cases.actors import SYSTEM
from cases.case_models import Case
from cases.ledger import sweep_overdue
from reports import periods
from reports.accountability import accountability, by_unit
from reports.filters import LedgerFilters
from reports.indicators import Dimension, Level, Scope, figures, totals
from reports.service import export_ledger
from reports.settings import ReportSettings
from tests.cases.factories import (
    CALENDAR,
    OPERATOR,
    SUPERVISOR,
    department_id,
    lead,
    liaison,
    local,
    new_case,
)
from tests.reports.month import UNIT_1, UNIT_2, _route

TZ = ZoneInfo("Asia/Shanghai")


def scope(year: int, month: int, today: date, **settings: Any) -> Scope:
    return Scope(period=periods.month(year, month), today=today, tz=TZ,
                 settings=ReportSettings(**settings))


def _reply(session: Session, case: Case, unit: str, when: str) -> None:
    assignment = [a for a in case.assignments
                  if a.department_id == department_id(session, unit)
                  and a.state in ("pending", "accepted")][-1]
    do_reply(session, assignment.id, text="已答复", actor=liaison(session, unit),
             now=local(when), calendar=CALENDAR)


def _rate(session: Session, case: Case, score: int, when: str) -> None:
    do_record_rating(session, case.id, score=score, via="operator", actor=SYSTEM,
                     now=local(when), calendar=CALENDAR)


def _ledger(session: Session, s: Scope, tmp_path: Path, unit: int | None = None
            ) -> dict[str, dict[str, Any]]:
    out = tmp_path / "ledger.xlsx"
    export_ledger(session, s, CALENDAR, LedgerFilters(department_id=unit), out)
    rows = list(load_workbook(out)["台账"].iter_rows(min_row=3, values_only=True))
    return {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def test_a_case_answered_then_rated_poorly_stays_answered_in_its_month(
        session: Session) -> None:
    case = _route(session, "2026-11-02 09:00", UNIT_1)
    _reply(session, case, UNIT_1, "2026-11-03 10:00")
    _rate(session, case, 2, "2026-11-05 10:00")  # rework, not answered again yet
    session.commit()
    november = totals(session, scope(2026, 11, date(2026, 11, 6)), CALENDAR)
    assert (november["answered"], november["followed_up"]) == (1, 1)
    assert november.followup_rate.value == 1.0
    # Answered again in December: still November's answer, not December's.
    _reply(session, case, UNIT_1, "2026-12-01 10:00")
    session.commit()
    assert totals(session, scope(2026, 11, date(2026, 12, 2)), CALENDAR)["answered"] == 1
    assert totals(session, scope(2026, 12, date(2026, 12, 2)), CALENDAR)["answered"] == 0


def test_working_days_count_from_the_effective_day_of_receipt(session: Session) -> None:
    # A voicemail on a holiday (国庆), answered on the first working day after it: 0 days.
    case = new_case(session, local("2026-10-03 21:00"), channel="hotline_voicemail")
    do_answer_instantly(session, case.id, text="已答复", actor=OPERATOR,
                        now=local("2026-10-08 09:30"), calendar=CALENDAR)
    session.commit()
    october = totals(session, scope(2026, 10, date(2026, 10, 20)), CALENDAR)
    assert october.days == (0, 1) and october.average_days == 0.0
    assert (october["on_time"], october["due"]) == (1, 1)


def test_a_units_own_ledger_gives_the_units_verdict(session: Session, tmp_path: Path) -> None:
    unit_1, unit_2 = department_id(session, UNIT_1), department_id(session, UNIT_2)
    joint = new_case(session, local("2026-11-16 09:00"), category="special")
    do_start_joint_handling(session, joint.id, department_ids=[unit_1, unit_2],
                            meeting_at=local("2026-11-17 14:00"), actor=SUPERVISOR,
                            now=local("2026-11-16 10:00"), calendar=CALENDAR)
    do_record_meeting_held(session, joint.id, held_at=local("2026-11-17 15:00"),
                           attendees=[UNIT_1, UNIT_2], minutes="商定方案",
                           actor=SUPERVISOR, now=local("2026-11-17 16:00"),
                           calendar=CALENDAR)
    assert joint.due_date == date(2026, 11, 24)
    _reply(session, joint, UNIT_2, "2026-11-20 10:00")  # the co-handling unit: on time
    _reply(session, joint, UNIT_1, "2026-11-26 10:00")  # the lead: late
    session.commit()
    s = scope(2026, 11, date(2026, 12, 8))
    assert _ledger(session, s, tmp_path)[joint.number]["是否按时"] == "否"
    assert _ledger(session, s, tmp_path, unit_2)[joint.number]["是否按时"] == "是"
    assert _ledger(session, s, tmp_path, unit_1)[joint.number]["是否按时"] == "否"
    # The unit's ledger agrees with the unit's figures on the indicators sheet.
    units = figures(session, s, CALENDAR, Level.UNITS, Dimension.UNIT)
    assert (units[unit_2]["on_time"], units[unit_2]["late"]) == (1, 0)
    assert (units[unit_1]["on_time"], units[unit_1]["late"]) == (0, 1)


def test_merged_and_escalated_cases_in_the_ledger(session: Session, tmp_path: Path) -> None:
    phone = "13800138000"
    first = new_case(session, local("2026-11-02 09:00"), "厂区道路破损", category="factor",
                     contact_phone=phone)
    repeat = new_case(session, local("2026-11-03 09:00"), "还是道路破损", category="factor",
                      contact_phone=phone)
    duplicates.merge(session, repeat.id, into_id=first.id, reason="重复来诉", actor=OPERATOR,
                     now=local("2026-11-03 10:00"))
    escalated = new_case(session, local("2026-11-09 09:00"), "园区整体搬迁", category="other")
    do_escalate(session, escalated.id, analysis="涉及多部门", actor=SUPERVISOR,
                now=local("2026-11-09 10:00"))
    assert escalated.due_date == date(2026, 11, 16)  # the leading group decides in 5 days
    session.commit()
    rows = _ledger(session, scope(2026, 11, date(2026, 11, 20)), tmp_path)
    assert (rows[repeat.number]["办理方式"], rows[repeat.number]["台账状态"],
            rows[repeat.number]["是否按时"]) == ("已并单", "已并单", "—")
    # Past its decision date without a decision: late, not “not yet due”.
    assert rows[escalated.number]["是否按时"] == "否"


def test_no_loophole_undecided_escalation_and_extension_are_overdue(session: Session) -> None:
    escalated = new_case(session, local("2026-11-09 09:00"), "园区整体搬迁", category="other")
    do_escalate(session, escalated.id, analysis="涉及多部门", actor=SUPERVISOR,
                now=local("2026-11-09 10:00"))
    asked = _route(session, "2026-11-16 09:00", UNIT_1)  # due 11-18
    do_request_extension(session, lead(asked).id, new_due=date(2026, 12, 10),
                         reason="需现场勘察", agreed_with_enterprise=True,
                         actor=liaison(session, UNIT_1), now=local("2026-11-17 09:00"))
    session.commit()
    today = date(2026, 11, 30)
    s = scope(2026, 11, today)
    centre = totals(session, s, CALENDAR)
    units = figures(session, s, CALENDAR, Level.UNITS, Dimension.UNIT)
    assert centre["overdue_now"] == 2  # the escalation past its decision date, the extension
    assert sum(f["overdue_now"] for f in units.values()) == 1  # the unit's undecided request
    assert units[department_id(session, UNIT_1)]["late"] == 1
    entries = accountability(session, s, CALENDAR)
    delay = [e for e in entries if e.number == asked.number]
    assert [e.rule for e in delay] == ["delay"] and delay[0].extension_pending
    assert "延期申请未审批" in delay[0].detail
    (unit,) = by_unit(entries)
    assert unit.department == UNIT_1 and unit.reasons == "久拖不办1件（其中延期申请未审批1件）"


def test_a_units_first_assignment_in_a_rework_round_is_received_not_reworked(
        session: Session) -> None:
    unit_1, unit_2 = department_id(session, UNIT_1), department_id(session, UNIT_2)
    case = _route(session, "2026-11-02 09:00", UNIT_1)
    _reply(session, case, UNIT_1, "2026-11-03 10:00")
    _rate(session, case, 1, "2026-11-04 10:00")  # rework goes to UNIT_1 again (round 1)
    do_reroute(session, case.id, department_id=unit_2, actor=OPERATOR,
               now=local("2026-11-04 11:00"), reason="职责调整", calendar=CALENDAR)
    session.commit()
    units = figures(session, scope(2026, 11, date(2026, 11, 5)), CALENDAR, Level.UNITS,
                    Dimension.UNIT)
    assert (units[unit_1]["received"], units[unit_1]["reworked"]) == (1, 1)
    assert (units[unit_2]["received"], units[unit_2]["reworked"]) == (1, 0)


def test_rating_3_counts_as_satisfied_and_the_setting_moves_the_line(session: Session) -> None:
    for day, score in ((2, 3), (3, 4), (4, 2)):
        case = _route(session, f"2026-11-{day:02d} 09:00", UNIT_1)
        _reply(session, case, UNIT_1, f"2026-11-{day + 1:02d} 10:00")
        _rate(session, case, score, f"2026-11-{day + 2:02d} 10:00")
    session.commit()
    s = scope(2026, 11, date(2026, 11, 30))
    default = totals(session, s, CALENDAR)
    assert (default["satisfied"], default["rated"], default["score_3"]) == (2, 3, 1)
    strict = totals(session, replace(s, settings=ReportSettings(satisfied_min_score=4)),
                    CALENDAR)
    assert (strict["satisfied"], strict["rated"]) == (1, 3)
    unit = figures(session, s, CALENDAR, Level.UNITS, Dimension.UNIT)[
        department_id(session, UNIT_1)]
    assert (unit["satisfied"], unit["score_3"]) == (2, 1)


def test_answered_on_its_due_date_is_on_time_in_the_ledger_and_the_figures(
        session: Session, tmp_path: Path) -> None:
    case = _route(session, "2026-11-16 09:00", UNIT_1)  # due 11-18
    _reply(session, case, UNIT_1, "2026-11-18 17:59")
    session.commit()
    s = scope(2026, 11, date(2026, 11, 30))
    assert _ledger(session, s, tmp_path)[case.number]["是否按时"] == "是"
    centre = totals(session, s, CALENDAR)
    assert (centre["on_time"], centre["late"]) == (1, 0)


def test_a_hanging_case_that_misses_its_rework_date_is_late(session: Session) -> None:
    case = _route(session, "2026-11-02 09:00", UNIT_1)
    _reply(session, case, UNIT_1, "2026-11-03 10:00")
    _rate(session, case, 1, "2026-11-04 10:00")  # hanging, rework due 11-06
    assert (case.ledger_state, case.due_date) == ("hanging", date(2026, 11, 6))
    sweep_overdue(session, local("2026-11-09 09:00"))
    session.refresh(case)
    assert case.first_missed_due == date(2026, 11, 6)
    # The rework answered later, on a date that would be on time for a new due date: the
    # miss stays, in November.
    session.execute(update(Case).where(Case.id == case.id).values(due_date=date(2026, 12, 31)))
    _reply(session, case, UNIT_1, "2026-11-10 10:00")
    session.commit()
    centre = totals(session, scope(2026, 11, date(2026, 11, 30)), CALENDAR)
    assert (centre["late"], centre["on_time"]) == (1, 0)


def test_out_of_range_periods_are_refused_with_a_reason() -> None:
    for build in (lambda: periods.year(0), lambda: periods.parse_month("9999-12"),
                  lambda: periods.custom(date(1999, 12, 31), date(2026, 1, 1)),
                  lambda: periods.parse_date("9999-12-31")):
        try:
            build()
        except periods.PeriodError as exc:
            assert "统计周期应在2000年至2099年之间" in str(exc)
        else:
            raise AssertionError("accepted")


def test_the_cli_prints_an_average_of_zero_days_as_the_console_does(
        app: Any, session: Session) -> None:
    case = new_case(session, local("2026-11-10 09:00"))
    do_answer_instantly(session, case.id, text="已答复", actor=OPERATOR,
                        now=local("2026-11-10 09:30"), calendar=CALENDAR)
    session.commit()
    output = app.test_cli_runner().invoke(args=["reports", "kpis", "--from", "2026-11-01",
                                                "--to", "2026-11-30"]).output
    assert "平均答复 0.0 个工作日" in output


def test_the_satisfied_setting_reaches_the_reports_from_the_app_config(
        app_config: dict[str, Any], session: Session) -> None:
    from app import create_app

    for day, score in ((2, 3), (3, 4)):
        case = _route(session, f"2026-11-{day:02d} 09:00", UNIT_1)
        _reply(session, case, UNIT_1, f"2026-11-{day + 1:02d} 10:00")
        _rate(session, case, score, f"2026-11-{day + 2:02d} 10:00")
    session.commit()
    strict = create_app({**app_config, "REPORTS_SATISFIED_MIN_SCORE": 4})
    with strict.app_context():  # the CLI runs in the current app's context
        result = strict.test_cli_runner().invoke(args=[
            "reports", "kpis", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
    assert json.loads(result.output)["satisfaction_rate"] == {
        "numerator": 1, "denominator": 2, "value": 0.5}
