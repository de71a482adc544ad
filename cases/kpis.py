"""Key performance indicators of docs/decisions.md §2, each one SQL aggregate over a period.

A period is two local dates, both included. Indicators are computed from the current state
of each case (a reworked case counts with its latest answer and due date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from cases.case_models import Case, Rating
from cases.deadlines import hotline_tz
from cases.vocab import SATISFIED_MIN_SCORE, Mode


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator``; ``value`` is ``None`` when there is nothing to measure."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> str:
        """For reports: ``"87.5%"`` or ``"—"``."""
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _ratio(session: Session, numerator: ColumnElement[bool], *where: ColumnElement[bool],
           entity: type = Case) -> Ratio:
    row = session.execute(
        select(_count_if(numerator), func.count()).select_from(entity).where(*where)
    ).one()
    return Ratio(int(row[0]), int(row[1]))


def _between(column: ColumnElement[date] | InstrumentedAttribute[date | None]
             | InstrumentedAttribute[date], start: date, end: date) -> ColumnElement[bool]:
    return and_(column >= start, column <= end)


def _local_bounds(start: date, end: date, tz: tzinfo | None) -> tuple[datetime, datetime]:
    zone = tz or hotline_tz()
    return (datetime.combine(start, time(), zone),
            datetime.combine(end + timedelta(days=1), time(), zone))


def on_time_rate(session: Session, start: date, end: date) -> Ratio:
    """按时办结率 = cases answered by their due date / cases due in the period.

    Cases due in the period: due date between ``start`` and ``end``. Answered by the due
    date: answered on (local date) or before the due date.
    """
    return _ratio(
        session,
        and_(Case.answered_on.is_not(None), Case.answered_on <= Case.due_date),
        _between(Case.due_date, start, end),
    )


def satisfaction_rate(session: Session, start: date, end: date, tz: tzinfo | None = None
                      ) -> Ratio:
    """满意率 = ratings 3–5 / all ratings (ratings given in the period)."""
    lower, upper = _local_bounds(start, end, tz)
    return _ratio(
        session,
        Rating.score >= SATISFIED_MIN_SCORE,
        Rating.rated_at >= lower, Rating.rated_at < upper,
        entity=Rating,
    )


def follow_up_rate(session: Session, start: date, end: date) -> Ratio:
    """回访率 = answered cases with a completed follow-up / answered cases.

    Answered cases: answered (local date) in the period. A completed follow-up is a rating
    of that answer (given after it), by the satisfaction callback or an operator's call.
    """
    followed = exists().where(Rating.case_id == Case.id, Rating.rated_at >= Case.answered_at)
    return _ratio(session, followed, _between(Case.answered_on, start, end))


def instant_rate(session: Session, start: date, end: date) -> Ratio:
    """即时办结率 = instant answers / cases received (cases received in the period)."""
    return _ratio(session, Case.mode == Mode.INSTANT, _between(Case.received_on, start, end))


@dataclass(frozen=True)
class CaseKpis:
    on_time: Ratio
    satisfaction: Ratio
    follow_up: Ratio
    instant: Ratio


def case_kpis(session: Session, start: date, end: date, tz: tzinfo | None = None) -> CaseKpis:
    """All four indicators for one period (e.g. a month for the bulletin)."""
    return CaseKpis(
        on_time=on_time_rate(session, start, end),
        satisfaction=satisfaction_rate(session, start, end, tz),
        follow_up=follow_up_rate(session, start, end),
        instant=instant_rate(session, start, end),
    )
