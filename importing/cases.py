"""Batch entry of cases from a spreadsheet (.xlsx) or CSV, e.g. the requests collected at a forum.

Every row goes through :func:`cases.intake.file_case` in its own savepoint, so the report
lists every bad row at once. Nothing is kept on a dry run, nor when any row is bad (unless
``skip_invalid``): a partial import followed by a corrected re-import would file cases twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.deadlines import calendar_for
from cases.enterprises import find_or_register_enterprise
from cases.errors import InvalidInput
from cases.fields import FieldErrors, clean_contact_name, clean_contact_phone, clean_description
from cases.intake import file_case
from cases.services import zone
from cases.vocab import CHANNEL_LABELS
from importing.rows import ImportFileError, RowError, csv_rows, xlsx_rows
from routing.rules import CATEGORIES, SUBCATEGORIES
from workdays.calendar import WorkCalendar

# Field → accepted column headings (the first is the one the template and the report use).
COLUMNS: dict[str, tuple[str, ...]] = {
    "channel": ("受理渠道", "渠道", "channel"),
    "description": ("诉求内容", "内容", "description"),
    "received_at": ("反映时间", "受理时间", "received_at"),
    "category": ("诉求类别", "类别", "category"),
    "subcategory": ("子类", "subcategory"),
    "enterprise_name": ("企业名称", "enterprise_name"),
    "enterprise_uscc": ("统一社会信用代码", "信用代码", "uscc", "enterprise_uscc"),
    "contact_name": ("联系人", "contact_name"),
    "contact_phone": ("联系电话", "电话", "contact_phone"),
}
REQUIRED = ("description",)
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
                    "%Y/%m/%d", "%Y年%m月%d日")


@dataclass
class ImportReport:
    rows: int = 0
    filed: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    kept: bool = False


def _heading_map(headings: list[Any]) -> dict[int, str]:
    lookup = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
    mapping: dict[int, str] = {}
    for index, heading in enumerate(headings):
        name = lookup.get(str(heading or "").strip().lower())
        if name:
            mapping[index] = name
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in mapping.values()]
    if missing:
        raise ImportFileError(f"缺少必填列：{'、'.join(missing)}")
    return mapping


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, {field: value})`` for each non-empty data row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = xlsx_rows(path)
    else:
        raise ImportFileError("只支持 .xlsx 或 .csv 文件")
    if not table:
        raise ImportFileError("文件为空")
    mapping = _heading_map(table[0])
    for number, row in enumerate(table[1:], start=2):
        values = {name: row[i] for i, name in mapping.items() if i < len(row)}
        if any(str(v).strip() for v in values.values() if v is not None):
            yield number, values


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _code(value: Any, labels: dict[str, str], field_name: str, what: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if text in labels:
        return text
    by_label = {label: code for code, label in labels.items()}
    if text in by_label:
        return by_label[text]
    raise InvalidInput({field_name: f"未知的{what}“{text}”"})


def _received_at(value: Any, tz: tzinfo) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(9))
    else:
        text = str(value).strip()
        for fmt in DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput({"received_at": f"无法识别的时间“{text}”（示例：2026-10-08 09:30）"})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _parse_row(values: dict[str, Any], default_channel: str | None, tz: tzinfo
               ) -> dict[str, Any]:
    """Translate labels and times and clean the fields; every problem of the row at once."""
    errors = FieldErrors()
    category = errors.clean(
        lambda: _code(values.get("category"), CATEGORIES, "category", "诉求类别"))
    parsed: dict[str, Any] = {
        "channel": errors.clean(
            lambda: _code(values.get("channel"), CHANNEL_LABELS, "channel", "受理渠道")),
        "category": category,
        "subcategory": errors.clean(lambda: _code(
            values.get("subcategory"), SUBCATEGORIES.get(category or "", {}),
            "subcategory", "子类")),
        "received_at": errors.clean(lambda: _received_at(values.get("received_at"), tz)),
        # The intake's own cleaners, so one pass reports every problem of the row.
        "description": errors.clean(lambda: clean_description(_text(values.get("description")))),
        "contact_name": errors.clean(lambda: clean_contact_name(_text(values.get("contact_name")))),
        "contact_phone": errors.clean(
            lambda: clean_contact_phone(_text(values.get("contact_phone")))),
    }
    parsed["channel"] = parsed["channel"] or default_channel
    if parsed["channel"] is None and "channel" not in errors.fields:
        errors.add({"channel": "请填写受理渠道"})
    errors.raise_any()
    return parsed


def _file_row(session: Session, values: dict[str, Any], *, default_channel: str | None,
              actor: Actor, now: datetime, calendar: WorkCalendar, tz: tzinfo
              ) -> tuple[str, list[str]]:
    parsed = _parse_row(values, default_channel, tz)
    enterprise = find_or_register_enterprise(
        session, name=_text(values.get("enterprise_name")),
        uscc=_text(values.get("enterprise_uscc")), now=now,
    )
    # The rows are requests the centre itself collected (a forum, visits): it took each in
    # when it was raised, so number and same-day deadline follow that day, not the import's.
    case = file_case(
        session, channel=parsed["channel"], description=parsed["description"],
        received_at=parsed["received_at"], category=parsed["category"],
        subcategory=parsed["subcategory"],
        enterprise_id=enterprise.enterprise.id if enterprise else None,
        contact_name=parsed["contact_name"], contact_phone=parsed["contact_phone"],
        actor=actor, now=now, calendar=calendar, tz=tz, registered_at=parsed["received_at"],
    )
    return case.number, (enterprise.warnings if enterprise else [])


def _heading(field_name: str) -> str:
    return COLUMNS.get(field_name, (field_name,))[0]


def import_cases(
    session: Session,
    path: Path,
    *,
    actor: Actor,
    now: datetime,
    dry_run: bool = False,
    skip_invalid: bool = False,
    default_channel: str | None = None,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
) -> ImportReport:
    """File every row of ``path`` as a case; see the module docstring for what is kept."""
    local_zone = zone(session, tz)
    calendar = calendar or calendar_for(session)
    report = ImportReport()
    outer = session.begin_nested()
    for number, values in read_rows(path):
        report.rows += 1
        try:
            with session.begin_nested():
                case_number, warnings = _file_row(
                    session, values, default_channel=default_channel, actor=actor, now=now,
                    calendar=calendar, tz=local_zone,
                )
        except InvalidInput as exc:
            report.errors.extend(
                RowError(number, _heading(name), message) for name, message in exc.fields.items()
            )
            continue
        report.filed.append(case_number)
        report.warnings.extend(RowError(number, _heading("enterprise_uscc"), w) for w in warnings)
    if dry_run or (report.errors and not skip_invalid):
        outer.rollback()
    else:
        outer.commit()
        report.kept = True
    return report
