"""回访 result: a satisfied rating closes the case and settles the ledger, a poor one starts
rework (重办); 回访未果 closes it unrated."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import ledger
from cases.actions.common import (
    CASE_FIELDS,
    assign,
    case_event,
    current_round,
    deadlines_for,
    load_case,
    required_text,
    set_due,
    tell_all,
)
from cases.actors import CENTRE, Actor, require_kind
from cases.audit import snapshot
from cases.case_models import Case, Rating
from cases.deadlines import Deadlines
from cases.errors import InvalidInput
from cases.events import RatingRecorded, publish
from cases.models import Department
from cases.notifications import NotificationKind
from cases.states import check, move
from cases.vocab import SATISFIED_MIN_SCORE, AssignmentState, Mode, Role, Status
from workdays.calendar import WorkCalendar

RATING_VIA = ("callback", "operator")


def check_record_rating(session: Session, case_id: int, *, score: int, via: str, actor: Actor
                        ) -> Case:
    """The case, if it can be rated ``score`` (1–5) through ``via`` (``RATING_VIA``)."""
    require_kind(actor, CENTRE | {"system"}, "满意度评价")
    case = load_case(session, case_id)
    check(case, "rate")
    errors: dict[str, str] = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = "评价应为1至5分"
    if via not in RATING_VIA:
        errors["via"] = "评价方式应为 callback（自动回访）或 operator（人工回访）"
    if errors:
        raise InvalidInput(errors)
    return case


def do_record_rating(session: Session, case_id: int, *, score: int, comment: str = "",
                     via: str, call_id: int | None = None, actor: Actor, now: datetime,
                     calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """回访 result. 3–5 closes the case and settles the ledger (a hanging case too, now that it
    is answered and the enterprise is satisfied); 1–2 (差评) hangs it and starts rework (重办).

    Rework: the departments that answered get the case again (new assignments, due 2 working
    days later for 流转办, 5 for 专班商办 and escalated cases); an instant answer goes back to
    the centre's queue, due today.
    """
    case = check_record_rating(session, case_id, score=score, via=via, actor=actor)
    before = snapshot(case, CASE_FIELDS)
    session.add(Rating(case_id=case.id, score=score, comment=(comment or "").strip(), via=via,
                       call_id=call_id, rated_at=now, rated_by=actor.name[:100],
                       round=case.rework_count))
    publish(RatingRecorded(session, case, score=score, comment=comment or "", via=via, now=now))
    if score >= SATISFIED_MIN_SCORE:
        move(case, "rate", Status.CLOSED)
        ledger.settle(session, case, actor=actor, now=now)
        case_event(session, case, "rated", actor, now, before, score=score)
        return case
    _rework(session, case, deadlines_for(session, calendar, tz), actor, now)
    case_event(session, case, "rework", actor, now, before, score=score)
    return case


def _rework(session: Session, case: Case, deadlines: Deadlines, actor: Actor, now: datetime
            ) -> None:
    ledger.hang(session, case, actor=actor, now=now, reason="企业评价不满意，重办")
    replied = [a for a in current_round(case) if a.state == AssignmentState.REPLIED]
    case.rework_count += 1
    case.answered_at = None
    case.answered_on = None
    if case.mode == Mode.INSTANT or not replied:
        move(case, "rate", Status.RECEIVED)
        set_due(case, deadlines.same_day(now))
        return
    due = deadlines.rework(now, case.mode)
    departments = {d.id: d for d in session.scalars(
        select(Department).where(Department.id.in_([a.department_id for a in replied])))}
    assigned = [assign(session, case, departments[a.department_id], Role(a.role), due, now)
                for a in replied]
    set_due(case, due)
    move(case, "rate", Status.HANDLING)
    session.flush()
    tell_all(session, assigned, NotificationKind.REWORK, now)


def check_close_unrated(session: Session, case_id: int, *, reason: str, actor: Actor
                        ) -> tuple[Case, str]:
    """The case and the reason, if it can be closed without a rating."""
    require_kind(actor, CENTRE | {"system"}, "登记回访未果")
    case = load_case(session, case_id)
    check(case, "close_unrated")
    return case, required_text(reason, "reason", "请填写回访未果的原因", limit=200)


def do_close_unrated(session: Session, case_id: int, *, reason: str, actor: Actor,
                     now: datetime) -> Case:
    """回访未果: the enterprise could not be reached for a rating; the case closes as 未评价
    and the ledger settles (a hanging case too: its answer stands, only the rating is missing).
    """
    case, text = check_close_unrated(session, case_id, reason=reason, actor=actor)
    before = snapshot(case, CASE_FIELDS)
    case.unrated_reason = text
    move(case, "close_unrated", Status.CLOSED)
    ledger.settle(session, case, actor=actor, now=now)
    case_event(session, case, "closed_unrated", actor, now, before, note=text)
    return case
