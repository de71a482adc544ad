"""``flask reports …`` on the constructed month: JSON shape, xlsx and docx read back."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from reports.bulletin import SECTIONS
from reports.ledger_export import unit_labels
from tests.reports.month import NOW_TEXT, UNIT_1, UNIT_2, build_month

NOVEMBER = ["--from", "2026-11-01", "--to", "2026-11-30"]


def run(app: Any, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["reports", *args])
    assert result.exit_code == 0, result.output
    return result.output


def kpis(app: Any, *extra: str) -> dict[str, Any]:
    return json.loads(run(app, "kpis", *NOVEMBER, "--json", *extra))


def test_kpis_json_shape_and_figures(app: Any, session: Session, clock: Any) -> None:
    build_month(session)
    clock.set_local(NOW_TEXT)
    data = kpis(app)
    assert (data["received"], data["answered"]) == (7, 5)
    assert data["on_time_rate"] == {"numerator": 5, "denominator": 7, "value": 0.7143}
    assert data["satisfaction_rate"] == {"numerator": 2, "denominator": 3, "value": 0.6667}
    assert data["followup_rate"] == {"numerator": 2, "denominator": 5, "value": 0.4}
    assert data["instant_rate"] == {"numerator": 1, "denominator": 7, "value": 0.1429}
    units = {u["unit"]: u for u in data["units"]}
    assert set(units) == {UNIT_1, UNIT_2}
    for unit in units.values():
        assert {"unit", "received", "answered", "on_time_rate", "satisfaction_rate",
                "followup_rate", "instant_rate"} <= set(unit)
    assert units[UNIT_1]["on_time_rate"]["numerator"] == 5
    channels = {c["key"]: c["received"] for c in data["channels"]}
    assert channels == {"window": 6, "wechat": 1}
    assert {a["key"]: a["received"] for a in data["areas"]}["factor"] == 3
    assert {a["key"]: a["received"] for a in data["subareas"]}["factor/land"] == 2
    assert units[UNIT_1]["instant_rate"]["value"] is None  # 即时办 is never a unit's
    own = kpis(app, "--unit", UNIT_2)
    assert (own["received"], own["answered"]) == (2, 1)
    assert [u["unit"] for u in own["units"]] == [UNIT_2]


def test_unknown_unit_and_bad_dates_are_refused(app: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "kpis", *NOVEMBER, "--unit", "不存在的局"])
    assert result.exit_code == 2 and "不存在的局" in result.output
    result = runner.invoke(args=["reports", "kpis", "--from", "2026-13-01", "--to", "x"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_ledger_xlsx_read_back(app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    month = build_month(session)
    clock.set_local(NOW_TEXT)
    out = tmp_path / "ledger.xlsx"
    assert "已导出 7 件" in run(app, "ledger", *NOVEMBER, "--out", str(out))
    book = load_workbook(out)
    sheet = book["台账"]
    everything = list(sheet.iter_rows(values_only=True))
    assert everything[0][0] == "奉化区企业诉求办理台账（2026年11月）"
    assert everything[1][0].startswith("制表单位：") and "制表日期：2026年12月8日" in everything[1]
    rows = everything[2:]
    assert rows[0][:4] == ("序号", "诉求编号", "受理时间", "渠道")
    assert "台账状态" in rows[0] and "回访结果" in rows[0] and "挂账原因" in rows[0]
    assert len(rows) == 1 + 7
    assert [r[0] for r in rows[1:]] == list(range(1, 8))
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:R10"
    by_number = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    late = by_number[month.cases["C"].number]
    assert isinstance(late["受理时间"], datetime)
    assert late["受理时间"] == datetime(2026, 11, 16, 9, 0)
    assert isinstance(late["期限"], datetime)  # Excel dates read back as datetimes
    assert (late["是否按时"], late["台账状态"], late["渠道"]) == ("否", "挂账", "8718微信公众号")
    assert "超过办理期限" in late["挂账原因"]
    assert by_number[month.cases["B"].number]["满意度"] == "非常满意（5）"
    assert by_number[month.cases["B"].number]["是否按时"] == "是"
    # 承办单位: the handling unit by name, the others marked.
    assert by_number[month.cases["H"].number]["承办单位"] == f"{UNIT_1}、{UNIT_2}（退回）"
    assert by_number[month.cases["F"].number]["承办单位"] == f"{UNIT_1}、{UNIT_2}（共同）"
    indicators = list(book.worksheets[1].iter_rows(min_row=3, values_only=True))
    assert indicators[1][0] == "全部" and indicators[1][1] == 7


def test_unit_labels_name_the_handling_unit_and_mark_the_others() -> None:
    # (unit, role, state), latest round first.
    assert unit_labels([("乙", "lead", "pending"), ("甲", "lead", "withdrawn")]) == "乙、甲（改派）"
    assert unit_labels([("甲", "lead", "accepted"), ("甲", "lead", "returned")]) == "甲"
    assert unit_labels([("丙", "co", "replied"), ("甲", "lead", "replied"),
                        ("乙", "lead", "returned")]) == "甲、丙（共同）、乙（退回）"
    assert unit_labels([("甲", "lead", "withdrawn")]) == "甲（改派）"
    assert unit_labels([]) == ""


def test_bulletin_docx_read_back(app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    build_month(session)
    clock.set_local(NOW_TEXT)
    figures = kpis(app)
    out = tmp_path / "bulletin.docx"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(app, "bulletin", "--month", "2026-11", "--out", str(out))
    assert not [w for w in caught if "missing from" in str(w.message)]
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "企业服务工作简报" in text and "第1期" in text
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == list(SECTIONS)
    assert f"本月共受理企业诉求{figures['received']}件" in text
    assert "按时办结率71.4%（5/7" in text and "满意率66.7%（2/3）" in text
    assert len(document.inline_shapes) == 3  # the three charts
    headline = document.tables[0]
    cells = {row.cells[0].text: row.cells[1].text for row in headline.rows[1:]}
    assert cells["受理诉求（件）"] == str(figures["received"])
    assert cells["按时办结率"] == "71.4%"
    units = document.tables[1]
    unit_rows = {row.cells[0].text: row.cells[1].text for row in units.rows[1:]}
    assert unit_rows == {UNIT_1: "6", UNIT_2: "2"}
    # Today's state has no previous month to compare with (the 上月 column said today's).
    previous = {row.cells[0].text: row.cells[2].text for row in headline.rows[1:]}
    assert previous["当前逾期（件）"] == "—" and previous["当前挂账（件）"] == "—"
    assert cells["当前逾期（件）"] == "1" and cells["逾期办结（件）"] == "2"
    assert [c.text for c in units.rows[0].cells][-3:] == ["逾期办结", "退单", "满意率"]


def test_a_bulletin_for_an_empty_month_lists_no_unit(
        app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    build_month(session)  # E is overdue today (December), nothing happened in October
    clock.set_local(NOW_TEXT)
    out = tmp_path / "october.docx"
    run(app, "bulletin", "--month", "2026-10", "--out", str(out))
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "本月无交办单位的诉求。" in text
    assert all(UNIT_1 not in cell.text for table in document.tables for row in table.rows
               for cell in row.cells)
