"""One meaning of "overdue" (cases/timeliness.py), shared by the sweep, the console and the
forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.extensions import do_request_extension
from cases.case_models import Assignment, Case
from cases.ledger import sweep_overdue
from cases.timeliness import assignment_overdue as assignment_is_overdue
from cases.timeliness import is_past_due
from cases.timeliness import sql_assignment_overdue as overdue_assignment
from console.queries import department_loads
from tests.cases.factories import CALENDAR, lead, liaison, local, routed_case

TODAY = date(2026, 11, 27)  # the day after the due date of a case routed on 11-24


def _request_extension(session: Session, case: Case) -> None:
    do_request_extension(session, lead(case).id, new_due=date(2026, 12, 4),
                         reason="企业需补充材料", agreed_with_enterprise=True,
                         actor=liaison(session, "区经信局"), now=local("2026-11-25 10:00"))


def _return(session: Session, case: Case) -> None:
    do_return_assignment(session, lead(case).id, reason="不属于本单位职责",
                         actor=liaison(session, "区经信局"),
                         now=local("2026-11-25 10:00"), calendar=CALENDAR)


def _answer(session: Session, case: Case) -> None:
    do_reply(session, lead(case).id, text="已答复企业", actor=liaison(session, "区经信局"),
             now=local("2026-11-25 10:00"), calendar=CALENDAR)


def _nothing(session: Session, case: Case) -> None:
    return None


CASES: list[tuple[str, Callable[[Session, Case], None], bool]] = [
    ("not answered", _nothing, True),
    # An extension request does not stop the clock until the centre approves it.
    ("pending extension request", _request_extension, True),
    ("returned assignment", _return, False),
    ("answered", _answer, False),
]


@pytest.mark.parametrize(("label", "act", "overdue"), CASES, ids=[c[0] for c in CASES])
def test_every_reader_agrees_on_overdue(session: Session, label: str,
                                        act: Callable[[Session, Case], None],
                                        overdue: bool) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))  # due 2026-11-26
    assignment = lead(case)
    act(session, case)
    session.commit()
    assert assignment.due_date == date(2026, 11, 26)
    # The Python predicate and the SQL expression.
    assert assignment_is_overdue(assignment, TODAY) is overdue
    in_sql = session.scalars(select(Assignment.id).where(
        overdue_assignment(TODAY), Assignment.id == assignment.id)).all()
    assert in_sql == ([assignment.id] if overdue else [])
    # The supervisor's per-department count.
    load = next(x for x in department_loads(session, TODAY) if x.department.name == "区经信局")
    assert load.overdue == int(overdue)
    # The periodic sweep flags exactly the overdue assignments.
    sweep_overdue(session, local("2026-11-27 00:05"))
    session.refresh(assignment)
    assert assignment.overdue is overdue


def test_the_whole_due_day_is_on_time(session: Session) -> None:
    case = routed_case(session, local("2026-11-24 09:00"))
    assert not assignment_is_overdue(lead(case), date(2026, 11, 26))
    assert assignment_is_overdue(lead(case), date(2026, 11, 27))
    assert not is_past_due(None, TODAY)

