"""专班商办 joint handling: co-handling units with a chosen lead and a joint meeting, started and
minuted by the task force (企服专班: supervisors, administrators)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from cases.actions.common import (
    CASE_FIELDS,
    active,
    assign,
    case_event,
    deadlines_for,
    handling_departments,
    load_case,
    set_due,
    sync_case_due,
    tell_all,
)
from cases.actors import SUPERVISORS, Actor, require_kind
from cases.audit import snapshot
from cases.case_models import Case, JointMeeting
from cases.deadlines import Deadlines
from cases.errors import ForbiddenTransition, InvalidInput
from cases.models import Department
from cases.notifications import NotificationKind
from cases.states import check, move
from cases.suggestions import mark_final_routing
from cases.vocab import Extension, Mode, Role, Status
from workdays.calendar import WorkCalendar


def check_start_joint_handling(session: Session, case_id: int, *,
                               department_ids: Sequence[int], meeting_at: datetime,
                               actor: Actor, now: datetime,
                               lead_department_id: int | None = None,
                               calendar: WorkCalendar | None = None, tz: tzinfo | None = None
                               ) -> tuple[Case, list[Department], Deadlines]:
    """The case, its units (the lead first) and the deadlines, if the task force may start
    joint handling with a meeting that is not in the past."""
    require_kind(actor, SUPERVISORS, "启动专班商办")
    case = load_case(session, case_id)
    check(case, "start_joint")
    ids = list(department_ids)
    if lead_department_id is not None:
        if lead_department_id not in ids:
            raise InvalidInput({"lead_department_id": "牵头单位须为共同承办单位之一"})
        ids = [lead_department_id, *[i for i in ids if i != lead_department_id]]
    departments = handling_departments(session, ids)
    if len(departments) < 2:
        raise InvalidInput({"department_ids": "专班商办至少需要两个共同承办单位"})
    deadlines = deadlines_for(session, calendar, tz)
    if meeting_at.tzinfo is None or deadlines.local_date(meeting_at) < deadlines.local_date(now):
        raise InvalidInput({"meeting_at": "商办会时间不能早于今天"})
    return case, departments, deadlines


def do_start_joint_handling(session: Session, case_id: int, *, department_ids: Sequence[int],
                            meeting_at: datetime, actor: Actor, now: datetime,
                            lead_department_id: int | None = None,
                            calendar: WorkCalendar | None = None, tz: tzinfo | None = None
                            ) -> Case:
    """专班商办: several co-handling units and a joint meeting led by the task force; only
    task-force users (企服专班: supervisors, administrators) start it.

    ``lead_department_id`` is the lead unit (牵头), one of ``department_ids``; without it the
    first one leads. Until the meeting is held the deadline counts from the planned meeting
    day; :func:`do_record_meeting_held` recounts it from the real day.
    """
    case, departments, deadlines = check_start_joint_handling(
        session, case_id, department_ids=department_ids, meeting_at=meeting_at, actor=actor,
        now=now, lead_department_id=lead_department_id, calendar=calendar, tz=tz)
    before = snapshot(case, CASE_FIELDS)
    due = deadlines.joint(deadlines.local_date(meeting_at))
    assigned = [assign(session, case, department, Role.LEAD if index == 0 else Role.CO,
                       due, now) for index, department in enumerate(departments)]
    session.add(JointMeeting(case_id=case.id, scheduled_at=meeting_at, attendees=[],
                             convened_by=actor.name[:100]))
    case.mode = Mode.JOINT
    case.needs_review = False
    case.returned_at = None
    set_due(case, due)
    move(case, "start_joint", Status.HANDLING)
    session.flush()
    mark_final_routing(session, case.id, {d.id for d in departments})
    tell_all(session, assigned, NotificationKind.ASSIGNED, now)
    case_event(session, case, "joint_started", actor, now, before,
               departments=[d.name for d in departments], meeting_at=meeting_at.isoformat())
    return case


def check_record_meeting_held(session: Session, case_id: int, *, held_at: datetime,
                              attendees: Sequence[str], actor: Actor, now: datetime
                              ) -> tuple[Case, JointMeeting, list[str]]:
    """The case, its meeting and the attendees named, if the meeting can be recorded as held."""
    require_kind(actor, SUPERVISORS, "登记商办会")
    case = load_case(session, case_id)
    check(case, "record_meeting")
    meeting = case.meetings[-1] if case.meetings else None
    if case.mode != Mode.JOINT or meeting is None:
        raise ForbiddenTransition("该诉求不是专班商办，不能登记商办会")
    if meeting.held_at is not None:
        raise ForbiddenTransition("商办会已登记")
    if held_at.tzinfo is None or held_at > now:
        raise InvalidInput({"held_at": "商办会时间不能晚于当前时间"})
    names = [a.strip() for a in attendees if a and a.strip()]
    if not names:
        raise InvalidInput({"attendees": "请填写参会单位"})
    return case, meeting, names


def do_record_meeting_held(session: Session, case_id: int, *, held_at: datetime,
                           attendees: Sequence[str], minutes: str, actor: Actor, now: datetime,
                           calendar: WorkCalendar | None = None, tz: tzinfo | None = None
                           ) -> Case:
    """The joint meeting took place: due = meeting day + 5 working days for every unit."""
    case, meeting, names = check_record_meeting_held(
        session, case_id, held_at=held_at, attendees=attendees, actor=actor, now=now)
    deadlines = deadlines_for(session, calendar, tz)
    before = snapshot(case, CASE_FIELDS)
    meeting.held_at = held_at
    meeting.attendees = names
    meeting.minutes = (minutes or "").strip() or None
    due = deadlines.joint(deadlines.local_date(held_at))
    for assignment in active(case):
        # An agreed deadline (approved extension) stays; the rule's date follows the meeting.
        if assignment.extension_status != Extension.APPROVED:
            assignment.due_date = due.day
            assignment.due_provisional = due.provisional
            assignment.due_reason = due.reason
    sync_case_due(case)
    case_event(session, case, "meeting_held", actor, now, before, held_at=held_at.isoformat(),
               attendees=names)
    return case
