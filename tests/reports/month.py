"""A constructed November 2026 with known answers, built through the case lifecycle.

"Today" is 2026-12-08. Two units: ``UNIT_1`` (区经信局) and ``UNIT_2`` (区金融发展服务中心).

=====  =====================================================================================
case   story
=====  =====================================================================================
A      11-10 即时办, answered the same day                            on time (due 11-10)
B      11-16 routed to UNIT_1 (due 11-18), replied 11-17, rated 5 on 11-19       on time
C      11-16 routed to UNIT_1 (due 11-18); extension to 12-10 asked 11-17, the sweep hangs
       the case 11-19, approved 11-20: late in November although its new date is 12-10
E      11-23 routed to UNIT_1 (due 11-25), never answered: late, overdue and hanging now
F      11-16 专班商办 UNIT_1 (lead) + UNIT_2 (co), meeting 11-17 (due 11-24), both replied
       11-20                                                                    on time
G      11-09 routed to UNIT_1 (due 11-11), replied 11-10, rated 2 on 11-12 → 重办 (due
       11-16), replied 11-13, rated 4 on 11-16                                   on time
H      11-02 routed to UNIT_2, 退单 11-03, re-routed to UNIT_1 (due 11-05), replied 11-04
D      12-07 routed to UNIT_1 (due 12-09): not yet due on 12-08, counted nowhere
=====  =====================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.extensions import do_approve_extension, do_request_extension
from cases.actions.joint import do_record_meeting_held, do_start_joint_handling
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_reroute, do_route_to_department
from cases.actors import SYSTEM
from cases.case_models import Case
from cases.ledger import sweep_overdue
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

UNIT_1 = "区经信局"
UNIT_2 = "区金融发展服务中心"
TODAY = date(2026, 12, 8)
NOW_TEXT = "2026-12-08 10:00"


@dataclass
class Month:
    cases: dict[str, Case]
    unit_1: int
    unit_2: int


def _route(session: Session, when: str, unit: str, **fields: object) -> Case:
    case = new_case(session, local(when), **fields)
    return do_route_to_department(session, case.id,
                                  department_id=department_id(session, unit),
                                  actor=OPERATOR, now=local(when), calendar=CALENDAR)


def _reply(session: Session, case: Case, unit: str, when: str) -> None:
    assignment = [a for a in case.assignments
                  if a.department_id == department_id(session, unit)
                  and a.state in ("pending", "accepted")][-1]
    do_reply(session, assignment.id, text="已答复企业", actor=liaison(session, unit),
             now=local(when), calendar=CALENDAR)


def _rate(session: Session, case: Case, score: int, when: str) -> None:
    do_record_rating(session, case.id, score=score, via="operator", actor=SYSTEM,
                     now=local(when), calendar=CALENDAR)


def build_month(session: Session) -> Month:
    cases: dict[str, Case] = {}
    unit_1, unit_2 = department_id(session, UNIT_1), department_id(session, UNIT_2)

    a = new_case(session, local("2026-11-10 09:00"), category="policy")
    do_answer_instantly(session, a.id, text="已答复", actor=OPERATOR,
                        now=local("2026-11-10 09:30"), calendar=CALENDAR)
    cases["A"] = a

    h = _route(session, "2026-11-02 09:00", UNIT_2, category="factor", subcategory="finance")
    do_return_assignment(session, lead(h).id, reason="不属于本单位职责",
                         actor=liaison(session, UNIT_2), now=local("2026-11-03 09:00"),
                         calendar=CALENDAR)
    do_reroute(session, h.id, department_id=unit_1, actor=OPERATOR,
               now=local("2026-11-03 10:00"), calendar=CALENDAR)
    _reply(session, h, UNIT_1, "2026-11-04 10:00")
    cases["H"] = h

    g = _route(session, "2026-11-09 09:00", UNIT_1, category="factor", subcategory="land")
    _reply(session, g, UNIT_1, "2026-11-10 10:00")
    _rate(session, g, 2, "2026-11-12 10:00")
    _reply(session, g, UNIT_1, "2026-11-13 10:00")
    _rate(session, g, 4, "2026-11-16 10:00")
    cases["G"] = g

    b = _route(session, "2026-11-16 09:00", UNIT_1, category="policy")
    _reply(session, b, UNIT_1, "2026-11-17 10:00")
    _rate(session, b, 5, "2026-11-19 10:00")
    cases["B"] = b

    c = _route(session, "2026-11-16 09:00", UNIT_1, category="special", channel="wechat")
    do_request_extension(session, lead(c).id, new_due=date(2026, 12, 10),
                         reason="需现场勘察", agreed_with_enterprise=True,
                         actor=liaison(session, UNIT_1), now=local("2026-11-17 09:00"))
    sweep_overdue(session, local("2026-11-19 09:00"))
    do_approve_extension(session, lead(c).id, enterprise_informed=True, actor=OPERATOR,
                         now=local("2026-11-20 09:00"))
    cases["C"] = c

    f = new_case(session, local("2026-11-16 09:00"), category="special")
    do_start_joint_handling(session, f.id, department_ids=[unit_1, unit_2],
                            meeting_at=local("2026-11-17 14:00"), actor=SUPERVISOR,
                            now=local("2026-11-16 10:00"), calendar=CALENDAR)
    do_record_meeting_held(session, f.id, held_at=local("2026-11-17 15:00"),
                           attendees=[UNIT_1, UNIT_2], minutes="商定方案",
                           actor=SUPERVISOR, now=local("2026-11-17 16:00"),
                           calendar=CALENDAR)
    _reply(session, f, UNIT_1, "2026-11-20 10:00")
    _reply(session, f, UNIT_2, "2026-11-20 11:00")
    cases["F"] = f

    cases["E"] = _route(session, "2026-11-23 09:00", UNIT_1, category="factor",
                        subcategory="land")
    cases["D"] = _route(session, "2026-12-07 09:00", UNIT_1, category="policy")
    sweep_overdue(session, local(NOW_TEXT))
    session.commit()
    return Month(cases, unit_1, unit_2)
