"""Case timeliness on generated histories: an independent slow computation, the Python form
and the SQL form of :mod:`cases.timeliness` (and the report figures built on it) agree.

A seeded generator files cases and plays random histories through the real lifecycle —
instant answers, routing, 退单 and re-routing, extension requests approved, rejected or left
undecided, escalations decided late or never, replies on time or late or never, ratings
(1–5) and rework, the overdue sweep now and then — all in time order. After every action the
test notes what the product shows (status, due date, each assignment's state and due date).
The slow computation decides from those notes alone, by the notice's words: a due date is
missed when the case (or assignment) still held it, running, on a later local day; once
late, late on the first date missed; answered in the month of the first answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import timeliness
from cases.actions.assignments import do_reply, do_return_assignment
from cases.actions.escalation import do_escalate, do_record_leading_group_decision
from cases.actions.extensions import do_approve_extension, do_reject_extension, do_request_extension
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_route_to_department
from cases.actors import SYSTEM
from cases.case_models import Assignment, Case
from cases.errors import ForbiddenTransition, InvalidInput
from cases.ledger import sweep_overdue
from reports import periods
from reports.indicators import Dimension, Level, Scope, figures, totals
from tests.cases.factories import CALENDAR, OPERATOR, SUPERVISOR, department_id, liaison, new_case

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 10)
UNITS = ("区经信局", "区金融发展服务中心")
RUNNING = ("handling", "escalated")
ACTIVE = ("pending", "accepted")


@dataclass
class Seen:
    """What the product showed right after an action (or at filing)."""

    day: date
    status: str
    due: date | None
    answered_instantly: bool = False
    assignments: dict[int, tuple[str, date | None, int]] = field(default_factory=dict)


@dataclass
class Story:
    case_id: int
    seen: list[Seen] = field(default_factory=list)
    answers: list[date] = field(default_factory=list)


def _local_day(at: datetime) -> date:
    return at.astimezone(TZ).date()


def _look(session: Session, story: Story, at: datetime, instant: bool = False) -> None:
    case = session.get(Case, story.case_id)
    assert case is not None
    session.refresh(case)
    story.seen.append(Seen(_local_day(at), case.status, case.due_date, instant, {
        a.id: (a.state, a.due_date, a.department_id) for a in case.assignments}))
    if case.status == "answered" and (len(story.seen) < 2 or story.seen[-2].status != "answered"):
        story.answers.append(_local_day(at))


# -- the slow computation --------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    late: bool
    on_time: bool
    assessed: date | None
    overdue_now: bool


def expected_case(story: Story) -> tuple[Expected, date | None]:
    first_miss: date | None = None
    for here, after in zip(story.seen, [*story.seen[1:], None], strict=True):
        end = after.day if after else TODAY
        # Running: with units, or escalated. In the queue a due date counts only for an
        # instant answer given after it.
        held = here.status in RUNNING or (here.status == "received" and after is not None
                                          and after.answered_instantly)
        if first_miss is None and held and here.due is not None and end > here.due:
            first_miss = here.due
    last = story.seen[-1]
    overdue = last.status in RUNNING and last.due is not None and last.due < TODAY
    answered = last.status in ("answered", "closed")
    on_time = (first_miss is None and answered and last.due is not None
               and story.answers[-1] <= last.due)
    first_answer = story.answers[0] if story.answers else None
    return Expected(first_miss is not None, on_time, first_miss or last.due,
                    overdue), first_answer


def expected_assignments(story: Story) -> dict[int, tuple[Expected, int]]:
    found: dict[int, tuple[Expected, int]] = {}
    ids = {i for seen in story.seen for i in seen.assignments}
    for assignment_id in ids:
        notes = [(s.day, s.assignments[assignment_id]) for s in story.seen
                 if assignment_id in s.assignments]
        first_miss: date | None = None
        for (_day, (state, due, _u)), after in zip(notes, [*notes[1:], None], strict=True):
            end = after[0] if after else TODAY
            if first_miss is None and state in ACTIVE and due is not None and end > due:
                first_miss = due
        _day, (state, due, unit) = notes[-1]
        overdue = state in ACTIVE and due is not None and due < TODAY
        found[assignment_id] = (Expected(first_miss is not None or overdue,
                                         first_miss is None and state == "replied",
                                         first_miss or due, overdue), unit)
    return found


# -- the generator ----------------------------------------------------------------------------


Event = tuple[datetime, int, Callable[[], None]]


def _at(rng: random.Random, after: datetime, days: float) -> datetime:
    moment = after + timedelta(days=rng.uniform(0.02, days))
    return moment.replace(second=0, microsecond=0)


def _tried(session: Session, action: Callable[[], Any]) -> bool:
    """Run an action the product may refuse (then nothing changed)."""
    try:
        with session.begin_nested():
            action()
        return True
    except (ForbiddenTransition, InvalidInput):
        return False


def _active(case: Case) -> list[Assignment]:
    return [a for a in case.assignments if a.state in ACTIVE]


def play(session: Session, seed: int, cases: int) -> list[Story]:
    rng = random.Random(seed)
    units = [department_id(session, name) for name in UNITS]
    stories: list[Story] = []
    events: list[Event] = []
    order = 0

    def add(at: datetime, action: Callable[[], None]) -> None:
        nonlocal order
        order += 1
        if _local_day(at) < TODAY:  # the history up to today; later actions never happen
            events.append((at, order, action))

    for _n in range(cases):
        start = datetime(2026, 10, 5, tzinfo=TZ) + timedelta(minutes=rng.randrange(0, 65 * 1440))
        received = start.replace(second=0)
        case = new_case(session, received, category=rng.choice(["factor", "policy", "special"]))
        story = Story(case.id)
        stories.append(story)
        _look(session, story, received)
        plan_case(rng, session, story, received, units, add)
    # The overdue sweep runs on some mornings.
    day = date(2026, 10, 6)
    while day <= TODAY:
        if rng.random() < 0.3:
            moment = datetime(day.year, day.month, day.day, 0, 5, tzinfo=TZ)
            add(moment, lambda moment=moment: sweep_overdue(session, moment, TZ))
        day += timedelta(days=1)
    for _when, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
        action()
    session.commit()
    return stories


def plan_case(rng: random.Random, session: Session, story: Story, received: datetime,
              units: list[int], add: Callable[[datetime, Callable[[], None]], None]) -> None:
    """Schedule one case's actions; each checks the case's state when it runs."""
    case_id = story.case_id

    def case() -> Case:
        found = session.get(Case, case_id)
        assert found is not None
        return found

    def step(at: datetime, action: Callable[[], Any], instant: bool = False) -> None:
        def run() -> None:
            if _tried(session, action):
                _look(session, story, at, instant)
        add(at, run)

    def reply_all(at: datetime) -> None:
        for assignment in _active(case()):
            unit = session.get(Assignment, assignment.id)
            assert unit is not None
            name = UNITS[units.index(unit.department_id)]
            do_reply(session, assignment.id, text="已答复", actor=liaison(session, name),
                     now=at, calendar=CALENDAR, tz=TZ)

    def answer(at: datetime) -> None:
        do_answer_instantly(session, case_id, text="已答复", actor=OPERATOR, now=at,
                            calendar=CALENDAR, tz=TZ)

    t = received
    kind = rng.random()
    if kind < 0.25:  # 即时办, sometimes days later
        t = _at(rng, t, 4)
        step(t, lambda t=t: answer(t), instant=True)
    elif kind < 0.8:  # 流转办
        t = _at(rng, t, 3)
        unit = rng.choice(units)
        step(t, lambda t=t, unit=unit: do_route_to_department(
            session, case_id, department_id=unit, actor=OPERATOR, now=t, calendar=CALENDAR,
            tz=TZ))
        if rng.random() < 0.2:  # 退单, then routed again
            t = _at(rng, t, 5)
            step(t, lambda t=t: do_return_assignment(
                session, _active(case())[0].id, reason="不属于本单位", actor=liaison(
                    session, UNITS[units.index(_active(case())[0].department_id)]), now=t,
                calendar=CALENDAR, tz=TZ))
            t = _at(rng, t, 3)
            other = rng.choice(units)
            step(t, lambda t=t, other=other: do_route_to_department(
                session, case_id, department_id=other, actor=OPERATOR, now=t,
                calendar=CALENDAR, tz=TZ))
        if rng.random() < 0.35:  # 延期申请
            t = _at(rng, t, 3)
            more = rng.randrange(3, 15)

            def ask(t: datetime = t, more: int = more) -> None:
                unit = _active(case())[0]
                assert unit.due_date is not None
                do_request_extension(
                    session, unit.id, new_due=unit.due_date + timedelta(days=more),
                    reason="需勘察", agreed_with_enterprise=True, actor=liaison(
                        session, UNITS[units.index(unit.department_id)]), now=t, tz=TZ)
            step(t, ask)
            decision = rng.random()
            t = _at(rng, t, 6)
            if decision < 0.4:
                step(t, lambda t=t: do_approve_extension(
                    session, _active(case())[0].id, enterprise_informed=True, actor=OPERATOR,
                    now=t))
            elif decision < 0.7:
                step(t, lambda t=t: do_reject_extension(
                    session, _active(case())[0].id, reason="理由不充分", actor=OPERATOR, now=t))
        if rng.random() < 0.85:
            t = _at(rng, t, 6)
            step(t, lambda t=t: reply_all(t))
    else:  # 研判上报
        t = _at(rng, t, 2)
        step(t, lambda t=t: do_escalate(session, case_id, analysis="重大复杂",
                                        actor=SUPERVISOR, now=t, calendar=CALENDAR,
                                        tz=TZ))
        if rng.random() < 0.7:
            t = _at(rng, t, 10)
            unit = rng.choice(units)
            step(t, lambda t=t, unit=unit: do_record_leading_group_decision(
                session, case_id, decision="由单位牵头办理", deadline=_local_day(t) + timedelta(
                    days=rng.randrange(2, 12)), department_ids=[unit], actor=SUPERVISOR,
                now=t, tz=TZ))
            if rng.random() < 0.8:
                t = _at(rng, t, 12)
                step(t, lambda t=t: reply_all(t))
    # Ratings and rework.
    for _round in range(2):
        if rng.random() < 0.6:
            t = _at(rng, t, 5)
            score = rng.choice([1, 2, 3, 3, 4, 5])
            step(t, lambda t=t, score=score: do_record_rating(
                session, case_id, score=score, via="operator", actor=SYSTEM, now=t,
                calendar=CALENDAR, tz=TZ))
            if score < 3 and rng.random() < 0.8:
                t = _at(rng, t, 6)

                def again(t: datetime = t) -> None:
                    if case().status == "received":
                        answer(t)
                    elif _active(case()):
                        reply_all(t)
                    else:
                        raise ForbiddenTransition("nothing to answer")
                # From the queue the answer is instant; with units the case runs anyway.
                step(t, again, instant=True)


def _ids(session: Session, condition: Any, entity: Any = Case) -> set[int]:
    return set(session.scalars(select(entity.id).where(condition)))


# Three seeds of 22 histories, each reaching every outcome (asserted below: seed 1 needs
# more histories for a case still running on time); more histories per seed repeat the same
# paths at about 0.1 s each.
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_both_forms_and_the_slow_computation_agree(session: Session, seed: int) -> None:
    stories = play(session, seed, cases=22)
    late = _ids(session, timeliness.sql_case_late(TODAY))
    on_time = _ids(session, timeliness.sql_case_on_time(TODAY))
    overdue = _ids(session, timeliness.sql_case_overdue_now(TODAY))
    assessed = dict(session.execute(select(Case.id, timeliness.sql_case_assessed_due())).all())
    unit_late = _ids(session, timeliness.sql_assignment_late(TODAY), Assignment)
    unit_on_time = _ids(session, timeliness.sql_assignment_on_time(TODAY), Assignment)
    unit_overdue = _ids(session, timeliness.sql_assignment_overdue(TODAY), Assignment)
    kinds: set[tuple[bool, bool]] = set()
    expected_cases: dict[int, tuple[Expected, date | None]] = {}
    expected_units: dict[int, tuple[Expected, int]] = {}
    for story in stories:
        case = session.get(Case, story.case_id)
        assert case is not None
        want, first_answer = expected_case(story)
        expected_cases[case.id] = (want, first_answer)
        got = timeliness.case_verdict(case, TODAY)  # the Python form
        where = f"seed {seed}, case {case.number}: {story.seen}"
        assert (got.late, got.on_time, got.assessed_due, got.overdue_now) == (
            want.late, want.on_time, want.assessed, want.overdue_now), where
        assert (case.id in late, case.id in on_time, case.id in overdue) == (
            want.late, want.on_time, want.overdue_now), where  # the SQL form
        assert assessed[case.id] == want.assessed, where
        assert case.first_answered_on == first_answer, where
        kinds.add((want.late, want.on_time))
        for assignment_id, (unit_want, unit) in expected_assignments(story).items():
            expected_units[assignment_id] = (unit_want, unit)
            assignment = session.get(Assignment, assignment_id)
            got = timeliness.assignment_verdict(assignment, TODAY)
            assert (got.late, got.on_time, got.overdue_now) == (
                unit_want.late, unit_want.on_time, unit_want.overdue_now), (where, assignment_id)
            assert (assignment_id in unit_late, assignment_id in unit_on_time,
                    assignment_id in unit_overdue) == (
                unit_want.late, unit_want.on_time, unit_want.overdue_now), (where, assignment_id)
    # The generator reaches every outcome.
    assert {(True, False), (False, True), (False, False)} <= kinds
    # The report figures are these rules, counted.
    for month in (10, 11, 12):
        scope = Scope(period=periods.month(2026, month), today=TODAY, tz=TZ)
        period = scope.period
        centre = totals(session, scope, CALENDAR, with_days=False)
        due = [w for w, _a in expected_cases.values()
               if w.assessed and period.start <= w.assessed <= period.end
               and (w.late or w.on_time)]
        assert (centre["due"], centre["on_time"], centre["late"]) == (
            len(due), sum(w.on_time for w in due), sum(w.late for w in due)), month
        assert centre["answered"] == sum(1 for _w, a in expected_cases.values()
                                         if a and period.start <= a <= period.end), month
        assert centre["overdue_now"] == sum(w.overdue_now for w, _a in expected_cases.values())
        by_unit = figures(session, scope, CALENDAR, Level.UNITS, Dimension.UNIT,
                          with_days=False)
        for unit in {u for _w, u in expected_units.values()}:
            mine = [w for w, u in expected_units.values() if u == unit and w.assessed
                    and period.start <= w.assessed <= period.end and (w.late or w.on_time)]
            found = by_unit.get(unit)
            counts = (found["due"], found["on_time"], found["late"]) if found else (0, 0, 0)
            assert counts == (len(mine), sum(w.on_time for w in mine),
                              sum(w.late for w in mine)), (month, unit)
