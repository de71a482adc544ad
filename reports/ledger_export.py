"""The ledger (台账) as ``.xlsx``: one row per case, streamed in write-only mode.

Rows are read in keyset batches and written as they come, so memory stays flat whatever
the number of cases; the workbook goes to a file (a zip needs its directory at the end),
which the console then streams to the browser.

Long on purpose: the streamed rows and the sheet layout are written in one pass of write-
only openpyxl; styles and columns must match the rows they format.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from queue import Full, Queue
from typing import IO, Any, TypeVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import DateTime, func, select, type_coerce
from sqlalchemy.orm import Session

from cases import timeliness
from cases.case_models import Assignment, Case, CaseEvent, Rating
from cases.models import Department, Enterprise
from cases.vocab import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    LEDGER_LABELS,
    MODE_LABELS,
    RATING_LABELS,
    STATUS_LABELS,
    SUBCATEGORY_LABELS,
    AssignmentState,
    Ledger,
    Role,
    Status,
)
from core import spreadsheet
from core.centre import CENTRE_NAME
from core.dialect import is_postgresql
from followup.models import FOLLOWUP_STATUS_LABELS, FollowUp
from reports.filters import LedgerFilters
from reports.indicators import RATE_LABELS, Figures, Scope, tune

T = TypeVar("T")
BATCH = 2000
TITLE = "奉化区企业诉求办理台账"
CENTRE = CENTRE_NAME
# (title, width in characters, wrapped). Widths fit A4 landscape at about 75 % scale; long
# texts wrap instead of widening their column.
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("序号", 5, False), ("诉求编号", 11, False), ("受理时间", 16, False), ("渠道", 8, True),
    ("企业名称", 16, True), ("统一社会信用代码", 11, True), ("类别", 7, True),
    ("子类", 7, True), ("诉求内容", 30, True), ("办理方式", 7, True), ("承办单位", 16, True),
    ("期限", 10, False), ("答复时间", 16, False), ("是否按时", 6, True), ("满意度", 8, True),
    ("台账状态", 6, True), ("挂账原因", 14, True), ("回访结果", 8, True),
)
HEADER_ROW = 3  # title, 制表单位/制表日期, then the header
DATETIME_FORMAT = spreadsheet.DATETIME_FORMAT
DATE_FORMAT = spreadsheet.DATE_FORMAT
MERGED_LABEL = STATUS_LABELS[Status.MERGED]  # 已并单: handled under the earlier case
# What 承办单位 says about a unit that is not (or no longer) handling the case.
UNIT_MARKS: dict[str, str] = {Role.CO: "共同", AssignmentState.RETURNED: "退回",
              AssignmentState.WITHDRAWN: "改派"}


LEDGER_FIELDS = (Case.id, Case.number, Case.channel, Case.category, Case.subcategory,
                 Case.description, Case.mode, Case.status, Case.due_date, Case.answered_on,
                 Case.first_missed_due, Case.ledger_state)


def _local_times(session: Session, tz: Any) -> tuple[list[Any], Callable[[Any], Any]]:
    """``received_at`` and ``answered_at`` as naive local times, and the conversion still
    to do on a value read. PostgreSQL converts in the query; SQLite stores UTC text, which
    is converted here — per row, the largest share of reading a large ledger."""
    if is_postgresql(session):
        return [type_coerce(func.timezone(tz.key, column), DateTime()).label(name)
                for name, column in (("received_local", Case.received_at),
                                     ("answered_local", Case.answered_at))], _same
    return [Case.received_at.label("received_local"),
            Case.answered_at.label("answered_local")], lambda value: (
                value.astimezone(tz).replace(tzinfo=None) if value is not None else None)


def _same(value: Any) -> Any:
    return value


def unit_labels(assignments: Sequence[tuple[str, str, str]]) -> str:
    """承办单位: the handling units by name, then the others marked (共同 / 退回 / 改派).

    ``assignments``: (unit, role, state), latest round first. A unit is named once, by its
    strongest part: lead (handling or replied) over co-handling over returned or withdrawn
    (the centre re-routed or escalated the case away from it).
    """
    rank: dict[str, tuple[int, str]] = {}
    for name, role, state in assignments:
        if state in (AssignmentState.RETURNED, AssignmentState.WITHDRAWN):
            part = (2, UNIT_MARKS[state])
        else:
            part = (0, "") if role == Role.LEAD else (1, UNIT_MARKS[Role.CO])
        if name not in rank or part[0] < rank[name][0]:
            rank[name] = part
    ordered = sorted(rank.items(), key=lambda item: item[1][0])  # stable: latest round first
    return "、".join(f"{name}（{mark}）" if mark else name for name, (_n, mark) in ordered)


def _batch_details(session: Session, ids: Any) -> dict[str, dict[Any, Any]]:
    """Units, latest rating, hanging reason and follow-up of a batch (``ids``: a subquery,
    so no statement carries thousands of bound parameters)."""
    # Plain rows through the connection: the ORM's per-row result handling is most of a
    # large export's reading time, and these are tuples, not objects.
    execute = session.connection().execute
    units: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    parts: dict[tuple[int, int], list[Any]] = defaultdict(list)  # (case, unit): assignments
    for row in execute(
        select(Assignment.case_id, Department.name, Assignment.role, Assignment.state,
               Assignment.department_id, Assignment.id, Assignment.due_date,
               Assignment.first_missed_due)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.case_id.in_(ids))
        .order_by(Assignment.case_id, Assignment.round.desc(), Assignment.id)
    ).all():
        units[row.case_id].append((row.name, row.role, row.state))
        parts[(row.case_id, row.department_id)].append(row)
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
    for found in parts.values():
        found.sort(key=lambda a: a.id)
    return {"units": units, "ratings": ratings, "reasons": reasons, "followups": followups,
            "parts": parts}


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
            merged = case.status == Status.MERGED
            # 是否按时: the case's verdict; in a unit's own ledger, the unit's.
            verdict = (timeliness.case_verdict(case, scope.today)
                       if filters.department_id is None else timeliness.unit_case_verdict(
                           details["parts"].get((case.id, filters.department_id), []),
                           scope.today))
            rows.append((
                case.number,
                local(case.received_local),
                CHANNEL_LABELS.get(case.channel, case.channel),
                case.enterprise or "", case.uscc or "",
                CATEGORY_LABELS.get(case.category or "", ""),
                SUBCATEGORY_LABELS.get(case.category or "", {}).get(case.subcategory or "", ""),
                case.description,
                MERGED_LABEL if merged else MODE_LABELS.get(case.mode or "", "待分办"),
                unit_labels(details["units"].get(case.id, [])),
                case.due_date,
                local(case.answered_local),
                verdict.label,
                f"{RATING_LABELS[score]}（{score}）" if score else "",
                MERGED_LABEL if merged else LEDGER_LABELS.get(case.ledger_state,
                                                              case.ledger_state),
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


# -- sheets ready to print --------------------------------------------------------------------

THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
# 宋体 as in the office's own spreadsheets; reports/fonts.conf maps it where it is missing.
FONT_NAME = "宋体"
BODY_FONT = Font(name=FONT_NAME, size=10)
PAPER_A4 = "9"  # ECMA-376 paper size code
Column = tuple[str, int] | tuple[str, int, bool]


@dataclass(frozen=True)
class Heading:
    """What a printed table says above its header: title, 制表单位, 制表日期."""

    title: str
    issuer: str
    made_on: date


def _wraps(column: Column) -> bool:
    return len(column) > 2 and bool(column[2])


def _body_style(column: Column) -> dict[str, Any]:
    return {"font": BODY_FONT, "border": GRID, "alignment": Alignment(
        vertical="top", wrap_text=_wraps(column))}


def new_sheet(book: Workbook, title: str, columns: Sequence[Column],
              heading: Heading | None = None) -> tuple[WriteOnlyWorksheet, spreadsheet.RowWriter]:
    """A write-only sheet laid out for printing, with its header row written.

    Column widths set, header frozen and repeated on every printed page, A4 landscape fitted
    to one page wide, footer 第 x 页 共 y 页; ``heading`` adds a title row and a 制表单位 /
    制表日期 row above the header. Rows go through the returned writer (strings as text,
    see :mod:`core.spreadsheet`); :func:`finish_sheet` adds the autofilter at the end.
    """
    sheet = book.create_sheet(title)
    width = len(columns)
    last = get_column_letter(width)
    header_row = HEADER_ROW if heading else 1
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column[1]
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    sheet.oddFooter.center.size = 9
    if heading:
        left = get_column_letter(max(width // 2, 1))
        right = get_column_letter(max(width // 2, 1) + 1)
        sheet.row_dimensions[1].height = 30
        sheet.merged_cells.add(f"A1:{last}1")
        sheet.merged_cells.add(f"A2:{left}2")
        sheet.merged_cells.add(f"{right}2:{last}2")
        banner = spreadsheet.RowWriter(sheet, [{
            "font": Font(name=FONT_NAME, size=16, bold=True),
            "alignment": Alignment(horizontal="center", vertical="center")}])
        banner.append([heading.title])
        made_on = f"{heading.made_on.year}年{heading.made_on.month}月{heading.made_on.day}日"
        byline = spreadsheet.RowWriter(sheet, [
            {"font": BODY_FONT, "alignment": Alignment(horizontal="left")}
            if i == 0 else {"font": BODY_FONT, "alignment": Alignment(horizontal="right")}
            for i in range(max(width // 2, 1) + 1)])
        byline.append([f"制表单位：{heading.issuer}",
                       *([None] * (max(width // 2, 1) - 1)), f"制表日期：{made_on}"])
    header = spreadsheet.RowWriter(sheet, [
        {"font": Font(name=FONT_NAME, size=10, bold=True), "border": GRID, "fill": HEADER_FILL,
         "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True)}
        for _ in columns], fit=[c[1] for c in columns], first_row=header_row)
    header.append([column[0] for column in columns])
    return sheet, body_writer(sheet, columns, header_row + 1)


def body_writer(sheet: WriteOnlyWorksheet, columns: Sequence[Column], first_row: int,
                formats: dict[int, str] | None = None) -> spreadsheet.RowWriter:
    """The writer of a table's rows: grid, wrapped columns sized to their text."""
    return spreadsheet.RowWriter(
        sheet, [{**_body_style(c), **({"number_format": formats[i]} if formats and i in formats
                                      else {})} for i, c in enumerate(columns)],
        fit=[c[1] if _wraps(c) else None for c in columns], first_row=first_row)


def finish_sheet(sheet: WriteOnlyWorksheet, columns: Sequence[Column], rows: int) -> None:
    """The autofilter over the header and the ``rows`` written below it."""
    header_row = int(str(sheet.print_title_rows).split(":")[0].lstrip("$"))
    sheet.auto_filter.ref = (f"A{header_row}:{get_column_letter(len(columns))}"
                             f"{header_row + max(rows, 1)}")


INDICATOR_COLUMNS: tuple[Column, ...] = (
    ("单位", 20, True), ("受理", 6), ("即时办", 6), ("流转办", 6), ("专班商办", 6, True),
    ("研判上报", 6, True), ("答复", 6), ("应办结", 6), ("按时办结", 6, True),
    ("按时办结率", 7, True), ("当前逾期", 6, True), ("当前挂账", 6, True), ("退单", 6),
    ("延期批准", 6, True), ("延期未批准", 6, True), ("重办", 6), ("非常满意", 6, True),
    ("满意", 6), ("基本满意", 6, True), ("不满意", 6), ("非常不满意", 6, True), ("满意率", 7),
    ("回访率", 7), ("平均答复工作日", 8, True),
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


def write_indicators(book: Workbook, title: str, rows: Sequence[tuple[str, Figures]],
                     heading: Heading | None = None) -> None:
    sheet, _plain = new_sheet(book, title, INDICATOR_COLUMNS, heading)
    rates = {i: "0.0%" for i, key in enumerate(INDICATOR_NAMES, start=1) if key in RATE_LABELS}
    writer = body_writer(sheet, INDICATOR_COLUMNS, HEADER_ROW + 1 if heading else 2, rates)
    for name, figures in rows:
        writer.append(indicator_row(name, figures))
    finish_sheet(sheet, INDICATOR_COLUMNS, len(rows))


def ledger_heading(scope: Scope, unit: str | None = None) -> Heading:
    """The ledger's title and byline: the period, and the unit that draws it up."""
    return Heading(f"{TITLE}（{scope.period.label}）", unit or CENTRE, scope.today)


def write_ledger(out: str | Path | IO[bytes], rows: Iterator[tuple[Any, ...]],
                 indicators: Callable[[], Sequence[tuple[str, Figures]]],
                 heading: Heading, period_label: str) -> int:
    """Write the ledger workbook; returns the number of case rows. ``indicators()`` is
    called once the rows are written (they may be computed meanwhile)."""
    book = Workbook(write_only=True)
    sheet, writer = new_sheet(book, "台账", COLUMNS, heading)
    count = 0
    for row in rows:
        count += 1
        writer.append((count, *row))
    finish_sheet(sheet, COLUMNS, count)
    write_indicators(book, f"指标（{period_label}）"[:31], indicators(),
                     replace(heading, title=f"{TITLE}·指标（{period_label}）"))
    book.save(out)
    return count
