"""``core.spreadsheet``: formula-looking text neutralised (OWASP, CSV Injection), shown as is."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment

from core.spreadsheet import (
    RowWriter,
    csv_text,
    csv_untext,
    formula_like,
    wrapped_lines,
    xlsx_text,
)

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =HYPERLINK(\"x\")",
            "\u3000=1", "\n@x", "＝1+1", "＋1", "－1", "＠x", "=cmd|' /C calc'!A0"]
PLAIN = ["企业咨询用电报装", "1+1", "a=b", "", " ", "#N/A", "'quoted", "2026-11-10"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_starts_are_recognised_also_after_leading_blanks(value: str) -> None:
    assert formula_like(value)


@pytest.mark.parametrize("value", PLAIN)
def test_other_text_is_left_alone(value: str) -> None:
    assert not formula_like(value)
    assert csv_text(value) == value


def test_csv_prefixes_an_apostrophe_and_reads_back_every_value_exactly() -> None:
    values = [*FORMULAS, *PLAIN, "'=1", "''+1"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_text(v) for v in values])
    read = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert all(not formula_like(cell) for cell in read)
    assert [csv_untext(cell) for cell in read] == values
    assert csv_text(3) == 3 and csv_text(None) is None


def _round_trip(write: object) -> list[list[Any]]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    write(sheet)  # type: ignore[operator]
    buffer = io.BytesIO()
    book.save(buffer)
    loaded = load_workbook(io.BytesIO(buffer.getvalue()))
    heights = [loaded["x"].row_dimensions[i].height for i in (1, 2)]
    return [[c for c in row] for row in loaded["x"].iter_rows()] + [heights]


def test_xlsx_cells_are_strings_shown_unchanged_and_quote_prefixed() -> None:
    rows = _round_trip(lambda sheet: sheet.append([xlsx_text(sheet, v) for v in
                                                   [*FORMULAS, "#N/A", "plain", 5]]))
    cells = rows[0]
    for cell, value in zip(cells, FORMULAS, strict=False):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True)
    assert (cells[-3].value, cells[-3].data_type) == ("#N/A", "s")
    assert not cells[-2].quotePrefix and cells[-1].value == 5


def test_row_writer_keeps_column_styles_and_sizes_wrapped_rows() -> None:
    def write(sheet: object) -> None:
        writer = RowWriter(sheet, [{"alignment": Alignment(wrap_text=True)}, {}, {}],
                           fit=[10, None, None])
        writer.append(["=1+1", date(2026, 11, 10), datetime(2026, 11, 10, 9, 30)])
        writer.append(["诉" * 30, None, 7])

    rows = _round_trip(write)
    first, second = rows[0], rows[1]
    assert (first[0].value, first[0].data_type, first[0].quotePrefix) == ("=1+1", "s", True)
    assert first[0].alignment.wrap_text and second[0].alignment.wrap_text
    assert not second[0].quotePrefix
    assert first[1].number_format == "yyyy-mm-dd" and first[2].number_format == "yyyy-mm-dd hh:mm"
    assert first[2].value == datetime(2026, 11, 10, 9, 30)
    assert second[1].value is None and second[2].value == 7
    assert second[2].number_format == "General"
    # 60 units in a 10-wide column: 7 lines of 14 pt (+3); the short row keeps its default.
    assert rows[2] == [None, 7 * 14 + 3]


def test_wrapped_lines_count_a_cjk_character_as_two_units() -> None:
    assert wrapped_lines("abcdefghi", 10) == 1
    assert wrapped_lines("abcdefghij", 10) == 2
    assert wrapped_lines("诉求" * 9, 10) == 4  # 36 units in 9 usable
    assert wrapped_lines("一\n二\n三", 10) == 3
