"""Work lists in urgency order, paged by keyset without losing or repeating a row.

The operator queue: due date (overdue first), then the longest waiting, undated last. A
department's assignments: due date, undated last. Pages of two rows are walked to the end and
must give exactly the one-page order.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from cases.actions.triage import do_route_to_department
from cases.case_models import Assignment, Case
from console import queries
from core.db import db
from tests.console.conftest import DEPT_A, OPERATOR, department_id

TODAY = date(2026, 11, 24)


def walk(fetch: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(50):
        page = fetch(cursor)
        ids += [row.id for row in page.rows]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor
    raise AssertionError("the pages never end")


def test_queue_pages_follow_urgency_with_undated_last(app: Any, window_case: Any,
                                                      clock: Any) -> None:
    made = []
    for days_ago, minutes in [(0, 5), (3, 0), (0, 1), (1, 0), (3, 9), (0, 3), (0, 7)]:
        clock.set_local(f"2026-11-{24 - days_ago} 09:{minutes:02d}")
        made.append(window_case(f"诉求{days_ago}-{minutes}"))
    undated = made[-1]
    session = db.session()
    session.get(Case, undated.id).due_date = None  # e.g. a case imported without one
    session.commit()
    expected = [c.id for c in sorted(
        made, key=lambda c: (c.id == undated.id, c.due_date or date.max, c.received_at, c.id))]
    assert expected[-1] == undated.id and expected[0] == made[1].id  # oldest overdue first

    def fetch(cursor: str | None) -> Any:
        return queries.operator_queue(db.session, queries.QueueFilters(), today=TODAY,
                                      cursor=cursor, limit=2)

    one_page = queries.operator_queue(db.session, queries.QueueFilters(), today=TODAY)
    assert [c.id for c in one_page.rows] == expected
    assert walk(fetch) == expected
    overdue = queries.operator_queue(db.session, queries.QueueFilters(overdue=True),
                                     today=TODAY)
    assert {c.id for c in overdue.rows} == {made[1].id, made[3].id, made[4].id}


def test_a_bad_cursor_is_the_first_page(app: Any, window_case: Any) -> None:
    case = window_case()
    for cursor in ("x", "2026-11-24~y~1", "~~", "2026-11-24~2026-11-24T10:00~1"):
        page = queries.operator_queue(db.session, queries.QueueFilters(), today=TODAY,
                                      cursor=cursor)
        assert [c.id for c in page.rows] == [case.id], cursor


def test_department_pages_by_due_date_with_undated_last(app: Any, window_case: Any,
                                                        clock: Any) -> None:
    session = db.session()
    unit = department_id(session, DEPT_A)
    cases = [window_case(f"诉求{i}") for i in range(5)]
    for case in cases:
        do_route_to_department(session, case.id, department_id=unit, actor=OPERATOR,
                               now=clock())
    assignments = list(session.scalars(select(Assignment).order_by(Assignment.id)))
    assignments[1].due_date = TODAY - timedelta(days=2)
    assignments[3].due_date = None  # e.g. a joint case before its meeting
    assignments[4].due_date = TODAY + timedelta(days=9)
    session.commit()
    expected = [a.id for a in sorted(assignments, key=lambda a: (a.due_date is None,
                                                                 a.due_date, a.id))]
    assert expected[-1] == assignments[3].id and expected[0] == assignments[1].id
    assert walk(lambda cursor: queries.department_assignments(
        db.session, unit, cursor=cursor, limit=2)) == expected
