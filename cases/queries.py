"""Read-side queries for the IVR and the API; each one is index-backed.

The console's page queries (operator queue, department view) live in ``console.queries``;
``benchmarks/cases.py`` measures them and these on a million cases.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from cases.case_models import Assignment, Case
from cases.enterprises import enterprises_for_phone, phone_or_none
from cases.models import EnterprisePhone
from cases.vocab import OPEN_STATUSES, Status


def case_lookup_query(number: str) -> Select[tuple[Case]]:
    """The statement behind :func:`case_by_number`."""
    return select(Case).where(Case.number == number.strip()).options(
        selectinload(Case.assignments).selectinload(Assignment.department),
        selectinload(Case.replies),
    )


def case_by_number(session: Session, number: str) -> Case | None:
    """The case with this number, with its assignments and replies loaded."""
    return session.scalars(case_lookup_query(number)).one_or_none()


def case_for_lookup(session: Session, case_id: int) -> Case | None:
    """The case with this id, loaded like :func:`case_by_number` (a merged case's target)."""
    return session.scalars(select(Case).where(Case.id == case_id).options(
        selectinload(Case.assignments).selectinload(Assignment.department),
        selectinload(Case.replies))).one_or_none()


def lookup_owner(session: Session, number: str) -> tuple[str | None, int | None] | None:
    """(contact phone, enterprise id) of the case with this number, or None: one light
    query whose cost does not depend on whether the case exists (key 9's first step)."""
    row = session.execute(select(Case.contact_phone, Case.enterprise_id).where(
        Case.number == number.strip())).one_or_none()
    return (row.contact_phone, row.enterprise_id) if row is not None else None


def caller_enterprise_ids(session: Session, phone: str | None) -> set[int]:
    """Ids of the enterprises registered with ``phone`` (any format)."""
    return {e.id for e in enterprises_for_phone(session, phone)}


def _caller_filter(session: Session, number: str) -> ColumnElement[bool]:
    enterprise_ids = [e.id for e in enterprises_for_phone(session, number)]
    who = Case.contact_phone == number
    return or_(who, Case.enterprise_id.in_(enterprise_ids)) if enterprise_ids else who


def unsettled_cases_for_caller(session: Session, phone: str | None, *, limit: int = 3
                               ) -> tuple[list[Case], int]:
    """Key 9 from the filing phone: the caller's newest cases not yet closed (with their
    units and replies) and how many there are in all."""
    number = phone_or_none(phone)
    if number is None:
        return [], 0
    # A merged case (并单) is heard under the earlier case's number, not on its own.
    where = (_caller_filter(session, number), Case.status.not_in((Status.CLOSED, Status.MERGED)))
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    cases = list(session.scalars(
        select(Case).where(*where).order_by(Case.received_at.desc(), Case.id.desc())
        .limit(limit).options(
            selectinload(Case.assignments).selectinload(Assignment.department),
            selectinload(Case.replies))))
    return cases, total


def open_cases_for_caller(session: Session, phone: str | None) -> list[Case]:
    """Open cases of the caller: filed with this contact number or for an enterprise using it."""
    number = phone_or_none(phone)
    if number is None:
        return []
    return list(session.scalars(
        select(Case).where(_caller_filter(session, number), Case.status.in_(OPEN_STATUSES))
        .order_by(Case.received_at.desc())
    ))


def count_open_cases_for_caller(session: Session | Connection, phone: str | None) -> int:
    """How many open cases :func:`open_cases_for_caller` would return, in one statement."""
    number = phone_or_none(phone)
    if number is None:
        return 0
    return session.scalar(_open_cases_count(), {"phone": number}) or 0


@functools.cache
def _open_cases_count() -> Select[tuple[int]]:
    """Built once with a bound phone (it runs at every call's greeting).

    A union of the two index-backed lookups (contact number; enterprises using the number)
    rather than one ``OR``, which PostgreSQL could only answer by scanning all cases.
    """
    phone: BindParameter[str] = bindparam("phone")
    is_open = Case.status.in_(OPEN_STATUSES)
    by_contact = select(Case.id).where(Case.contact_phone == phone, is_open)
    by_enterprise = (
        select(Case.id)
        .join(EnterprisePhone, EnterprisePhone.enterprise_id == Case.enterprise_id)
        .where(EnterprisePhone.phone == phone, is_open)
    )
    # UNION (not ALL): a case filed with the number for an enterprise using it counts once.
    ids = union(by_contact, by_enterprise).subquery()
    return select(func.count()).select_from(ids)


def count_by_status(session: Session) -> dict[str, int]:
    """How many cases are in each status (dashboard)."""
    rows = session.execute(select(Case.status, func.count()).group_by(Case.status))
    # Not dict(result): a Result has .keys() (column names), which dict() would misuse.
    return {status: count for status, count in rows}
