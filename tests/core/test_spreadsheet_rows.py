"""``core.spreadsheet.RowWriter``: column styles built once, strings as text, rows sized."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment

from core.spreadsheet import RowWriter, wrapped_lines


def _round_trip(write: object) -> list[list[Any]]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    write(sheet)  # type: ignore[operator]
    buffer = io.BytesIO()
    book.save(buffer)
    loaded = load_workbook(io.BytesIO(buffer.getvalue()))
    heights = [loaded["x"].row_dimensions[i].height for i in (1, 2)]
    return [[c for c in row] for row in loaded["x"].iter_rows()] + [heights]


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


def test_a_rows_height_is_that_of_its_longest_wrapped_text_even_for_short_values() -> None:
    # The writer skips measuring values too short to wrap; four-byte characters (2.5 units)
    # are the widest, so values of each length around that bound must still be measured.
    for width in (5, 7, 10, 16, 30):
        for text in ("😀" * n for n in range(1, 16)):
            book = Workbook(write_only=True)
            writer = RowWriter(book.create_sheet("x"), [{}], fit=[width])
            lines = wrapped_lines(text, width)
            expected = None if lines == 1 else lines * 14 + 3
            assert writer._height([text]) == expected, (width, len(text))
