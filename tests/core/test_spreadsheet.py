"""Formula-looking values are neutralised in CSV and xlsx cells (OWASP CSV injection)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from core.spreadsheet import csv_text, csv_untext, formula_like, xlsx_text

# The starts OWASP lists (= + - @ tab CR), also behind leading spaces, and full-width forms.
FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =HYPERLINK(\"http://x\")",
            "\u3000=1", "\n=1", "＝1", "=cmd|' /C calc'!A0"]
TEXTS = ["贷款", "1+1", "a=b", "", " ", "'quoted", "用电 - 增容", "#N/A"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_starts_are_found(value: str) -> None:
    assert formula_like(value)
    assert csv_text(value) == "'" + value
    assert csv_untext(csv_text(value)) == value


@pytest.mark.parametrize("value", TEXTS)
def test_plain_text_is_left_alone(value: str) -> None:
    assert not formula_like(value)
    assert csv_text(value) == value
    assert csv_untext(value) == value


@pytest.mark.parametrize("value", ["'=1", "''=1", "' =1", "'+x"])
def test_apostrophes_already_there_round_trip(value: str) -> None:
    assert csv_text(value) == "'" + value
    assert csv_untext(csv_text(value)) == value


def test_non_strings_pass_through() -> None:
    assert csv_text(3) == 3 and csv_text(None) is None
    assert xlsx_text(object(), -5) == -5 and not formula_like(-5)


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_cells_are_text_and_show_the_value(tmp_path: Path, write_only: bool) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    values = ["=HYPERLINK(\"http://evil\",\"点我\")", " @x", "#N/A", "企业"]
    sheet.append([xlsx_text(sheet, v) for v in values] + [7])
    book.save(tmp_path / "a.xlsx")
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and 't="e"' not in xml
    cells = next(load_workbook(tmp_path / "a.xlsx").worksheets[0].iter_rows())
    assert [c.value for c in cells] == [*values, 7]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n"]
    assert [c.quotePrefix for c in cells] == [True, True, False, False, False]
