"""The ledger (台账): every case is open, settled (销账) or hanging (挂账).

- Answered by the due date and rated 3–5 → settled.
- Overdue (cases.timeliness: with departments — 流转办, 专班商办, decided 研判上报 — past
  the due date without an answer, or escalated past the leading group's decision date) →
  hanging, by :func:`sweep_overdue` (periodic job) or at once when a late answer is recorded.
  A hanging case stays hanging until it is answered and the enterprise rates the answer 3–5;
  then it is settled.
- Rated 1–2 (差评) → hanging and re-handled (重办), whatever the dates.

The centre's own same-day target (answer or route on the day received) is not a ledger
deadline: a voicemail left at night could never meet it. It shows in the operator queue and
counts in 按时办结率 (see docs/reports.md), but hanging is for handling that ran late.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import Update, false, func, insert, update
from sqlalchemy.orm import Session

from cases import timeliness
from cases.actors import SYSTEM, Actor
from cases.audit import record_event
from cases.case_models import Assignment, Case, CaseEvent
from cases.deadlines import Deadlines
from cases.services import zone
from cases.vocab import Ledger, Mode


def hang(session: Session, case: Case, *, actor: Actor, now: datetime, reason: str) -> bool:
    """Mark ``case`` hanging; False if it already was."""
    if case.ledger_state == Ledger.HANGING:
        return False
    before = case.ledger_state
    case.ledger_state = Ledger.HANGING
    case.hanging_since = now
    case.settled_at = None
    record_event(session, case, actor=actor, action="ledger_hanging", now=now,
                 before={"ledger_state": before}, after={"ledger_state": Ledger.HANGING},
                 note=reason)
    return True


def settle(session: Session, case: Case, *, actor: Actor, now: datetime) -> None:
    """销账: answered and the enterprise is satisfied."""
    before = case.ledger_state
    case.ledger_state = Ledger.SETTLED
    case.settled_at = now
    record_event(session, case, actor=actor, action="ledger_settled", now=now,
                 before={"ledger_state": before}, after={"ledger_state": Ledger.SETTLED})


def note_missed(item: Case | Assignment, deadlines: Deadlines, now: datetime) -> None:
    """Remember the first due date ``item`` missed (:func:`cases.timeliness.note_missed`)."""
    timeliness.note_missed(item, deadlines.local_date(now))


def note_answer(session: Session, case: Case, deadlines: Deadlines, *, actor: Actor,
                now: datetime) -> None:
    """The case is answered: its first answer and, if late, its miss are kept (any mode);
    a case whose departments answered after its due date hangs (before the sweep saw it).
    The centre's own 即时办 target is not a ledger deadline: a late instant answer is late
    in 按时办结率, but does not hang the case."""
    late = timeliness.note_answer(case, now, deadlines.tz)
    if late and case.mode != Mode.INSTANT:
        hang(session, case, actor=actor, now=now, reason=f"逾期答复（办理期限{case.due_date}）")


def overdue_updates(today: date, now: datetime) -> tuple[Update, Update]:
    """The sweep's two statements: flag overdue assignments, hang their cases (RETURNING)."""
    mark_assignments = (
        update(Assignment)
        .where(timeliness.sql_assignment_overdue(today), Assignment.overdue == false())
        .values(overdue=True,
                first_missed_due=func.coalesce(Assignment.first_missed_due, Assignment.due_date))
        .execution_options(synchronize_session=False)
    )
    hang_cases = (
        update(Case)
        .where(
            Case.ledger_state == Ledger.OPEN,
            Case.status.in_(timeliness.RUNNING),
            Case.due_date < today,
        )
        .values(ledger_state=Ledger.HANGING, hanging_since=now, updated_at=now,
                first_missed_due=func.coalesce(Case.first_missed_due, Case.due_date))
        .returning(Case.id, Case.due_date)
        .execution_options(synchronize_session=False)
    )
    return mark_assignments, hang_cases


def missed_while_hanging(today: date) -> Update:
    """Cases already hanging (after a 差评) that now miss their rework due date."""
    return (
        update(Case)
        .where(Case.ledger_state == Ledger.HANGING, Case.status.in_(timeliness.RUNNING),
               Case.first_missed_due.is_(None), Case.due_date < today)
        .values(first_missed_due=Case.due_date)
        .execution_options(synchronize_session=False)
    )


def sweep_overdue(session: Session, now: datetime, tz: tzinfo | None = None) -> int:
    """Mark overdue assignments and cases; returns how many cases newly became hanging.

    Overdue means the local date is past the due date and departments have not answered
    (an extension request does not stop the clock until it is approved), or the leading
    group has not decided an escalated case by its decision date (cases.timeliness).
    Idempotent: rows already marked are not touched again.
    """
    today = now.astimezone(zone(session, tz)).date()
    mark_assignments, hang_cases = overdue_updates(today, now)
    session.execute(mark_assignments)
    hung = session.execute(hang_cases).all()
    session.execute(missed_while_hanging(today))
    if hung:
        session.execute(insert(CaseEvent), [
            {
                "case_id": case_id, "at": now, "actor_kind": SYSTEM.kind,
                "actor_name": SYSTEM.name, "actor_department_id": None,
                "action": "ledger_hanging", "before": {"ledger_state": Ledger.OPEN},
                "after": {"ledger_state": Ledger.HANGING},
                "note": f"超过办理期限（{due.isoformat()}）未答复",
            }
            for case_id, due in hung
        ])
    # Objects loaded before the bulk UPDATE must not keep their old ledger state.
    session.expire_all()
    return len(hung)
