"""Routing suggestions stored with a case, and the operator's final routing next to them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.case_models import Assignment, Case, RoutingSuggestion
from cases.models import Department
from cases.town_suggestions import TOWN_SOURCE, town_department
from cases.vocab import AssignmentState
from routing.rules import CATEGORY_BONUS, Suggestion, suggest, suggest_from_menu

# The operator sees the best few; the report measures the first and any of these.
MAX_SUGGESTIONS = 3
# ``RoutingSuggestion.source`` of a suggestion that rests on the caller's menu choice alone.
MENU_SOURCE = "menu"


def store_suggestions(
    session: Session, case: Case, text: str, *, source: str, now: datetime
) -> list[RoutingSuggestion]:
    """Replace ``case``'s suggestions with those computed from ``text``."""
    session.execute(delete(RoutingSuggestion).where(RoutingSuggestion.case_id == case.id))
    found = suggest(text, category=case.category,
                    subcategory=case.subcategory)[:MAX_SUGGESTIONS]
    if not found and case.category:
        # No words to go on (yet): the caller's menu choice is evidence on its own.
        found = suggest_from_menu(case.category, case.subcategory)[:MAX_SUGGESTIONS]
        source = MENU_SOURCE
    sources = [source] * len(found)
    town = case.enterprise.town if case.enterprise is not None else None
    place = town_department(session, town)
    if place is not None and all(s.department != place.name for s in found):
        # After the matter-based ones: the place is evidence of who is near, not of the matter.
        found.append(Suggestion(place.name, CATEGORY_BONUS, [town or place.name],
                                case.category or "other", case.subcategory))
        sources.append(TOWN_SOURCE)
    names = [s.department for s in found]
    ids: dict[str, int] = {}
    if names:
        found_ids = session.execute(
            select(Department.name, Department.id).where(Department.name.in_(names))
        )
        ids = {name: id_ for name, id_ in found_ids}
    rows = [
        RoutingSuggestion(
            case_id=case.id,
            rank=rank,
            department_id=ids.get(s.department),
            department_name=s.department,
            score=s.score,
            keywords=list(s.keywords),
            category=s.category,
            subcategory=s.subcategory,
            source=row_source,
            created_at=now,
        )
        for rank, (s, row_source) in enumerate(zip(found, sources, strict=True), start=1)
    ]
    session.add_all(rows)
    session.flush()
    # The bulk delete bypassed the ORM: reload the collection on next access.
    session.expire(case, ["suggestions"])
    routed = current_routing(session, case.id)
    if routed:
        mark_final_routing(session, case.id, routed)
    return rows


def current_routing(session: Session, case_id: int) -> set[int]:
    """Departments the case is routed to now (not returned, not withdrawn)."""
    return set(session.scalars(
        select(Assignment.department_id).where(
            Assignment.case_id == case_id,
            Assignment.state.not_in([AssignmentState.RETURNED, AssignmentState.WITHDRAWN]),
        )
    ))


def mark_final_routing(session: Session, case_id: int, department_ids: Collection[int]) -> None:
    """Record which suggestions the operator's routing agreed with."""
    for row in session.scalars(
        select(RoutingSuggestion).where(RoutingSuggestion.case_id == case_id)
    ):
        row.chosen = row.department_id in department_ids
