"""The accountability list (督查问责): per unit and period, each case with the rule behind it.

- 久拖不办 (``delay``): an assignment that missed its due date in the period and stayed
  unanswered for at least N working days after it (until its reply, or until today).
- 敷衍塞责 (``perfunctory``): a rework (重办) answer rated 1–2 again — the unit answered the
  complaint without dealing with it — or a 退单 the centre did not accept (routed back to the
  same unit in the same round).
- 不满意 (``unsatisfied``): a first answer rated 1–2.

A rating belongs to the units that replied in the rated round. N and the rules in use are
settings (:mod:`reports.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from cases.case_models import Assignment, Case, Rating
from cases.models import Department
from cases.timeliness import sql_assignment_overdue as overdue_assignment
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Extension
from reports.indicators import Scope, local_day
from reports.settings import RULE_LABELS
from workdays.calendar import WorkCalendar


@dataclass(frozen=True)
class Entry:
    department_id: int
    department: str
    case_id: int
    number: str
    rule: str
    detail: str
    day: date
    # 久拖不办 while the unit's extension request waits for the centre's decision.
    extension_pending: bool = False

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.department, "case": self.number, "rule": self.rule,
                "rule_label": self.rule_label, "detail": self.detail,
                "date": self.day.isoformat(), "extension_pending": self.extension_pending}


@dataclass(frozen=True)
class UnitSummary:
    """Why a unit is on the list: how many cases under each rule, and which cases."""

    department_id: int
    department: str
    entries: list[Entry]

    def count(self, rule: str) -> int:
        return sum(1 for e in self.entries if e.rule == rule)

    @property
    def extension_pending(self) -> int:
        return sum(1 for e in self.entries if e.extension_pending)

    @property
    def reasons(self) -> str:
        """E.g. “久拖不办2件（其中延期申请未审批1件）、不满意1件”."""
        parts = []
        for rule, label in RULE_LABELS.items():
            n = self.count(rule)
            if n:
                pending = self.extension_pending if rule == "delay" else 0
                parts.append(f"{label}{n}件" + (f"（其中延期申请未审批{pending}件）"
                                                 if pending else ""))
        return "、".join(parts)


def by_unit(entries: list[Entry]) -> list[UnitSummary]:
    """The list grouped per unit, most entries first."""
    grouped: dict[int, list[Entry]] = {}
    names: dict[int, str] = {}
    for entry in entries:
        grouped.setdefault(entry.department_id, []).append(entry)
        names[entry.department_id] = entry.department
    return sorted((UnitSummary(i, names[i], found) for i, found in grouped.items()),
                  key=lambda u: (-len(u.entries), u.department))


def _delays(session: Session, scope: Scope, calendar: WorkCalendar) -> list[Entry]:
    missed = func.coalesce(Assignment.first_missed_due, Assignment.due_date)
    late = and_(missed >= scope.period.start, missed <= scope.period.end,
                (Assignment.first_missed_due.is_not(None))
                | overdue_assignment(scope.today))
    replied_on = local_day(Assignment.replied_at, scope.tz, session)
    stmt = (select(Assignment.department_id, Department.name, Case.id, Case.number,
                   missed.label("missed"), replied_on.label("replied_on"), Assignment.state,
                   Assignment.extension_status)
            .join(Case, Case.id == Assignment.case_id)
            .join(Department, Department.id == Assignment.department_id)
            .where(late))
    if scope.department_id is not None:
        stmt = stmt.where(Assignment.department_id == scope.department_id)
    entries = []
    need = scope.settings.delay_working_days
    for dept_id, dept, case_id, number, due, replied, state, extension in session.execute(stmt):
        due = date.fromisoformat(due) if isinstance(due, str) else due
        if isinstance(replied, str):
            replied = date.fromisoformat(replied)
        if state == AssignmentState.REPLIED and replied is not None:
            until = replied
        elif state in ACTIVE_ASSIGNMENT_STATES:
            until = scope.today
        else:  # returned or withdrawn after missing the date: counted up to today's view
            continue
        days = max(calendar.working_days_between(due, until), 0)
        if days >= need:
            pending = state in ACTIVE_ASSIGNMENT_STATES and extension == Extension.REQUESTED
            how = f"答复时已逾期{days}个工作日" if state == AssignmentState.REPLIED \
                else f"已逾期{days}个工作日未答复"
            if pending:
                how += "（延期申请未审批，不停止计时）"
            entries.append(Entry(dept_id, dept, case_id, number, "delay",
                                 f"办理期限{due.isoformat()}，{how}", due, pending))
    return entries


def _poor_ratings(session: Session, scope: Scope) -> list[Entry]:
    rated_on = local_day(Rating.rated_at, scope.tz, session)
    stmt = (select(Assignment.department_id, Department.name, Case.id, Case.number,
                   Rating.score, Rating.round, rated_on.label("rated_on"))
            .select_from(Rating)
            .join(Assignment, and_(Assignment.case_id == Rating.case_id,
                                   Assignment.round == Rating.round,
                                   Assignment.state == AssignmentState.REPLIED))
            .join(Case, Case.id == Rating.case_id)
            .join(Department, Department.id == Assignment.department_id)
            .where(scope.during(Rating.rated_at),
                   Rating.score < scope.settings.satisfied_min_score))
    if scope.department_id is not None:
        stmt = stmt.where(Assignment.department_id == scope.department_id)
    entries = []
    for dept_id, dept, case_id, number, score, round_, day in session.execute(stmt):
        day = date.fromisoformat(day) if isinstance(day, str) else day
        if round_ > 0:
            entries.append(Entry(dept_id, dept, case_id, number, "perfunctory",
                                 f"重办（第{round_}次）后仍评价{score}分", day))
        else:
            entries.append(Entry(dept_id, dept, case_id, number, "unsatisfied",
                                 f"企业评价{score}分", day))
    return entries


def _refused_returns(session: Session, scope: Scope) -> list[Entry]:
    """退单未采纳: the centre routed the case back, in the same round, to the unit that returned
    it (the return is dated in the period)."""
    again = aliased(Assignment)
    stmt = (select(Assignment.department_id, Department.name, Case.id, Case.number,
                   Assignment.return_reason, Assignment.returned_at)
            .join(again, and_(again.case_id == Assignment.case_id,
                              again.department_id == Assignment.department_id,
                              again.round == Assignment.round, again.id > Assignment.id))
            .join(Case, Case.id == Assignment.case_id)
            .join(Department, Department.id == Assignment.department_id)
            .where(Assignment.state == AssignmentState.RETURNED,
                   scope.during(Assignment.returned_at))
            .distinct())
    if scope.department_id is not None:
        stmt = stmt.where(Assignment.department_id == scope.department_id)
    return [Entry(dept_id, dept, case_id, number, "perfunctory",
                  f"退单未被采纳，已重新交办本单位（退单理由：{reason or '—'}）",
                  at.astimezone(scope.tz).date())
            for dept_id, dept, case_id, number, reason, at in session.execute(stmt)]


def accountability(session: Session, scope: Scope, calendar: WorkCalendar) -> list[Entry]:
    """The list for the scope's period, by unit, rule and date."""
    rules = set(scope.settings.accountability_rules)
    entries: list[Entry] = []
    if "delay" in rules:
        entries += _delays(session, scope, calendar)
    if rules & {"perfunctory", "unsatisfied"}:
        entries += [e for e in _poor_ratings(session, scope) if e.rule in rules]
    if "perfunctory" in rules:
        entries += _refused_returns(session, scope)
    order = list(RULE_LABELS)
    return sorted(entries, key=lambda e: (e.department, order.index(e.rule), e.day, e.number))


XLSX_COLUMNS = (("单位", 22, True), ("诉求编号", 12), ("情形", 9), ("说明", 60, True),
                ("日期", 11))


def write_xlsx(entries: list[Entry], out: Any, scope: Scope, unit: str | None = None) -> None:
    """The list as a one-sheet workbook (write-only), ready to print."""
    from openpyxl import Workbook

    from reports.ledger_export import CENTRE, Heading, finish_sheet, new_sheet

    book = Workbook(write_only=True)
    heading = Heading(f"督查问责情况表（{scope.period.label}）", unit or CENTRE, scope.today)
    sheet, writer = new_sheet(book, "督查问责", XLSX_COLUMNS, heading)
    for e in entries:
        writer.append([e.department, e.number, e.rule_label, e.detail, e.day])
    finish_sheet(sheet, XLSX_COLUMNS, len(entries))
    book.save(out)
