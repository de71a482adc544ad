"""The ledger (台账) as ``.xlsx``: one row per case, streamed in write-only mode.

Rows are read in keyset batches and written as they come, so memory stays flat whatever
the number of cases; the workbook goes to a file (a zip needs its directory at the end),
which the console then streams to the browser.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from queue import Full, Queue
from typing import IO, Any, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import DateTime, func, select, type_coerce
from sqlalchemy.orm import Session

from cases.case_models import Assignment, Case, CaseEvent, Rating
from cases.models import Department, Enterprise
from cases.vocab import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    LEDGER_LABELS,
    MODE_LABELS,
    RATING_LABELS,
    SUBCATEGORY_LABELS,
    Ledger,
    Role,
    Status,
)
from followup.models import FOLLOWUP_STATUS_LABELS, FollowUp
from reports.filters import LedgerFilters
from reports.indicators import RATE_LABELS, Figures, Scope, tune

T = TypeVar("T")
BATCH = 2000
COLUMNS: tuple[tuple[str, int], ...] = (
    ("诉求编号", 13), ("受理时间", 17), ("渠道", 14), ("企业名称", 28), ("统一社会信用代码", 21),
    ("类别", 10), ("子类", 10), ("诉求内容", 50), ("办理方式", 10), ("承办单位", 30),
    ("期限", 11), ("答复时间", 17), ("是否按时", 9), ("满意度", 10), ("台账状态", 9),
    ("挂账原因", 30), ("回访结果", 14),
)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class LedgerRow:
    values: tuple[Any, ...]


LEDGER_FIELDS = (Case.id, Case.number, Case.channel, Case.category, Case.subcategory,
                 Case.description, Case.mode, Case.status, Case.due_date, Case.answered_on,
                 Case.first_missed_due, Case.ledger_state)


def _local_times(session: Session, tz: Any) -> tuple[list[Any], Callable[[Any], Any]]:
    """``received_at`` and ``answered_at`` as naive local times, and the conversion still
    to do on a value read. PostgreSQL converts in the query; SQLite stores UTC text, which
    is converted here — per row, the largest share of reading a large ledger."""
    if session.get_bind().dialect.name == "postgresql":
        return [type_coerce(func.timezone(tz.key, column), DateTime()).label(name)
                for name, column in (("received_local", Case.received_at),
                                     ("answered_local", Case.answered_at))], _same
    return [Case.received_at.label("received_local"),
            Case.answered_at.label("answered_local")], lambda value: (
                value.astimezone(tz).replace(tzinfo=None) if value is not None else None)


def _same(value: Any) -> Any:
    return value


def _timeliness(case: Any, today: date) -> str:
    """是 / 否 / 未到期, by the definition of 按时办结率 (docs/reports.md)."""
    if case.due_date is None and case.first_missed_due is None:
        return "—"
    late = (case.first_missed_due is not None
            or (case.answered_on is not None and case.due_date is not None
                and case.answered_on > case.due_date)
            or (case.status == Status.HANDLING and case.due_date is not None
                and case.due_date < today))
    if late:
        return "否"
    return "是" if case.answered_on is not None else "未到期"


def _batch_details(session: Session, ids: Any) -> dict[str, dict[int, Any]]:
    """Units, latest rating, hanging reason and follow-up of a batch (``ids``: a subquery,
    so no statement carries thousands of bound parameters)."""
    # Plain rows through the connection: the ORM's per-row result handling is most of a
    # large export's reading time, and these are tuples, not objects.
    execute = session.connection().execute
    units: dict[int, list[str]] = defaultdict(list)
    for case_id, name, role in execute(
        select(Assignment.case_id, Department.name, Assignment.role)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.case_id.in_(ids))
        .order_by(Assignment.case_id, Assignment.round.desc(), Assignment.id)
    ).all():
        label = name if role == Role.LEAD else f"{name}（共同）"
        if label not in units[case_id]:
            units[case_id].append(label)
    # Later rows overwrite earlier ones: the latest rating, reason and follow-up win.
    ratings: dict[int, int] = {case_id: score for case_id, score in execute(
        select(Rating.case_id, Rating.score).where(Rating.case_id.in_(ids)).order_by(Rating.id)
    ).all()}
    reasons: dict[int, str] = {case_id: note for case_id, note in execute(
        select(CaseEvent.case_id, CaseEvent.note)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.action == "ledger_hanging")
        .order_by(CaseEvent.id)).all()}
    followups: dict[int, str] = {case_id: status for case_id, status in execute(
        select(FollowUp.case_id, FollowUp.status).where(FollowUp.case_id.in_(ids))
        .order_by(FollowUp.round)).all()}
    return {"units": units, "ratings": ratings, "reasons": reasons, "followups": followups}


def ledger_rows(session: Session, scope: Scope, filters: LedgerFilters
                ) -> Iterator[tuple[Any, ...]]:
    """The ledger's rows, oldest first."""
    for batch in ledger_batches(session, scope, filters):
        yield from batch


def ledger_batches(session: Session, scope: Scope, filters: LedgerFilters
                   ) -> Iterator[list[tuple[Any, ...]]]:
    """The ledger's rows, ``BATCH`` cases at a time (keyset on id)."""
    tune(session)
    last_id = 0
    times, local = _local_times(session, scope.tz)
    where = filters.conditions(scope)
    while True:
        batch = session.connection().execute(
            select(*LEDGER_FIELDS, *times, Enterprise.name.label("enterprise"),
                   Enterprise.uscc.label("uscc"))
            .outerjoin(Enterprise, Enterprise.id == Case.enterprise_id)
            .where(*where, Case.id > last_id).order_by(Case.id).limit(BATCH)
        ).all()
        if not batch:
            return
        first, last = last_id, batch[-1].id
        details = _batch_details(session, select(Case.id).where(
            *where, Case.id > first, Case.id <= last).scalar_subquery())
        rows = []
        for case in batch:
            score = details["ratings"].get(case.id)
            followup = details["followups"].get(case.id)
            rows.append((
                case.number,
                local(case.received_local),
                CHANNEL_LABELS.get(case.channel, case.channel),
                case.enterprise or "", case.uscc or "",
                CATEGORY_LABELS.get(case.category or "", ""),
                SUBCATEGORY_LABELS.get(case.category or "", {}).get(case.subcategory or "", ""),
                case.description,
                MODE_LABELS.get(case.mode or "", "待分办"),
                "、".join(details["units"].get(case.id, [])),
                case.due_date,
                local(case.answered_local),
                _timeliness(case, scope.today),
                f"{RATING_LABELS[score]}（{score}）" if score else "",
                LEDGER_LABELS.get(case.ledger_state, case.ledger_state),
                details["reasons"].get(case.id, "") if case.ledger_state == Ledger.HANGING else "",
                FOLLOWUP_STATUS_LABELS.get(followup, "") if followup else "",
            ))
        yield rows
        last_id = last


def prefetched(batches: Iterator[list[T]], depth: int = 2) -> Iterator[T]:
    """The rows of ``batches``, read ahead by a thread: the database works while rows are
    written. The reader is the only user of its session until the batches run out; an error
    in it is raised here, and a writer that stops early stops the reader."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not hand_over(batch):
                    return
            hand_over(done)
        except BaseException as exc:  # raised in the writer's thread
            hand_over(exc)

    reader = threading.Thread(target=read, name="ledger-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


def _header(sheet: WriteOnlyWorksheet, titles: Sequence[str]) -> None:
    bold = Font(bold=True)
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        cells.append(cell)
    sheet.append(cells)


def typed_row(sheet: WriteOnlyWorksheet, row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATETIME_FORMAT
            out.append(cell)
        elif isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATE_FORMAT
            out.append(cell)
        else:
            out.append(value)
    return out


def new_sheet(book: Workbook, title: str, columns: Sequence[tuple[str, int]]
              ) -> WriteOnlyWorksheet:
    """A write-only sheet with a frozen, bold header row and column widths."""
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, (_title, width) in enumerate(columns, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    _header(sheet, [t for t, _ in columns])
    return sheet


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


INDICATOR_COLUMNS: tuple[tuple[str, int], ...] = (
    ("单位", 26), ("受理", 8), ("即时办", 8), ("流转办", 8), ("专班商办", 9), ("研判上报", 9),
    ("答复", 8), ("应办结", 8), ("按时办结", 9), ("按时办结率", 11), ("当前逾期", 9),
    ("当前挂账", 9), ("退单", 8), ("延期批准", 9), ("延期未批准", 10), ("重办", 8),
    ("非常满意", 9), ("满意", 8), ("基本满意", 9), ("不满意", 8), ("非常不满意", 10),
    ("满意率", 9), ("回访率", 9), ("平均答复工作日", 14),
)
INDICATOR_NAMES = ("received", "instant", "routed", "joint", "escalated", "answered", "due",
                   "on_time", "on_time_rate", "overdue_now", "hanging_now", "returned",
                   "extension_approved", "extension_rejected", "reworked", "score_5", "score_4",
                   "score_3", "score_2", "score_1", "satisfaction_rate", "followup_rate",
                   "average_days")


def indicator_row(name: str, figures: Figures) -> list[Any]:
    """One row of the indicators sheet: counts as numbers, rates as fractions (0.0%)."""
    row: list[Any] = [name]
    for key in INDICATOR_NAMES:
        if key in RATE_LABELS:
            row.append(figures.rate(key).value)
        elif key == "average_days":
            row.append(figures.average_days)
        else:
            row.append(figures[key])
    return row


def write_indicators(book: Workbook, title: str, rows: Sequence[tuple[str, Figures]]) -> None:
    sheet = new_sheet(book, title, INDICATOR_COLUMNS)
    rate_columns = {i for i, key in enumerate(INDICATOR_NAMES, start=1) if key in RATE_LABELS}
    for name, figures in rows:
        cells = []
        for index, value in enumerate(indicator_row(name, figures)):
            cell = WriteOnlyCell(sheet, value=value)
            if index in rate_columns:
                cell.number_format = "0.0%"
            cells.append(cell)
        sheet.append(cells)


def write_ledger(out: str | Path | IO[bytes], rows: Iterator[tuple[Any, ...]],
                 indicators: Callable[[], Sequence[tuple[str, Figures]]],
                 period_label: str) -> int:
    """Write the ledger workbook; returns the number of case rows. ``indicators()`` is
    called once the rows are written (they may be computed meanwhile)."""
    book = Workbook(write_only=True)
    sheet = new_sheet(book, "台账", COLUMNS)
    count = 0
    for row in rows:
        sheet.append(typed_row(sheet, row))
        count += 1
    write_indicators(book, f"指标（{period_label}）"[:31], indicators())
    book.save(out)
    return count
