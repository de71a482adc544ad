"""Read-side queries of the console pages that the case domain does not provide.

Lists use keyset pagination (``(timestamp, id)``, or the queue's ``(due date, received, id)``)
so a late page costs what the first does. A page is fetched with one extra row to know
whether a next page exists. Work lists put the most urgent first: the operator queue and a
department's assignments by due date (overdue and due today on top), undated last.

Long on purpose: every query shares the keyset paging at its top (cursors, one extra row);
the sections (queue, all cases, departments, call log, notifications) are marked and each is
short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, selectinload

import casesearch.query as casesearch
from cases.case_models import Assignment, Case, CaseRecording
from cases.departments import ATTENDING_ONLY_KINDS
from cases.enterprises import enterprises_for_phone, phone_or_none
from cases.models import Department
from cases.notifications import Audience, Notification
from cases.timeliness import sql_assignment_overdue as overdue_assignment
from cases.vocab import ACTIVE_ASSIGNMENT_STATES, AssignmentState, Extension, Ledger, Status
from casesearch.query import Snippet
from followup.models import FollowUp, FollowUpStatus
from ivr.models import Call, Recording

PAGE_SIZE = 30
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (``None`` on the last page)."""

    rows: list[T]
    next_cursor: str | None


def encode_cursor(at: datetime | date, row_id: int) -> str:
    return f"{at.isoformat()}~{row_id}"


def decode_cursor(raw: str | None) -> tuple[str, int] | None:
    if not raw or "~" not in raw:
        return None
    at, _, row_id = raw.rpartition("~")
    try:
        return at, int(row_id)
    except ValueError:
        return None


def _datetime_cursor(raw: str | None) -> tuple[datetime, int] | None:
    parsed = decode_cursor(raw)
    if parsed is None:
        return None
    try:
        at = datetime.fromisoformat(parsed[0])
    except ValueError:
        return None
    return (at, parsed[1]) if at.tzinfo else None


def _key_cursor(raw: str | None, kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """A cursor of several values (``date``/``datetime``/``int``; an empty date is None)."""
    parts = (raw or "").split("~")
    if len(parts) != len(kinds):
        return None
    values: list[Any] = []
    try:
        for part, kind in zip(parts, kinds, strict=True):
            if kind is int:
                values.append(int(part))
            elif kind is date:
                values.append(date.fromisoformat(part) if part else None)
            else:
                at = datetime.fromisoformat(part)
                if at.tzinfo is None:
                    return None
                values.append(at)
    except ValueError:
        return None
    return tuple(values)


def _encode_key(*values: Any) -> str:
    return "~".join("" if v is None else (str(v) if isinstance(v, int) else v.isoformat())
                    for v in values)


def _dated_first(base: Select[Any], first: Any, rest: tuple[Any, ...],
                 key: tuple[Any, ...] | None, limit: int) -> tuple[Select[Any], Select[Any]]:
    """The two statements of a keyset page in ``ORDER BY first NULLS LAST, *rest``: the dated
    rows after ``key``, then (when they run out) the undated ones.

    Two plain range scans instead of one ``OR first IS NULL``: each follows its index in
    order on PostgreSQL and SQLite alike, so a deep page costs what the first does.
    """
    dated = base.where(first.is_not(None))
    undated = base.where(first.is_(None))
    if key is not None:
        head, *tail = key
        if head is None:
            dated = dated.where(literal(False))
        else:
            dated = dated.where(tuple_(first, *rest) > tuple_(literal(head),
                                                              *map(literal, tail)))
        if tail:
            later = tuple_(*rest) > tuple_(*map(literal, tail))
            undated = undated.where(later) if head is None else undated
    return (dated.order_by(first, *rest).limit(limit + 1),
            undated.order_by(*rest).limit(limit + 1))


def _dated_first_page(session: Session, statements: tuple[Select[Any], Select[Any]],
                      limit: int, key: Any) -> Page[Any]:
    dated, undated = statements
    rows = list(session.scalars(dated))
    if len(rows) <= limit:
        rows += list(session.scalars(undated.limit(limit + 1 - len(rows))))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode_key(*key(rows[-1])) if more and rows else None)


def _page(session: Session, stmt: Select[Any], limit: int, key: Any) -> Page[Any]:
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(*key(rows[-1])) if more and rows else None
    return Page(rows, cursor)


def local_day_range(start: date | None, end: date | None, tz: tzinfo
                    ) -> tuple[datetime | None, datetime | None]:
    """UTC bounds ``[start 00:00, end+1 00:00)`` of local calendar days."""
    low = datetime.combine(start, time(), tz) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), tz) if end else None
    return low, high


# -- search -------------------------------------------------------------------------------


@dataclass
class CaseSearchPage(Page[Case]):
    """A page of a word search: where each case matched, and cases not searchable yet."""

    snippets: dict[int, Snippet] = field(default_factory=dict)
    not_indexed: int = 0


def _digits_condition(session: Session, q: str) -> ColumnElement[bool] | None:
    """A case number (or its beginning) or a phone number of the contact or enterprise."""
    conditions: list[ColumnElement[bool]] = []
    if q.isdigit():
        conditions.append(Case.number.startswith(q, autoescape=True))
    phone = phone_or_none(q) if sum(c.isdigit() for c in q) >= 7 else None
    if phone:
        conditions.append(Case.contact_phone == phone)
        ids = [e.id for e in enterprises_for_phone(session, phone)]
        if ids:
            conditions.append(Case.enterprise_id.in_(ids))
    return or_(*conditions) if conditions else None


def _is_numberlike(q: str) -> bool:
    """Digits, maybe with the separators of a phone number: a case or phone number."""
    return bool(q) and all(c.isdigit() or c in " +-()" for c in q) and any(c.isdigit() for c in q)


# -- the operator queue -------------------------------------------------------------------


@dataclass
class QueueFilters:
    channel: str | None = None
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    q: str = ""


QUEUE_CURSOR = (date, datetime, int)


def _queue_base(filters: QueueFilters, today: date) -> Select[tuple[Case]]:
    stmt = select(Case).where(Case.status == Status.RECEIVED).options(
        selectinload(Case.enterprise)).where(*_intake(
            filters.channel, filters.category, filters.date_from, filters.date_to))
    if filters.overdue:
        stmt = stmt.where(Case.due_date < today)
    return stmt


def operator_queue_query(session: Session, filters: QueueFilters, *, today: date,
                         cursor: str | None = None, limit: int = PAGE_SIZE
                         ) -> tuple[Select[tuple[Case]], Select[tuple[Case]]]:
    """The statements behind the queue's list (``benchmarks/cases.py`` explains them); a
    case or phone number narrows it, a word search goes through :func:`_newest_first`."""
    stmt = _queue_base(filters, today)
    q = filters.q.strip()
    if q:
        condition = _digits_condition(session, q) if _is_numberlike(q) else None
        stmt = stmt.where(condition if condition is not None else literal(False))
    return _dated_first(stmt, Case.due_date, (Case.received_at, Case.id),
                        _key_cursor(cursor, QUEUE_CURSOR), limit)


def operator_queue(session: Session, filters: QueueFilters, *, today: date,
                   cursor: str | None = None, limit: int = PAGE_SIZE) -> Page[Case]:
    """Cases waiting for the centre (every channel), most urgent first: overdue, then due
    today, then by due date; the longest waiting first within a day; undated last. A word
    search lists what matches, newest first, with where each case matched (casesearch).
    """
    q = filters.q.strip()
    if q and not _is_numberlike(q):
        return _newest_first(session, _queue_base(filters, today), q, cursor, limit,
                             queued=True)
    return _dated_first_page(
        session, operator_queue_query(session, filters, today=today, cursor=cursor,
                                      limit=limit),
        limit, lambda c: (c.due_date, c.received_at, c.id))


def _intake(channel: str | None, category: str | None, date_from: date | None,
            date_to: date | None) -> list[ColumnElement[bool]]:
    """How and when cases came in (local dates of receipt, both included)."""
    where: list[ColumnElement[bool]] = []
    if channel:
        where.append(Case.channel == channel)
    if category:
        where.append(Case.category == category)
    if date_from:
        where.append(Case.received_on >= date_from)
    if date_to:
        where.append(Case.received_on <= date_to)
    return where


def _newest_first(session: Session, stmt: Select[Any], q: str, cursor: str | None,
                  limit: int, *, queued: bool = False) -> Page[Case]:
    """``stmt`` searched for ``q``, one keyset page on ``(received_at, id)``, newest first.

    Digits search case and phone numbers; anything else searches the cases' words — request
    text, transcripts, replies, enterprise and contact names, credit code (casesearch).
    """
    q = q.strip()
    after = _datetime_cursor(cursor)
    search = None if not q or _is_numberlike(q) else casesearch.parse(q)
    if search is not None:
        pending = casesearch.check_pending(session, search)
        rows = casesearch.newest(session, stmt, search, pending, after, limit + 1,
                                 queued=queued)
        more = len(rows) > limit
        rows = rows[:limit]
        return CaseSearchPage(
            rows, encode_cursor(rows[-1].received_at, rows[-1].id) if more and rows else None,
            snippets=casesearch.snippets(session, rows, search), not_indexed=pending.unchecked)
    if q:
        condition = _digits_condition(session, q)
        if condition is None:  # only fillers or punctuation: nothing can match
            return CaseSearchPage([], None)
        stmt = stmt.where(condition)
    if after:
        stmt = stmt.where(tuple_(Case.received_at, Case.id) < tuple_(*map(literal, after)))
    stmt = stmt.order_by(Case.received_at.desc(), Case.id.desc())
    return _page(session, stmt, limit, lambda c: (c.received_at, c.id))


def queue_size(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(Case).where(Case.status == Status.RECEIVED)) or 0


# -- all cases (supervisors) ----------------------------------------------------------------


@dataclass
class CaseFilters:
    status: str | None = None
    ledger_state: str | None = None
    mode: str | None = None
    department_id: int | None = None
    category: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def all_cases(session: Session, filters: CaseFilters, *, cursor: str | None = None,
              limit: int = PAGE_SIZE) -> Page[Case]:
    stmt = select(Case).options(selectinload(Case.enterprise),
                                selectinload(Case.assignments).selectinload(Assignment.department))
    if filters.status:
        stmt = stmt.where(Case.status == filters.status)
    if filters.ledger_state:
        stmt = stmt.where(Case.ledger_state == filters.ledger_state)
    if filters.mode:
        stmt = stmt.where(Case.mode == filters.mode)
    if filters.department_id:
        stmt = stmt.where(exists().where(Assignment.case_id == Case.id,
                                         Assignment.department_id == filters.department_id))
    stmt = stmt.where(*_intake(filters.channel, filters.category, filters.date_from,
                               filters.date_to))
    return _newest_first(session, stmt, filters.q, cursor, limit)


def hanging_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)
                          .where(Case.ledger_state == Ledger.HANGING)) or 0


def hanging_cases(session: Session, *, cursor: str | None = None, limit: int = PAGE_SIZE
                  ) -> Page[Case]:
    """The 挂账 list: longest hanging first."""
    stmt = select(Case).where(Case.ledger_state == Ledger.HANGING).options(
        selectinload(Case.enterprise),
        selectinload(Case.assignments).selectinload(Assignment.department))
    after = _datetime_cursor(cursor)
    if after:
        stmt = stmt.where(tuple_(Case.hanging_since, Case.id) > tuple_(*map(literal, after)))
    stmt = stmt.order_by(Case.hanging_since, Case.id)
    return _page(session, stmt, limit, lambda c: (c.hanging_since, c.id))


@dataclass
class DepartmentLoad:
    department: Department
    open: int = 0
    pending: int = 0
    overdue: int = 0
    extension_requests: int = 0


def department_loads(session: Session, today: date) -> list[DepartmentLoad]:
    """Per department: open assignments, not yet accepted, overdue, extension requests."""
    active = Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)
    overdue = overdue_assignment(today)
    rows = session.execute(
        select(
            Assignment.department_id,
            func.count(),
            func.sum(case((Assignment.state == AssignmentState.PENDING, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((Assignment.extension_status == Extension.REQUESTED, 1), else_=0)),
        ).where(active).group_by(Assignment.department_id)
    ).all()
    counts = {row[0]: row[1:] for row in rows}
    result = []
    for department in session.scalars(select(Department).order_by(Department.sort_order,
                                                                  Department.id)):
        open_, pending, late, ext = counts.get(department.id, (0, 0, 0, 0))
        result.append(DepartmentLoad(department, int(open_ or 0), int(pending or 0),
                                     int(late or 0), int(ext or 0)))
    return result


# -- departments ----------------------------------------------------------------------------


def department_assignments_query(department_id: int, *, cursor: str | None = None,
                                 limit: int = PAGE_SIZE
                                 ) -> tuple[Select[tuple[Assignment]], Select[tuple[Assignment]]]:
    """The statements behind :func:`department_assignments` (the benchmark explains them)."""
    stmt = (select(Assignment).join(Assignment.case)
            .options(selectinload(Assignment.case).selectinload(Case.enterprise))
            .where(Assignment.department_id == department_id,
                   Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)))
    return _dated_first(stmt, Assignment.due_date, (Assignment.id,),
                        _key_cursor(cursor, (date, int)), limit)


def department_assignments(session: Session, department_id: int, *,
                           cursor: str | None = None, limit: int = PAGE_SIZE
                           ) -> Page[Assignment]:
    """A department's assignments still to act on, earliest due first (undated last)."""
    return _dated_first_page(
        session, department_assignments_query(department_id, cursor=cursor, limit=limit),
        limit, lambda a: (a.due_date, a.id))


def merged_in_counts(session: Session, case_ids: Sequence[int]) -> dict[int, int]:
    """Repeat requests merged into each case (并单: cases and voicemails): new information
    the handling department should read."""
    if not case_ids:
        return {}
    counts: dict[int, int] = dict.fromkeys(case_ids, 0)
    for case_id, merged in session.execute(
            select(Case.merged_into_id, func.count()).where(Case.merged_into_id.in_(case_ids))
            .group_by(Case.merged_into_id)).tuples():
        if case_id is not None:
            counts[case_id] += int(merged)
    for case_id, linked in session.execute(
            select(CaseRecording.case_id, func.count()).where(
                CaseRecording.case_id.in_(case_ids), CaseRecording.duplicate.is_(True))
            .group_by(CaseRecording.case_id)).tuples():
        counts[case_id] += int(linked)
    return {k: v for k, v in counts.items() if v}


def department_recent(session: Session, department_id: int, since: datetime,
                      limit: int = 20) -> list[Assignment]:
    """Assignments the department finished (replied or returned) recently."""
    finished_at = func.coalesce(Assignment.replied_at, Assignment.returned_at)
    return list(session.scalars(
        select(Assignment).options(selectinload(Assignment.case))
        .where(Assignment.department_id == department_id,
               Assignment.state.in_([AssignmentState.REPLIED, AssignmentState.RETURNED]),
               finished_at >= since)
        .order_by(finished_at.desc()).limit(limit)))


def extension_requests(session: Session) -> list[Assignment]:
    """Extension requests waiting for the centre's decision."""
    return list(session.scalars(
        select(Assignment).options(selectinload(Assignment.case),
                                   selectinload(Assignment.department))
        .where(Assignment.extension_status == Extension.REQUESTED,
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES))
        .order_by(Assignment.extension_requested_at)))


def follow_ups(session: Session, *, cursor: str | None = None, limit: int = PAGE_SIZE
               ) -> Page[Case]:
    """Answered cases waiting for the follow-up call and rating, oldest answer first.

    A case that is an operator task (人工回访, listed above it on the page) is not listed
    again here.
    """
    task = exists().where(FollowUp.case_id == Case.id,
                          FollowUp.status == FollowUpStatus.OPERATOR)
    stmt = select(Case).where(Case.status == Status.ANSWERED, ~task).options(
        selectinload(Case.enterprise), selectinload(Case.replies))
    after = _datetime_cursor(cursor)
    if after:
        stmt = stmt.where(tuple_(Case.answered_at, Case.id) > tuple_(*map(literal, after)))
    stmt = stmt.order_by(Case.answered_at, Case.id)
    return _page(session, stmt, limit, lambda c: (c.answered_at, c.id))


# -- who may see what ---------------------------------------------------------------------


def department_sees_case(session: Session, department_id: int, case_id: int) -> bool:
    """A department sees a case it was ever assigned (including returned or withdrawn)."""
    return bool(session.scalar(select(exists().where(
        Assignment.case_id == case_id, Assignment.department_id == department_id))))


def cases_of_recording(session: Session, recording_id: int) -> list[int]:
    """Ids of the cases a recording is filed under (its own case and linked ones)."""
    linked = select(CaseRecording.case_id).where(CaseRecording.recording_id == recording_id)
    own = select(Case.id).where(Case.recording_id == recording_id)
    return sorted(set(session.scalars(linked)) | set(session.scalars(own)))


def cases_of_call(session: Session, call_id: int) -> list[Case]:
    linked = select(CaseRecording.case_id).where(CaseRecording.call_id == call_id)
    return list(session.scalars(
        select(Case).where(or_(Case.call_id == call_id, Case.id.in_(linked))).order_by(Case.id)))


# -- the call log ---------------------------------------------------------------------------


@dataclass
class CallFilters:
    date_from: date | None = None
    date_to: date | None = None
    caller: str = ""
    status: str | None = None
    category: str | None = None
    voicemail: bool = False


def call_log(session: Session, filters: CallFilters, tz: tzinfo, *,
             cursor: str | None = None, limit: int = PAGE_SIZE) -> Page[Call]:
    stmt = select(Call).options(selectinload(Call.recordings), selectinload(Call.events))
    low, high = local_day_range(filters.date_from, filters.date_to, tz)
    if low:
        stmt = stmt.where(Call.started_at >= low)
    if high:
        stmt = stmt.where(Call.started_at < high)
    caller = filters.caller.strip()
    if caller:
        number = phone_or_none(caller)
        stmt = stmt.where(Call.from_number == number if number
                          else Call.from_number.contains(caller, autoescape=True))
    if filters.status:
        stmt = stmt.where(Call.status == filters.status)
    if filters.category:
        stmt = stmt.where(Call.category == filters.category)
    if filters.voicemail:
        # A recorded operator leg is not a message left.
        stmt = stmt.where(exists().where(Recording.call_id == Call.id,
                                         Recording.kind == "voicemail"))
    after = _datetime_cursor(cursor)
    if after:
        stmt = stmt.where(tuple_(Call.started_at, Call.id) < tuple_(*map(literal, after)))
    stmt = stmt.order_by(Call.started_at.desc(), Call.id.desc())
    return _page(session, stmt, limit, lambda c: (c.started_at, c.id))


def active_departments(session: Session) -> list[Department]:
    """Units that can handle cases (列席监督单位 attend meetings only)."""
    return list(session.scalars(select(Department).where(
        Department.active.is_(True), Department.kind.not_in(ATTENDING_ONLY_KINDS))
        .order_by(Department.sort_order, Department.id)))


def attending_bodies(session: Session) -> list[Department]:
    """Bodies invited to attend a joint meeting (区纪委区监委, 区委作风办)."""
    return list(session.scalars(select(Department).where(
        Department.active.is_(True), Department.kind.in_(ATTENDING_ONLY_KINDS))
        .order_by(Department.sort_order, Department.id)))


def departments_by_id(session: Session, ids: Sequence[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}



# -- notifications (提醒 / 催办 / 督办 / 差评) ------------------------------------------------


def _inbox_filter(audience: Audience, department_id: int | None) -> list[ColumnElement[bool]]:
    """The rows of one inbox, as ``cases.notifications`` scopes them."""
    if audience == Audience.DEPARTMENT:
        return [Notification.audience == audience, Notification.department_id == department_id]
    return [Notification.audience == audience]


def notification_in_inbox(session: Session, notification_id: int, audience: Audience,
                          department_id: int | None = None) -> Notification | None:
    """The notification if it belongs to that inbox (another department's is None)."""
    return session.scalars(select(Notification).where(
        Notification.id == notification_id, *_inbox_filter(audience, department_id))
    ).one_or_none()


def mark_all_read(session: Session, audience: Audience, *, reader: str, now: datetime,
                  department_id: int | None = None) -> int:
    """Mark every unread notification of one inbox read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(*_inbox_filter(audience, department_id), Notification.read_at.is_(None))
        .values(read_at=now, read_by=reader[:100])
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
