"""The reporting indicators: one definition of each, used to count and to list its cases.

Indicators come in *families*: rows of one table restricted to one period column
(cases received in the period, cases answered in it, ratings given in it …). A family
counts its indicators in one grouped query; the same conditions select the cases behind a
figure (:func:`cases_of`), so every figure links to exactly the cases it counts.

Two levels:

- ``cases`` — one row per case, grouped by nothing (totals), area, sub-area or channel;
- ``units`` — one row per assignment (承办单位 and 共同承办单位 alike, each for its own part),
  grouped by department.

To add an indicator (e.g. a reply type, 回访未果, 并单): add a :class:`Count` to the family
whose rows and period it shares, at both levels if it applies to units, and a label; the
tables, JSON, exports and links pick it up. Definitions are stated in ``docs/reports.md``.

Long on purpose: the indicator families are the one definition of every figure; splitting
them by family would separate definitions that share their row and period conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from cases import timeliness
from cases.case_models import Assignment, Case, Rating
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Extension, Ledger, Mode, Status
from core.dialect import is_postgresql
from core.ratio import Ratio
from reports.periods import Period
from reports.settings import ReportSettings
from workdays.calendar import WorkCalendar


class Level(StrEnum):
    CASES = "cases"
    UNITS = "units"


class Dimension(StrEnum):
    TOTAL = "total"
    AREA = "area"
    SUBAREA = "subarea"
    CHANNEL = "channel"
    UNIT = "unit"


@dataclass(frozen=True)
class Scope:
    """What is measured: a period, the day "now" counts are taken, and the settings."""

    period: Period
    today: date
    tz: ZoneInfo
    settings: ReportSettings = field(default_factory=ReportSettings)
    # Limit to one unit's assignments (a department sees only its own figures).
    department_id: int | None = None

    @property
    def lower(self) -> datetime:
        return datetime.combine(self.period.start, time(), self.tz)

    @property
    def upper(self) -> datetime:
        return datetime.combine(self.period.end + timedelta(days=1), time(), self.tz)

    def between(self, column: Any) -> ColumnElement[bool]:
        """A local date column in the period."""
        return and_(column >= self.period.start, column <= self.period.end)

    def during(self, column: Any) -> ColumnElement[bool]:
        """A UTC timestamp column in the period's local days."""
        return and_(column >= self.lower, column < self.upper)


Condition = Callable[[Scope], ColumnElement[bool]]


@dataclass(frozen=True)
class Count:
    name: str
    condition: Condition


@dataclass(frozen=True)
class Family:
    """Rows of one table in one period; ``case_id`` ties each row to its case."""

    name: str
    level: Level
    # ``rows(scope, with_case)``: the rows in the period, joined to their case if asked.
    rows: Callable[[Scope, bool], Select[Any]]
    case_id: Any
    counts: tuple[Count, ...]
    # The date (or UTC timestamp) that puts a row in a period, for monthly trends.
    period_date: Any = None
    timestamp: bool = False
    # Some count reads the case's columns (its mode, its ledger state).
    needs_case: bool = False


LABELS: dict[str, str] = {
    "received": "受理", "instant": "即时办", "routed": "流转办", "joint": "专班商办",
    "escalated": "研判上报", "answered": "答复", "followed_up": "已回访", "unrated": "未评价",
    "due": "应办结", "on_time": "按时办结", "late": "逾期办结",
    "overdue_now": "当前逾期", "hanging_now": "当前挂账", "returned": "退单",
    "extension_approved": "延期批准", "extension_rejected": "延期未批准", "reworked": "重办",
    "rated": "评价", "satisfied": "满意", "score_5": "非常满意", "score_4": "满意",
    "score_3": "基本满意", "score_2": "不满意", "score_1": "非常不满意",
}
RATE_LABELS = {"on_time_rate": "按时办结率", "satisfaction_rate": "满意率",
               "followup_rate": "回访率", "instant_rate": "即时办结率"}


def _true(_scope: Scope) -> ColumnElement[bool]:
    return literal(True)


def _never(_scope: Scope) -> ColumnElement[bool]:
    return false()


def _mode(mode: Mode) -> Condition:
    return lambda _s: Case.mode == mode


def _score(score: int) -> Condition:
    return lambda _s: Rating.score == score


# -- cases ------------------------------------------------------------------------------------
#
# 按时办结率: each case is assessed once, on its assessed due date — the first due date it
# missed if it ever missed one (kept through extensions, rework and late answers), else its
# current due date. A case counts once it is answered or late; a case not yet due does not.

def _case_late(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_case_late(s.today)


def _case_on_time(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_case_on_time(s.today)


def _case_assessed_in(s: Scope) -> ColumnElement[bool]:
    # The assessed due date (cases.timeliness), spelled so each branch uses an index.
    return or_(s.between(Case.first_missed_due),
               and_(Case.first_missed_due.is_(None), s.between(Case.due_date)))


def _case_followed_up(_s: Scope) -> ColumnElement[bool]:
    return exists().where(Rating.case_id == Case.id, Rating.rated_at >= Case.first_answered_at)


def _case_overdue_now(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_case_overdue_now(s.today)


def _rows(*where: Callable[[Scope], ColumnElement[bool]], entity: Any = Case,
          join: Any = None) -> Callable[[Scope, bool], Select[Any]]:
    def build(scope: Scope, with_case: bool) -> Select[Any]:
        stmt = select(entity.id).select_from(entity)
        if join is not None and with_case:
            stmt = stmt.join(Case, join)
        return stmt.where(*(w(scope) for w in where))
    return build


CASE_FAMILIES: tuple[Family, ...] = (
    # A merged repeat request (并单) is part of the earlier case, not a case received on its own.
    Family("received", Level.CASES, _rows(lambda s: s.between(Case.received_on),
                                          lambda _s: Case.status != Status.MERGED), Case.id, (
        Count("received", _true), Count("instant", _mode(Mode.INSTANT)),
        Count("routed", _mode(Mode.ROUTED)), Count("joint", _mode(Mode.JOINT)),
        Count("escalated", _mode(Mode.ESCALATED))), period_date=Case.received_on),
    # Answered in the period of the first answer, whatever rating (and rework) follows.
    Family("answered", Level.CASES, _rows(lambda s: s.between(Case.first_answered_on)),
           Case.id, (
               Count("answered", _true), Count("followed_up", _case_followed_up),
               # 回访未果: closed without a rating by the settings' rule; counted apart.
               Count("unrated", lambda _s: Case.unrated_reason.is_not(None))),
           period_date=Case.first_answered_on),
    Family("due", Level.CASES,
           _rows(_case_assessed_in, lambda s: or_(_case_late(s), _case_on_time(s))), Case.id, (
               Count("due", _true), Count("on_time", _case_on_time),
               Count("late", _case_late)),
           period_date=timeliness.sql_case_assessed_due()),
    Family("now", Level.CASES,
           _rows(lambda s: or_(_case_overdue_now(s), Case.ledger_state == Ledger.HANGING)),
           Case.id, (
               Count("overdue_now", _case_overdue_now),
               Count("hanging_now", lambda _s: Case.ledger_state == Ledger.HANGING))),
    Family("assignment_events", Level.CASES,
           _rows(lambda s: or_(s.during(Assignment.returned_at),
                               s.during(Assignment.extension_decided_at)),
                 entity=Assignment, join=Case.id == Assignment.case_id),
           Assignment.case_id, (
               Count("returned", lambda s: s.during(Assignment.returned_at)),
               Count("extension_approved", lambda s: and_(
                   s.during(Assignment.extension_decided_at),
                   Assignment.extension_status == Extension.APPROVED)),
               Count("extension_rejected", lambda s: and_(
                   s.during(Assignment.extension_decided_at),
                   Assignment.extension_status == Extension.REJECTED)))),
    Family("ratings", Level.CASES,
           _rows(lambda s: s.during(Rating.rated_at), entity=Rating,
                 join=Case.id == Rating.case_id),
           Rating.case_id, (
               Count("rated", _true),
               Count("satisfied", lambda s: Rating.score >= s.settings.satisfied_min_score),
               Count("reworked", lambda s: Rating.score < s.settings.satisfied_min_score),
               *(Count(f"score_{n}", _score(n)) for n in (5, 4, 3, 2, 1))),
           period_date=Rating.rated_at, timestamp=True),
)

# -- units (assignments) ----------------------------------------------------------------------

_ACTIVE = Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)
_REPLIED = Assignment.state == AssignmentState.REPLIED


def _unit_late(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_assignment_late(s.today)


def _unit_on_time(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_assignment_on_time(s.today)


def _unit_assessed_in(s: Scope) -> ColumnElement[bool]:
    return or_(s.between(Assignment.first_missed_due),
               and_(Assignment.first_missed_due.is_(None), s.between(Assignment.due_date)))


_EARLIER = aliased(Assignment)


def _unit_first(_s: Scope) -> ColumnElement[bool]:
    """The unit's first assignment on the case (受理): a unit given the case for the first
    time in a rework round receives it then; routed back to it after its 退单, it does not
    receive it again."""
    return ~exists().where(_EARLIER.case_id == Assignment.case_id,
                           _EARLIER.department_id == Assignment.department_id,
                           _EARLIER.id < Assignment.id)


def _unit_rework(_s: Scope) -> ColumnElement[bool]:
    """重办 given to the unit: a rework round of a case the unit had in an earlier round."""
    return and_(Assignment.round > 0, exists().where(
        _EARLIER.case_id == Assignment.case_id,
        _EARLIER.department_id == Assignment.department_id,
        _EARLIER.round < Assignment.round))


def _unit_mode(mode: Mode) -> Condition:
    return lambda _s: Case.mode == mode


def _unit_followed_up(_s: Scope) -> ColumnElement[bool]:
    return exists().where(Rating.case_id == Assignment.case_id,
                          Rating.round == Assignment.round)


def _unit_overdue_now(s: Scope) -> ColumnElement[bool]:
    return timeliness.sql_assignment_overdue(s.today)


def _unit_rows(*where: Callable[[Scope], ColumnElement[bool]], entity: Any = Assignment,
               join: Any = None) -> Callable[[Scope, bool], Select[Any]]:
    def build(scope: Scope, with_case: bool) -> Select[Any]:
        stmt = select(entity.id).select_from(entity)
        if join is not None:
            stmt = stmt.join(Assignment, join)
        if with_case:
            stmt = stmt.join(Case, Case.id == Assignment.case_id)
        if scope.department_id is not None:
            stmt = stmt.where(Assignment.department_id == scope.department_id)
        return stmt.where(*(w(scope) for w in where))
    return build


UNIT_FAMILIES: tuple[Family, ...] = (
    Family("received", Level.UNITS,
           _unit_rows(lambda s: s.during(Assignment.assigned_at)), Assignment.case_id, (
               Count("received", _unit_first),
               Count("instant", _never),
               # The mode first: the earlier-assignment probe runs once per row, not thrice.
               Count("routed", lambda s: and_(Case.mode == Mode.ROUTED, _unit_first(s))),
               Count("joint", lambda s: and_(Case.mode == Mode.JOINT, _unit_first(s))),
               Count("escalated", lambda s: and_(Case.mode == Mode.ESCALATED, _unit_first(s))),
               Count("reworked", _unit_rework)),
           period_date=Assignment.assigned_at, timestamp=True, needs_case=True),
    Family("answered", Level.UNITS,
           _unit_rows(lambda s: s.during(Assignment.replied_at)), Assignment.case_id, (
               Count("answered", _true), Count("followed_up", _unit_followed_up)),
           period_date=Assignment.replied_at, timestamp=True),
    Family("due", Level.UNITS,
           _unit_rows(_unit_assessed_in, lambda s: or_(_unit_late(s), _unit_on_time(s))),
           Assignment.case_id, (
               Count("due", _true), Count("on_time", _unit_on_time),
               Count("late", _unit_late)),
           period_date=timeliness.sql_assignment_assessed_due()),
    Family("now", Level.UNITS,
           _unit_rows(lambda _s: _ACTIVE, lambda s: or_(
               Assignment.due_date < s.today, Case.ledger_state == Ledger.HANGING)),
           Assignment.case_id, (
               Count("overdue_now", _unit_overdue_now),
               Count("hanging_now", lambda _s: Case.ledger_state == Ledger.HANGING)),
           needs_case=True),
    Family("assignment_events", Level.UNITS,
           _unit_rows(lambda s: or_(s.during(Assignment.returned_at),
                                    s.during(Assignment.extension_decided_at))),
           Assignment.case_id, (
               Count("returned", lambda s: s.during(Assignment.returned_at)),
               Count("extension_approved", lambda s: and_(
                   s.during(Assignment.extension_decided_at),
                   Assignment.extension_status == Extension.APPROVED)),
               Count("extension_rejected", lambda s: and_(
                   s.during(Assignment.extension_decided_at),
                   Assignment.extension_status == Extension.REJECTED)))),
    # A rating belongs to every unit that replied in the rated round.
    Family("ratings", Level.UNITS,
           _unit_rows(lambda s: s.during(Rating.rated_at), lambda _s: _REPLIED, entity=Rating,
                      join=and_(Assignment.case_id == Rating.case_id,
                                Assignment.round == Rating.round)),
           Rating.case_id, (
               Count("rated", _true),
               Count("satisfied", lambda s: Rating.score >= s.settings.satisfied_min_score),
               *(Count(f"score_{n}", _score(n)) for n in (5, 4, 3, 2, 1))),
           period_date=Rating.rated_at, timestamp=True),
)

FAMILIES = {Level.CASES: CASE_FAMILIES, Level.UNITS: UNIT_FAMILIES}
# Today's state, the same whatever the period.
NOW_COUNTS: tuple[str, ...] = tuple(
    c.name for family in CASE_FAMILIES if family.name == "now" for c in family.counts)
COUNT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    c.name for family in (*CASE_FAMILIES, *UNIT_FAMILIES) for c in family.counts))


def _dimension_column(level: Level, dimension: Dimension) -> Any:
    if level == Level.UNITS:
        return Assignment.department_id
    return {Dimension.TOTAL: literal_column("'total'"), Dimension.AREA: Case.category,
            Dimension.SUBAREA: func.coalesce(Case.category, "") + "/" +
            func.coalesce(Case.subcategory, ""),
            Dimension.CHANNEL: Case.channel}[dimension]


def tune(session: Session) -> None:
    """Plan report queries for their own dates, costing index visits as on SSD/cached
    storage — for this transaction only.

    A period's rows are a few percent of the table, read through indexes and joined by
    primary key. With PostgreSQL's default ``random_page_cost`` (4, spinning disks) the
    planner hash-joins a sequential scan of every case instead, four times slower here.
    The driver prepares a statement run five times (the ledger's keyset batches); a generic
    plan, blind to the dates, reads and sorts the whole period for every batch of 2,000.
    """
    if is_postgresql(session):
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # A report query is a few index scans costed high (subplans per row): JIT compiling
        # them took longer (50–110 ms) than running them.
        session.execute(text("SET LOCAL jit = off"))


def _grouping(key: Any, level: Level, dimension: Dimension) -> tuple[Any, ...]:
    return (key,) if dimension != Dimension.TOTAL or level == Level.UNITS else ()


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def count(session: Session, scope: Scope, level: Level = Level.CASES,
          dimension: Dimension = Dimension.TOTAL, families: Sequence[str] | None = None
          ) -> dict[Any, dict[str, int]]:
    """Every count of ``level`` grouped by ``dimension``: ``{key: {name: n}}``;
    ``families`` limits the work to some families (the others' counts stay 0)."""
    key = _dimension_column(level, dimension).label("key")
    result: dict[Any, dict[str, int]] = {}
    tune(session)
    with_dimension = level == Level.CASES and dimension != Dimension.TOTAL
    for family in FAMILIES[level]:
        if families is not None and family.name not in families:
            continue
        base = family.rows(scope, family.needs_case or with_dimension)
        stmt = base.with_only_columns(
            key, *(_count_if(c.condition(scope)).label(c.name) for c in family.counts),
            maintain_column_froms=True,
        )
        if dimension != Dimension.TOTAL or level == Level.UNITS:
            stmt = stmt.group_by(key)
        for row in session.execute(stmt):
            bucket = result.setdefault(row.key, dict.fromkeys(COUNT_NAMES, 0))
            for c in family.counts:
                bucket[c.name] = int(getattr(row, c.name))
    return result


def month_key(column: Any, timestamp: bool, tz: ZoneInfo, session: Session) -> Any:
    """``'2026-11'`` for a date, or for a UTC timestamp's local date, in SQL."""
    if is_postgresql(session):
        return func.to_char(func.timezone(tz.key, column) if timestamp else column, "YYYY-MM")
    if timestamp:
        return func.strftime("%Y-%m", column, _sqlite_offset(tz))
    return func.strftime("%Y-%m", column)


def monthly(session: Session, scope: Scope, level: Level = Level.CASES, by_area: bool = False,
            families: Sequence[str] | None = None) -> dict[Any, dict[str, int]]:
    """Counts per month of the scope's period (``'2026-11'``, or ``('2026-11', area)``);
    ``families`` limits the work to the families a chart needs."""
    result: dict[Any, dict[str, int]] = {}
    tune(session)
    for family in FAMILIES[level]:
        if family.period_date is None or (families is not None and family.name not in families):
            continue
        keys = [month_key(family.period_date, family.timestamp, scope.tz, session)
                .label("month")]
        if by_area:
            keys.append(Case.category.label("area"))
        stmt = family.rows(scope, family.needs_case or by_area).with_only_columns(
            *keys, *(_count_if(c.condition(scope)).label(c.name) for c in family.counts),
            maintain_column_froms=True,
        ).group_by(*keys)
        for row in session.execute(stmt):
            key = (row.month, row.area) if by_area else row.month
            bucket = result.setdefault(key, dict.fromkeys(COUNT_NAMES, 0))
            for c in family.counts:
                bucket[c.name] = int(getattr(row, c.name))
    return result


def condition_for(name: str, scope: Scope, level: Level) -> tuple[Family, Count]:
    for family in FAMILIES[level]:
        for c in family.counts:
            if c.name == name:
                return family, c
    raise KeyError(name)


def cases_of(name: str, scope: Scope, level: Level = Level.CASES,
             department_id: int | None = None) -> Select[Any]:
    """The ids of the cases behind one figure (``department_id``: one unit's figure)."""
    family, counted = condition_for(name, scope, level)
    stmt = family.rows(scope, family.needs_case).with_only_columns(
        family.case_id, maintain_column_froms=True)
    stmt = stmt.where(counted.condition(scope))
    if level == Level.UNITS and department_id is not None:
        stmt = stmt.where(Assignment.department_id == department_id)
    return stmt


# -- working days to answer ---------------------------------------------------------------------


def working_days(calendar: WorkCalendar, start: date, end: date,
                 memo: dict[tuple[date, date], int] | None = None) -> int:
    """Working days from the effective day of ``start`` (received, or assigned) to ``end``
    (0 when answered that day): :func:`cases.timeliness.working_days_to_answer`."""
    if memo is None:
        return timeliness.working_days_to_answer(start, end, calendar)
    if (start, end) not in memo:
        memo[(start, end)] = timeliness.working_days_to_answer(start, end, calendar)
    return memo[(start, end)]


def local_day(column: Any, tz: ZoneInfo, session: Session) -> ColumnElement[date]:
    """A UTC timestamp column as the local date, in SQL."""
    if is_postgresql(session):
        return func.date(func.timezone(tz.key, column))
    return func.date(column, _sqlite_offset(tz))


def _sqlite_offset(tz: ZoneInfo) -> str:
    # SQLite stores UTC text; the zone's current offset (China has no daylight saving).
    offset = datetime.now(tz).utcoffset() or timedelta()
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def answer_days(session: Session, scope: Scope, calendar: WorkCalendar, level: Level,
                dimension: Dimension) -> dict[Any, tuple[int, int]]:
    """Working days from receipt (unit: assignment) to the first answer (unit: its reply),
    per key: ``(sum, answers)``."""
    return {key: (days, answers) for key, _day, days, answers in answer_days_rows(
        session, scope, calendar, level, dimension)}


def answer_days_rows(session: Session, scope: Scope, calendar: WorkCalendar, level: Level,
                     dimension: Dimension, by_day: bool = False
                     ) -> list[tuple[Any, date | None, int, int]]:
    """:func:`answer_days` as ``(key, day, sum, answers)``: per key, or per key and day of
    the answer (``by_day``; else the day is None)."""
    key = _dimension_column(level, dimension).label("key")
    if level == Level.CASES:
        stmt = (select(key, Case.received_on, Case.first_answered_on, func.count())
                .where(scope.between(Case.first_answered_on))
                .group_by(*_grouping(key, level, dimension), Case.received_on,
                          Case.first_answered_on))
    else:
        start = local_day(Assignment.assigned_at, scope.tz, session)
        end = local_day(Assignment.replied_at, scope.tz, session)
        stmt = (select(key, start, end, func.count())
                .where(scope.during(Assignment.replied_at))
                .group_by(*_grouping(key, level, dimension), start, end))
        if scope.department_id is not None:
            stmt = stmt.where(Assignment.department_id == scope.department_id)
    totals: dict[tuple[Any, date | None], list[int]] = {}
    memo: dict[tuple[date, date], int] = {}
    for row_key, received, answered, n in session.execute(stmt):
        if isinstance(received, str):
            received, answered = date.fromisoformat(received), date.fromisoformat(answered)
        days = working_days(calendar, received, answered, memo)
        total = totals.setdefault((row_key, answered if by_day else None), [0, 0])
        total[0] += days * n
        total[1] += n
    return [(k, day, t[0], t[1]) for (k, day), t in totals.items()]


# -- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One row of a report: the counts, the four rates and the average days to answer."""

    counts: dict[str, int]
    # Working days from receipt to answer: (sum over answers, answers); None: not computed.
    days: tuple[int, int] | None
    # Units never answer instantly (即时办 is the centre's): their 即时办结率 has no value.
    level: Level = Level.CASES

    @property
    def average_days(self) -> float | None:
        if not self.days or not self.days[1]:
            return None
        return round(self.days[0] / self.days[1], 2)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)

    @property
    def on_time_rate(self) -> Ratio:
        return Ratio(self["on_time"], self["due"])

    @property
    def satisfaction_rate(self) -> Ratio:
        return Ratio(self["satisfied"], self["rated"])

    @property
    def followup_rate(self) -> Ratio:
        return Ratio(self["followed_up"], self["answered"])

    @property
    def instant_rate(self) -> Ratio:
        if self.level == Level.UNITS:
            return Ratio(0, 0)
        return Ratio(self["instant"], self["received"])

    def rate(self, name: str) -> Ratio:
        return getattr(self, name)

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self["received"], "answered": self["answered"],
            **{name: self.rate(name).as_json() for name in RATE_LABELS},
            "average_working_days": self.average_days,
            "counts": dict(self.counts),
        }


def figures(session: Session, scope: Scope, calendar: WorkCalendar,
            level: Level = Level.CASES, dimension: Dimension = Dimension.TOTAL,
            families: Sequence[str] | None = None, with_days: bool = True
            ) -> dict[Any, Figures]:
    """Figures per key of ``dimension``; ``families`` / ``with_days`` skip work not shown."""
    counts = count(session, scope, level, dimension, families)
    days = answer_days(session, scope, calendar, level, dimension) if with_days else {}
    keys = list(dict.fromkeys([*counts, *days]))
    return {k: Figures(counts.get(k, dict.fromkeys(COUNT_NAMES, 0)),
                       days.get(k, (0, 0)) if with_days else None, level)
            for k in keys}


def totals(session: Session, scope: Scope, calendar: WorkCalendar,
           families: Sequence[str] | None = None, with_days: bool = True) -> Figures:
    """The centre's figures (all cases), or one unit's when ``scope.department_id`` is set."""
    if scope.department_id is not None:
        found = figures(session, scope, calendar, Level.UNITS, Dimension.UNIT, families,
                        with_days)
        return found.get(scope.department_id) or Figures(
            dict.fromkeys(COUNT_NAMES, 0), (0, 0) if with_days else None, Level.UNITS)
    found = figures(session, scope, calendar, families=families, with_days=with_days)
    return found.get("total") or Figures(dict.fromkeys(COUNT_NAMES, 0),
                                         (0, 0) if with_days else None)


def sum_figures(rows: Iterable[Figures], level: Level = Level.CASES) -> Figures:
    """The sum of disjoint rows (e.g. every area's cases: the centre's figures)."""
    merged = dict.fromkeys(COUNT_NAMES, 0)
    days: tuple[int, int] | None = (0, 0)
    for row in rows:
        for name, value in row.counts.items():
            merged[name] += value
        days = None if days is None or row.days is None else (
            days[0] + row.days[0], days[1] + row.days[1])
    return Figures(merged, days, level)


def names_in_order(level: Level) -> Sequence[str]:
    return [c.name for family in FAMILIES[level] for c in family.counts]
