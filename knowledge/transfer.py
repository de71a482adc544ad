"""Import and export of articles: UTF-8 CSV or xlsx with one fixed header row.

``标题,问题,答复,电话答复,类别,子类,承办单位,政策依据,生效日期,失效日期`` — 问题 holds the
phrasings separated by ``|``; dates are ``YYYY-MM-DD`` or empty; an empty 承办单位 means the
centre; 政策依据 is the document number, optionally followed by its link. 类别 and 子类 take the
notice's own words too (电, 土地, 厂房, 排污 … for 水电气, 土地厂房, 道路排污; 子类 alone names
its 类别 when only one has it). Every row is checked and reported on its own: good rows are
imported, a bad row is listed with its errors and skipped (``strict``: nothing is imported
while any row is bad). A row whose title matches an existing article updates it (a new
version).

Exports are written as text cells: a value a spreadsheet would read as a formula (``=…``,
``+…``, ``-…``, ``@…``) is neutralised by :mod:`core.spreadsheet` — in xlsx with Excel's quote
prefix (the value shows unchanged), in CSV with a leading apostrophe that the import takes off
again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.errors import InvalidInput
from cases.models import Department
from core.centre import CENTRE_NAME
from core.spreadsheet import csv_text, csv_untext, xlsx_text
from importing.rows import ImportFileError, RowError, xlsx_rows
from knowledge.models import Article, ArticleState
from knowledge.service import ArticleInput, create_article, transition, update_article, validate
from routing.rules import CATEGORIES, SUBCATEGORIES

HEADER = ("标题", "问题", "答复", "电话答复", "类别", "子类", "承办单位", "政策依据", "生效日期",
          "失效日期")
FIELD_HEADINGS = {"title": "标题", "questions": "问题", "answer": "答复",
                  "spoken_answer": "电话答复", "category": "类别", "subcategory": "子类",
                  "department_id": "承办单位", "source_document": "政策依据",
                  "source_url": "政策依据", "valid_from": "生效日期", "valid_until": "失效日期"}
QUESTION_SEPARATOR = "|"


# The notice's own words for the service areas and sub-areas (奉政办发〔2021〕35号 lists 要素保障
# as 土地、厂房、水、电、气、道路、排污、人才、融资、市场), and short forms people write.
CATEGORY_ALIASES: dict[str, str] = {
    "要素": "factor", "要素保障类": "factor", "政策": "policy", "政策咨询类": "policy",
    "专项": "special", "专项服务类": "special", "其它": "other", "其他问题": "other",
}
SUBCATEGORY_ALIASES: dict[str, dict[str, str]] = {
    "factor": {
        "土地": "land", "厂房": "land", "用地": "land", "土地厂房": "land",
        "水": "utilities", "电": "utilities", "气": "utilities", "用水": "utilities",
        "用电": "utilities", "用气": "utilities", "供水": "utilities", "供电": "utilities",
        "供气": "utilities", "水电": "utilities", "燃气": "utilities", "天然气": "utilities",
        "道路": "roads", "排污": "roads", "污水": "roads", "交通": "roads",
        "用工": "talent", "招工": "talent",
        "贷款": "finance", "金融": "finance",
    },
    "policy": {
        "产业政策": "industry", "人才政策": "talent_policy", "减负": "cost_relief",
        "降本减负政策": "cost_relief",
    },
    "special": {
        "技术": "tech", "科技": "tech", "品牌": "brand", "商标": "brand", "会计": "accounting",
        "财务": "accounting", "法律": "legal", "法务": "legal", "公共服务": "public_service",
    },
}
# 水、电、气 / 土地、厂房: one sub-area written as several of its words.
_ALIAS_SEPARATORS = re.compile(r"[、,，/／;；\s]+")


ACTION_LABELS = {"created": "新建", "updated": "更新", "unchanged": "未变", "skipped": "未导入",
                 "checked": "可导入"}


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one row: 新建 / 更新 / 未变 / 未导入, with notes or errors."""

    row: int
    title: str
    action: str  # created | updated | unchanged | skipped | checked
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        label = ACTION_LABELS[self.action]
        title = f"《{self.title}》" if self.title else "（无标题）"
        text = f"第{self.row}行 {label} {title}"
        if self.notes:
            text += "（" + "；".join(self.notes) + "）"
        return text + "".join(f"\n    {e.field}：{e.message}" for e in self.errors)


@dataclass
class ImportResult:
    rows: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)
    kept: bool = False

    @property
    def errors(self) -> list[RowError]:
        return [e for o in self.outcomes for e in o.errors]

    def titles(self, action: str) -> list[str]:
        return [o.title for o in self.outcomes if o.action == action]

    @property
    def created(self) -> list[str]:
        return self.titles("created")

    @property
    def updated(self) -> list[str]:
        return self.titles("updated")


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
        table = xlsx_rows(path)
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


def _code(value: str, labels: dict[str, str], what: str,
          aliases: dict[str, str] | None = None) -> str | None:
    """The code for a label, a code or an alias; several words of one sub-area are allowed."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        return None

    def one(word: str) -> str | None:
        if word in labels:
            return word
        by_label = [code for code, label in labels.items() if label == word]
        return by_label[0] if by_label else (aliases or {}).get(word)

    code = one(value)
    if code is not None:
        return code
    words = [w for w in _ALIAS_SEPARATORS.split(value) if w]
    codes = [one(w) for w in words]
    if len(words) > 1 and None not in codes:
        distinct = sorted({c for c in codes if c is not None})
        if len(distinct) == 1:
            return distinct[0]
        raise ValueError(f"“{value}”分属不同的{what}："
                         + "、".join(labels[c] for c in distinct) + "，请只填一个")
    raise ValueError(f"未知的{what}“{value}”，可选：" + "、".join(labels.values()))


def _category_of(subcategory: str) -> str | None:
    """The one 类别 whose sub-areas include this word, if exactly one does."""
    owners = set()
    for category, labels in SUBCATEGORIES.items():
        try:
            if _code(subcategory, labels, "子类", SUBCATEGORY_ALIASES.get(category)):
                owners.add(category)
        except ValueError:
            continue
    return owners.pop() if len(owners) == 1 else None


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


def _parse_row(row: list[Any], units: dict[str, int]
               ) -> tuple[ArticleInput, list[tuple[str, str]], list[str]]:
    """The article input, the errors (heading, message) and notes on words read as aliases."""
    cells = {heading: _cell(row, i) for i, heading in enumerate(HEADER)}
    errors: list[tuple[str, str]] = []
    notes: list[str] = []
    data = ArticleInput(title=cells["标题"], answer=cells["答复"],
                        questions=[q for q in cells["问题"].split(QUESTION_SEPARATOR)],
                        spoken_answer=cells["电话答复"])
    data.source_document, data.source_url = _source(cells["政策依据"])
    try:
        data.category = _code(cells["类别"], CATEGORIES, "类别", CATEGORY_ALIASES)
    except ValueError as exc:
        errors.append(("类别", str(exc)))
    sub = cells["子类"]
    if sub and not cells["类别"]:
        data.category = _category_of(sub)
        if data.category is None:
            errors.append(("类别", f"请填写类别（子类“{sub}”不能确定类别）"))
        else:
            notes.append(f"类别记为“{CATEGORIES[data.category]}”")
    if data.category is not None or not sub:
        try:
            labels = SUBCATEGORIES.get(data.category or "", {})
            data.subcategory = _code(sub, labels, "子类",
                                     SUBCATEGORY_ALIASES.get(data.category or ""))
            if data.subcategory and sub != labels[data.subcategory]:
                notes.append(f"子类“{sub}”记为“{labels[data.subcategory]}”")
        except ValueError as exc:
            errors.append(("子类", str(exc)))
    if data.category and cells["类别"] and cells["类别"] != CATEGORIES[data.category]:
        notes.append(f"类别“{cells['类别']}”记为“{CATEGORIES[data.category]}”")
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
    return data, errors, notes


def import_articles(session: Session, path: Path, *, actor: Actor, now: datetime,
                    draft: bool = False, dry_run: bool = False,
                    strict: bool = False) -> ImportResult:
    """Check every row, then create or update the good ones and report every row.

    ``dry_run`` keeps nothing; ``strict`` keeps nothing while any row has an error.
    """
    table = read_table(path)
    units = dict(session.execute(select(Department.name, Department.id)).tuples().all())
    existing = {a.title: a for a in session.scalars(select(Article))}
    result = ImportResult()
    good: list[tuple[int, ArticleInput, list[str]]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(table, start=2):
        if not any(_cell(row, i) for i in range(len(HEADER))):
            continue
        result.rows += 1
        data, problems, notes = _parse_row(row, units)
        errors = [RowError(number, h, m) for h, m in problems]
        try:
            data = validate(session, data)
        except InvalidInput as exc:
            errors += [RowError(number, FIELD_HEADINGS.get(k, k), m)
                       for k, m in exc.fields.items()]
        if not errors and data.title in seen:
            errors.append(RowError(number, "标题", f"与第{seen[data.title]}行标题重复"))
        if errors:
            result.outcomes.append(RowOutcome(number, data.title, "skipped", notes, errors))
            continue
        seen[data.title] = number
        good.append((number, data, notes))
    if dry_run or (strict and result.errors):
        result.outcomes += [RowOutcome(n, d.title, "checked", notes) for n, d, notes in good]
        result.outcomes.sort(key=lambda o: o.row)
        return result
    for number, data, notes in good:
        article = existing.get(data.title)
        if article is None:
            create_article(session, data, actor=actor, now=now, publish=not draft,
                           action="imported")
            result.outcomes.append(RowOutcome(number, data.title, "created", notes))
            continue
        version = article.version
        update_article(session, article.id, data, actor=actor, now=now, note="导入更新")
        republished = not draft and article.state != ArticleState.PUBLISHED
        if republished:
            transition(session, article.id, "published", actor=actor, now=now)
        changed = article.version != version or republished
        result.outcomes.append(RowOutcome(number, data.title,
                                          "updated" if changed else "unchanged", notes))
    result.outcomes.sort(key=lambda o: o.row)
    result.kept = bool(good)
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
