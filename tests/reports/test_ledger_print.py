"""The ledger as a supervisor prints it: converted to PDF by LibreOffice and read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reports.pdf import to_pdf
from tests.cases.factories import local, new_case
from tests.reports.month import NOW_TEXT, build_month
from tests.reports.pdf_text import read_pdf

NOVEMBER = ["--from", "2026-11-01", "--to", "2026-11-30"]
HEADERS = ("序号", "诉求编号", "受理时间", "渠道", "企业名称", "统一社会信用代码", "类别", "子类",
           "诉求内容", "办理方式", "承办单位", "期限", "答复时间", "是否按时", "满意度", "台账状态",
           "挂账原因", "回访结果")


def _ledger_pdf(app: Any, tmp_path: Path) -> bytes:
    out = tmp_path / "ledger.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "ledger", *NOVEMBER, "--out", str(out)])
    assert result.exit_code == 0, result.output
    pdf = to_pdf(out.read_bytes(), ".xlsx")
    return pdf


def test_a_month_prints_on_one_a4_landscape_page_with_every_column(
        app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    build_month(session)
    clock.set_local(NOW_TEXT)
    pdf = read_pdf(_ledger_pdf(app, tmp_path))
    # The ledger on one page, the indicators sheet on the next.
    assert pdf.pages == 2
    assert pdf.mm == (297.0, 210.0)
    text = pdf.text(1)
    assert "奉化区企业诉求办理台账（2026年11月）" in text
    assert "制表单位：奉化区企业“最多跑一地”综合服务中心" in text
    assert "制表日期：2026年12月8日" in text
    for header in HEADERS:
        assert header in text, header
    assert "第1页共2页" in text
    assert "奉化区企业诉求办理台账·指标（2026年11月）" in pdf.text(2)
    assert "满意率" in pdf.text(2) and "71.4%" in pdf.text(2) and "第2页共2页" in pdf.text(2)
    assert max(w.x_max for w in pdf.words) < pdf.width
    # Fitted to the width at a size still read without a magnifier.
    header = next(w for w in pdf.words if w.page == 1 and w.text == "序号")
    assert header.y_max - header.y_min >= 6.0


def test_a_long_ledger_repeats_its_header_on_every_page_and_cuts_no_column(
        app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    build_month(session)
    long_text = "企业反映厂区周边道路破损严重，大货车进出困难，雨天积水影响生产经营，" * 3
    for day in range(1, 61):
        new_case(session, local(f"2026-11-{(day % 28) + 1:02d} 09:{day % 60:02d}"),
                 f"{day:03d}号诉求：{long_text}", category="factor", subcategory="roads")
    session.commit()
    clock.set_local(NOW_TEXT)
    pdf = read_pdf(_ledger_pdf(app, tmp_path))
    # 67 rows, most of them seven or eight lines high: several pages, then the indicators.
    assert pdf.pages >= 4
    assert "满意率" in pdf.text(pdf.pages) and "序号" not in pdf.text(pdf.pages)
    for page in range(1, pdf.pages):
        text = pdf.text(page)
        # The header row is repeated and its first and last columns are on every page:
        # the sheet is one page wide, no column spills onto a page of its own.
        assert "序号" in text and "诉求编号" in text and "回访结果" in text, page
        assert f"第{page}页共{pdf.pages}页" in text, page
    assert max(w.x_max for w in pdf.words) < pdf.width
    assert f"第{pdf.pages}页共{pdf.pages}页" in pdf.text(pdf.pages)
    # Every row printed once, in order, none cut off at a page break.
    everything = "".join(pdf.text(p) for p in range(1, pdf.pages))
    positions = [everything.find(f"{day:03d}号诉求") for day in range(1, 61)]
    assert -1 not in positions
    assert positions == sorted(positions)
    for day in range(1, 61):
        assert everything.count(f"{day:03d}号诉求") == 1
