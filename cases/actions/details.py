"""审核 / 更正: an operator reviews or corrects what a case says, with the intake's field rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.actions.common import load_case
from cases.actors import CENTRE, Actor, require_kind
from cases.audit import changed, record_event, snapshot
from cases.case_models import Case
from cases.fields import (
    FieldErrors,
    category_errors,
    clean_contact_name,
    clean_contact_phone,
    clean_description,
)
from cases.models import Enterprise
from cases.states import check
from cases.suggestions import store_suggestions


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
DETAIL_FIELDS = ("description", "category", "subcategory", "enterprise_id", "contact_name",
                 "contact_phone")


def check_update_details(session: Session, case_id: int, *, actor: Actor,
                         description: Any = UNSET, category: Any = UNSET,
                         subcategory: Any = UNSET, enterprise_id: Any = UNSET,
                         contact_name: Any = UNSET, contact_phone: Any = UNSET
                         ) -> tuple[Case, dict[str, Any]]:
    """The case and the cleaned values of the fields given, if every one is valid (every
    problem at once otherwise)."""
    require_kind(actor, CENTRE, "修改诉求信息")
    case = load_case(session, case_id)
    check(case, "update_details")
    updates: dict[str, Any] = {}
    errors = FieldErrors()
    if description is not UNSET:
        updates["description"] = errors.clean(lambda: clean_description(description))
    if category is not UNSET or subcategory is not UNSET:
        new_category = case.category if category is UNSET else category
        if subcategory is UNSET:
            new_sub = None if category is not UNSET else case.subcategory
        else:
            new_sub = subcategory
        errors.add(category_errors(new_category, new_sub))
        updates["category"], updates["subcategory"] = new_category, new_sub
    if enterprise_id is not UNSET:
        if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
            errors.add({"enterprise_id": "企业不存在"})
        updates["enterprise_id"] = enterprise_id
    if contact_name is not UNSET:
        updates["contact_name"] = errors.clean(lambda: clean_contact_name(contact_name))
    if contact_phone is not UNSET:
        updates["contact_phone"] = errors.clean(lambda: clean_contact_phone(contact_phone))
    errors.raise_any()
    return case, updates


def do_update_details(session: Session, case_id: int, *, actor: Actor, now: datetime,
                      description: Any = UNSET, category: Any = UNSET, subcategory: Any = UNSET,
                      enterprise_id: Any = UNSET, contact_name: Any = UNSET,
                      contact_phone: Any = UNSET) -> Case:
    """An operator reviews (审核) or corrects a case; clears the 待审核 mark.

    Only the arguments given change; a new category without a subcategory clears the old
    subcategory. A changed description (e.g. a corrected transcript) recomputes the routing
    suggestions. Nothing changes if any value is invalid.
    """
    case, updates = check_update_details(
        session, case_id, actor=actor, description=description, category=category,
        subcategory=subcategory, enterprise_id=enterprise_id, contact_name=contact_name,
        contact_phone=contact_phone)
    before = snapshot(case, (*DETAIL_FIELDS, "needs_review"))
    for name, value in updates.items():
        setattr(case, name, value)
    case.needs_review = False
    old, new = changed(before, snapshot(case, (*DETAIL_FIELDS, "needs_review")))
    record_event(session, case, actor=actor, action="details_updated", now=now, before=old,
                 after=new)
    if "description" in new:
        store_suggestions(session, case, case.description, source="description", now=now)
    return case
