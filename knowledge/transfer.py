"""Import and export of articles: UTF-8 CSV or xlsx with one fixed header row.

``标题,问题,答复,电话答复,类别,子类,承办单位,政策依据,生效日期,失效日期`` — 问题 holds the
phrasings separated by ``|``; dates are ``YYYY-MM-DD`` or empty; an empty 承办单位 means the
centre; 政策依据 is the document number, optionally followed by its link. Every row is checked
before anything is written: one bad row and nothing is imported. A row whose title matches an
existing article updates it (a new version).

Exports are written as text cells: a value a spreadsheet would read as a formula (``=…``,
``+…``, ``-…``, ``@…``) is neutralised by :mod:`core.spreadsheet` — in xlsx with Excel's quote
prefix (the value shows unchanged), in CSV with a leading apostrophe that the import takes off
again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.errors import InvalidInput
from cases.importer import ImportFileError, RowError, _xlsx_rows
from cases.models import Department
from cases.routing import CATEGORIES, SUBCATEGORIES
from core.centre import CENTRE_NAME
from core.spreadsheet import csv_text, csv_untext, xlsx_text
from knowledge.models import Article, ArticleState
from knowledge.service import ArticleInput, create_article, transition, update_article, validate

HEADER = ("标题", "问题", "答复", "电话答复", "类别", "子类", "承办单位", "政策依据", "生效日期",
          "失效日期")
FIELD_HEADINGS = {"title": "标题", "questions": "问题", "answer": "答复",
                  "spoken_answer": "电话答复", "category": "类别", "subcategory": "子类",
                  "department_id": "承办单位", "source_document": "政策依据",
                  "source_url": "政策依据", "valid_from": "生效日期", "valid_until": "失效日期"}
QUESTION_SEPARATOR = "|"


@dataclass
class ImportResult:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    kept: bool = False


def _csv_table(path: Path) -> list[list[Any]]:
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("CSV文件须为UTF-8编码") from None
    # newline="" keeps the line breaks inside quoted answers part of their cell.
    return [[csv_untext(cell) for cell in row]
            for row in csv.reader(io.StringIO(content, newline=""))]


def read_table(path: Path) -> list[list[Any]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _csv_table(path)
    elif suffix == ".xlsx":
        table = _xlsx_rows(path)
    else:
        raise ImportFileError("只支持 .xlsx 或 .csv 文件")
    if not table:
        raise ImportFileError("文件为空")
    header = tuple(str(h or "").strip() for h in table[0])
    while header and not header[-1]:
        header = header[:-1]
    if header != HEADER:
        raise ImportFileError("表头应为：" + ",".join(HEADER))
    return table[1:]


def _cell(row: list[Any], index: int) -> str:
    value = row[index] if index < len(row) else None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _code(value: str, labels: dict[str, str], what: str) -> str | None:
    if not value:
        return None
    if value in labels:
        return value
    for code, label in labels.items():
        if label == value:
            return code
    raise ValueError(f"未知的{what}“{value}”，可选：" + "、".join(labels.values()))


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("日期格式应为 YYYY-MM-DD") from None


def _source(value: str) -> tuple[str, str]:
    """“奉政办发〔2021〕35号 https://…” → (document, link)."""
    parts = value.split()
    links = [p for p in parts if p.startswith(("http://", "https://"))]
    return " ".join(p for p in parts if p not in links), (links[0] if links else "")


def _parse_row(row: list[Any], units: dict[str, int]) -> tuple[ArticleInput, list[tuple[str, str]]]:
    cells = {heading: _cell(row, i) for i, heading in enumerate(HEADER)}
    errors: list[tuple[str, str]] = []
    data = ArticleInput(title=cells["标题"], answer=cells["答复"],
                        questions=[q for q in cells["问题"].split(QUESTION_SEPARATOR)],
                        spoken_answer=cells["电话答复"])
    data.source_document, data.source_url = _source(cells["政策依据"])
    try:
        data.category = _code(cells["类别"], CATEGORIES, "类别")
    except ValueError as exc:
        errors.append(("类别", str(exc)))
    try:
        data.subcategory = _code(cells["子类"], SUBCATEGORIES.get(data.category or "", {}), "子类")
    except ValueError as exc:
        errors.append(("子类", str(exc)))
    unit = cells["承办单位"]
    if unit and unit not in (CENTRE_NAME, "综合服务中心", "中心"):
        if unit in units:
            data.department_id = units[unit]
        else:
            errors.append(("承办单位", f"没有名为“{unit}”的单位"))
    for heading, name in (("生效日期", "valid_from"), ("失效日期", "valid_until")):
        try:
            setattr(data, name, _day(cells[heading]))
        except ValueError as exc:
            errors.append((heading, str(exc)))
    return data, errors


def import_articles(session: Session, path: Path, *, actor: Actor, now: datetime,
                    draft: bool = False, dry_run: bool = False) -> ImportResult:
    """Check every row, then (unless ``dry_run`` or any error) create or update them all."""
    table = read_table(path)
    units = dict(session.execute(select(Department.name, Department.id)).tuples().all())
    existing = {a.title: a for a in session.scalars(select(Article))}
    result = ImportResult()
    parsed: list[ArticleInput] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(table, start=2):
        if not any(_cell(row, i) for i in range(len(HEADER))):
            continue
        result.rows += 1
        data, problems = _parse_row(row, units)
        result.errors.extend(RowError(number, h, m) for h, m in problems)
        try:
            data = validate(session, data)
        except InvalidInput as exc:
            result.errors.extend(RowError(number, FIELD_HEADINGS.get(k, k), m)
                                 for k, m in exc.fields.items())
            continue
        if data.title in seen:
            result.errors.append(RowError(number, "标题", f"与第{seen[data.title]}行标题重复"))
        seen.setdefault(data.title, number)
        parsed.append(data)
    if result.errors or dry_run:
        return result
    for data in parsed:
        article = existing.get(data.title)
        if article is None:
            create_article(session, data, actor=actor, now=now, publish=not draft,
                           action="imported")
            result.created.append(data.title)
            continue
        update_article(session, article.id, data, actor=actor, now=now, note="导入更新")
        if not draft and article.state != ArticleState.PUBLISHED:
            transition(session, article.id, "published", actor=actor, now=now)
        result.updated.append(data.title)
    result.kept = True
    return result


def export_rows(session: Session, *, include_all: bool = False) -> list[list[str]]:
    """The header and one row per article (published only unless ``include_all``)."""
    query = select(Article).order_by(Article.id)
    if not include_all:
        query = query.where(Article.state == ArticleState.PUBLISHED)
    rows = [list(HEADER)]
    for a in session.scalars(query):
        rows.append([
            a.title, QUESTION_SEPARATOR.join(a.questions), a.answer, a.spoken_answer,
            CATEGORIES.get(a.category or "", ""),
            SUBCATEGORIES.get(a.category or "", {}).get(a.subcategory or "", ""),
            a.department.name if a.department else "",
            " ".join(p for p in (a.source_document, a.source_url) if p),
            a.valid_from.isoformat() if a.valid_from else "",
            a.valid_until.isoformat() if a.valid_until else "",
        ])
    return rows


def write_export(rows: list[list[str]], path: Path) -> None:
    """CSV (UTF-8 with a BOM, which Excel needs to read it as UTF-8) or xlsx by suffix."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in rows:
            sheet.append([xlsx_text(sheet, value) for value in row])
        book.save(path)
        return
    if path.suffix.lower() != ".csv":
        raise ImportFileError("只支持导出为 .xlsx 或 .csv 文件")
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([csv_text(value) for value in row] for row in rows)
