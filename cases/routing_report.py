"""How often the routing suggestions agreed with the operators' final routing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session

from cases.case_models import Assignment, Case, RoutingSuggestion
from core.ratio import Ratio


@dataclass(frozen=True)
class DepartmentHits:
    department: str
    suggested_first: int
    hits: int


@dataclass
class RoutingReport:
    """Hit rates over cases that had suggestions and were routed."""

    top: Ratio  # the first suggestion was among the departments routed to
    any: Ratio  # one of the (up to three) suggestions was
    routed_without_suggestion: int
    by_department: list[DepartmentHits] = field(default_factory=list)


def _period(stmt: Select, since: date | None, until: date | None) -> Select:
    if since is not None:
        stmt = stmt.where(Case.received_on >= since)
    if until is not None:
        stmt = stmt.where(Case.received_on <= until)
    return stmt


def routing_report(session: Session, since: date | None = None, until: date | None = None
                   ) -> RoutingReport:
    """Compute the report for cases received between ``since`` and ``until`` (inclusive)."""
    decided = RoutingSuggestion.chosen.is_not(None)
    top_hit = and_(RoutingSuggestion.rank == 1, RoutingSuggestion.chosen.is_(True))
    per_case = _period(
        select(
            RoutingSuggestion.case_id,
            func.max(case((top_hit, 1), else_=0)).label("top"),
            func.max(case((RoutingSuggestion.chosen.is_(True), 1), else_=0)).label("any"),
        )
        .join(Case, Case.id == RoutingSuggestion.case_id)
        .where(decided)
        .group_by(RoutingSuggestion.case_id),
        since, until,
    ).subquery()
    total, top, any_ = session.execute(
        select(func.count(), func.coalesce(func.sum(per_case.c.top), 0),
               func.coalesce(func.sum(per_case.c.any), 0))
    ).one()
    unsuggested = session.scalar(_period(
        select(func.count(distinct(Assignment.case_id)))
        .join(Case, Case.id == Assignment.case_id)
        .where(~exists().where(RoutingSuggestion.case_id == Assignment.case_id)),
        since, until,
    )) or 0
    rows = session.execute(_period(
        select(RoutingSuggestion.department_name, func.count(),
               func.coalesce(func.sum(case((RoutingSuggestion.chosen.is_(True), 1), else_=0)), 0))
        .join(Case, Case.id == RoutingSuggestion.case_id)
        .where(decided, RoutingSuggestion.rank == 1)
        .group_by(RoutingSuggestion.department_name)
        .order_by(func.count().desc(), RoutingSuggestion.department_name),
        since, until,
    )).tuples()
    return RoutingReport(
        top=Ratio(int(top), int(total)),
        any=Ratio(int(any_), int(total)),
        routed_without_suggestion=int(unsuggested),
        by_department=[DepartmentHits(name, int(n), int(hits)) for name, n, hits in rows],
    )


def format_report(report: RoutingReport) -> str:
    """The report as printed by ``flask cases routing-report``."""
    lines = [
        f"已分办且有建议的诉求：{report.top.denominator} 件",
        f"首选建议命中率：{report.top.percent()}（{report.top.numerator}/{report.top.denominator}）",
        f"前三建议命中率：{report.any.percent()}（{report.any.numerator}/{report.any.denominator}）",
        f"无建议的已分办诉求：{report.routed_without_suggestion} 件",
    ]
    if report.by_department:
        lines.append("按首选建议单位：")
        lines.extend(
            f"  {row.department}：建议 {row.suggested_first} 件，命中 {row.hits} 件"
            for row in report.by_department
        )
    return "\n".join(lines)
