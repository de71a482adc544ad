"""Reading a spreadsheet (.xlsx) or CSV into rows, and the errors a batch import reports.

Shared by the batch imports: cases (:mod:`importing.cases`) and knowledge articles
(``knowledge.transfer``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number (the heading is row 1)
    field: str  # column heading
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.field}：{self.message}"


class ImportFileError(ValueError):
    """The file itself cannot be read (format, headings); the message is user-facing."""


def csv_rows(path: Path) -> list[list[Any]]:
    """The cells of a CSV file, as Excel saves it."""
    raw = path.read_bytes()
    # Excel saves CSV as UTF-8 with a BOM or, on Chinese Windows, as GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("无法识别CSV文件的编码（请另存为UTF-8）")
    return list(csv.reader(text.splitlines()))


def xlsx_rows(path: Path) -> list[list[Any]]:
    """The cells of the first sheet of an .xlsx file."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise ImportFileError(f"无法读取Excel文件：{exc}") from exc
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
