"""Batch import from CSV/XLSX: every row through intake, a row-error report, dry runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.case_models import Case
from importing.cases import import_cases
from importing.rows import ImportFileError
from tests.cases.factories import CALENDAR, local

NOW = local("2026-11-24 09:00")
ADMIN = Actor("admin", "批量导入：test")
HEADING = "受理渠道,诉求内容,反映时间,诉求类别,子类,企业名称,统一社会信用代码,联系人,联系电话\n"


def write_csv(tmp_path: Path, rows: str, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "forum.csv"
    path.write_text(HEADING + rows, encoding=encoding)
    return path


def run(session: Session, path: Path, **options: object):  # type: ignore[no-untyped-def]
    return import_cases(session, path, actor=ADMIN, now=NOW, calendar=CALENDAR,
                        **options)  # type: ignore[arg-type]


def cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


GOOD = ("企业家座谈会,希望协调用电增容,2026-11-20 15:00,要素保障,水电气,宁波丙科技有限公司,"
        "91350100M000100Y43,李总,13800138000\n")
BAD = ("微博,内容,2026-13-01,土地,,,,,12345\n"
       "forum,,,,,,,,\n")


def test_good_rows_are_filed_with_labels_translated(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD))
    case = session.scalars(select(Case)).one()
    assert report.kept and report.filed == [case.number]
    assert (case.channel, case.category, case.subcategory) == ("forum", "factor", "utilities")
    assert case.received_on == date(2026, 11, 20)
    assert case.enterprise is not None and case.enterprise.uscc == "91350100M000100Y43"


def test_an_imported_case_is_numbered_and_due_by_its_receipt_day(session: Session,
                                                                  tmp_path: Path) -> None:
    """Received on 11-20 at the forum, imported on 11-24: number 261120…, due 11-20 (the
    centre's same-day duty ran from the forum), not the import day's."""
    run(session, write_csv(tmp_path, GOOD))
    case = session.scalars(select(Case)).one()
    assert case.number.startswith("261120")
    assert case.due_date == date(2026, 11, 20)
    assert case.received_at == local("2026-11-20 15:00")
    # A row without a time is received (and numbered) on the import day.
    run(session, write_csv(tmp_path, "企业家座谈会,希望协调贷款,,,,,,,\n"))
    today = session.scalars(select(Case).where(Case.description == "希望协调贷款")).one()
    assert today.number.startswith("261124") and today.due_date == date(2026, 11, 24)


def test_report_lists_each_bad_field_with_its_row(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD + BAD))
    problems = {(e.row, e.field) for e in report.errors}
    assert problems == {(3, "受理渠道"), (3, "反映时间"), (3, "诉求类别"), (3, "联系电话"),
                        (4, "诉求内容")}
    assert any("第3行" in str(e) for e in report.errors)


def test_any_bad_row_keeps_nothing(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD + BAD))
    assert not report.kept
    assert cases(session) == 0


def test_skip_invalid_keeps_the_good_rows(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD + BAD), skip_invalid=True)
    assert report.kept and cases(session) == 1


def test_dry_run_keeps_nothing(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD), dry_run=True)
    assert (report.kept, len(report.filed), cases(session)) == (False, 1, 0)


def test_gb18030_csv_from_chinese_excel_is_read(session: Session, tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path, GOOD, encoding="gb18030"))
    assert report.errors == [] and report.kept


def test_checksum_warning_is_reported_but_the_row_is_filed(session: Session,
                                                           tmp_path: Path) -> None:
    row = GOOD.replace("91350100M000100Y43", "91350100M000100Y44")
    report = run(session, write_csv(tmp_path, row))
    assert report.kept and "校验位" in report.warnings[0].message


def test_xlsx_with_date_cells_is_imported(session: Session, tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["诉求内容", "受理渠道", "反映时间"])
    sheet.append(["商会反映：外贸订单下降", "association", datetime(2026, 11, 18, 10, 0)])
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = run(session, path)
    case = session.scalars(select(Case)).one()
    assert report.kept and (case.channel, case.received_on) == ("association", date(2026, 11, 18))


def test_file_without_the_description_column_is_refused(session: Session,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("企业名称\n甲公司\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="诉求内容"):
        run(session, path)


def test_other_file_types_are_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(ImportFileError):
        run(session, path)
