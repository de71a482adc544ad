"""Spreadsheet cells that stay text: formula-looking values neutralised (CSV / Excel injection).

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or a carriage return) as a formula, also after leading spaces it strips: an
enterprise name ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` becomes a live link or a DDE
payload on the supervisor's machine. OWASP's advice (CSV Injection) is to have every such cell
read as text by prefixing a single quote. Here:

- CSV: :func:`csv_text` prefixes the apostrophe (the ``csv`` module quotes the field);
  :func:`csv_untext` takes it off again, so an export imported back gives the same values.
- xlsx: :func:`xlsx_text` makes a string cell (never a formula or an error value) with Excel's
  own form of the apostrophe, the ``quotePrefix`` style flag: the cell shows the value
  unchanged, and editing it in Excel does not turn it into a formula either.

Full-width ``＝＋－＠`` count as formula starts too: a Chinese input method may type them.

For large streamed sheets, :class:`RowWriter` does the same with one style per column built
once, and sets the height of rows whose wrapped text needs more than one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
# Stripped by a spreadsheet before it looks for a formula.
LEADING_BLANKS = " \n\u00a0\u3000"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
MAX_ROW_POINTS = 409.0  # Excel's highest row


def formula_like(value: object) -> bool:
    """Would a spreadsheet read this value as a formula (after stripping leading blanks)?"""
    if not isinstance(value, str):
        return False
    rest = value.lstrip(LEADING_BLANKS)
    return bool(rest) and rest[0] in FORMULA_STARTS


def csv_text(value: Any) -> Any:
    """The value for a CSV cell: an apostrophe in front when it could be read as a formula.

    A value that already starts with apostrophes before a formula start gets one more, so
    :func:`csv_untext` restores every value exactly. Non-strings are returned unchanged.
    """
    if isinstance(value, str) and formula_like(value.lstrip("'")):
        return "'" + value
    return value


def csv_untext(value: str) -> str:
    """The inverse of :func:`csv_text`, for reading back a CSV this code wrote."""
    if value.startswith("'") and formula_like(value.lstrip("'")):
        return value[1:]
    return value


def xlsx_text(sheet: Any, value: Any) -> Any:
    """An openpyxl cell for ``sheet`` (write-only or not): strings always as text.

    Non-strings (numbers, dates, ``None``) are returned as they are, for ``sheet.append``.
    """
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl makes "=…" a formula and "#N/A" an error value
    if formula_like(value):
        cell.quotePrefix = True
    return cell


def _reused_cell_class() -> Any:
    from openpyxl.cell.cell import Cell

    class ReusedCell(Cell):
        """A cell a :class:`RowWriter` fills row after row.

        Its style id is looked up once per style (the style objects never change), and its
        ``repr`` is cheap: openpyxl formats it into an exception message for every cell it
        is handed (then takes the cell as it is).
        """

        __slots__ = ("_sid",)

        def __repr__(self) -> str:
            return "<ReusedCell>"

        @property
        def style_id(self) -> int:
            return self._sid

    return ReusedCell


def _hand_cells_over(sheet: Any) -> None:
    """Let a write-only ``sheet`` take rows of ready cells as they are.

    openpyxl's write-only sheet tries to turn every appended value into a cell of its own
    and, for a cell, catches the error that raises (a formatted message per cell). Rows of
    cells (or None) skip that; any other row goes the usual way.
    """
    from openpyxl.cell.cell import Cell

    if getattr(sheet, "_takes_cells", False):
        return
    usual = sheet._values_to_row

    def values_to_row(values: Sequence[Any], row_idx: int) -> Any:
        if type(values) is not CellRow and not all(
                value is None or isinstance(value, Cell) for value in values):
            yield from usual(values, row_idx)
            return
        for column, cell in enumerate(values, 1):
            if cell is not None:
                cell.column = column
                cell.row = row_idx
                yield cell

    sheet._values_to_row = values_to_row
    sheet._takes_cells = True


class CellRow(list[Any]):
    """A row a :class:`RowWriter` built: its cells or None only, so never checked again."""


# What openpyxl's cell does with a value of these exact types (``Cell._bind_value``): a
# number, or a date written as a serial number with the column's date format.
_NUMBER_TYPES = frozenset({int, float})
_DATE_TYPES = frozenset({date, datetime})


class RowWriter:
    """Appends rows to a write-only sheet with one style per column, strings as text.

    Each column has a cell built once with its style (font, alignment, number format), and
    a quote-prefixed twin for formula-looking strings; every row reuses them. openpyxl's
    write-only sheet writes a row out as soon as it is appended, so the cells are free
    again for the next row, and a large sheet pays for no style look-up per cell. Strings
    are string cells (see :func:`xlsx_text`); dates and times get a date format.
    """

    def __init__(self, sheet: Any, styles: Sequence[dict[str, Any]], *,
                 fit: Sequence[float | None] | None = None, first_row: int = 1,
                 line_points: float = 14.0) -> None:
        from openpyxl.styles.cell_style import StyleArray
        from openpyxl.styles.numbers import is_date_format

        cell_class = _reused_cell_class()
        self.sheet = sheet
        # Row heights for wrapped text: spreadsheet programs do not all size rows to their
        # wrapped text when they open a file (LibreOffice does not), so the height is set.
        # (column, width, characters that always fit on one line: at most 2.5 units each,
        # see text_width)
        self._fit = [(i, width, int(max(width - 1.0, 1.0)) * 2 // 5)
                     for i, width in enumerate(fit or ()) if width]
        self._row = first_row
        self._line_points = line_points
        self._plain: list[Any] = []
        self._quoted: list[Any] = []
        # A column's style with its own number format, and with the date formats (for a
        # date in a column without one), each registered once: (style, id). openpyxl keeps
        # a registered style object as it is, so a cell switches between these objects and
        # never changes one in place.
        self._variants: list[dict[str | None, tuple[Any, int]]] = []
        self._dated: list[bool] = []
        registry = sheet.parent._cell_styles
        _hand_cells_over(sheet)
        for style in styles:
            plain, quoted = cell_class(sheet, row=1, column=1), cell_class(sheet, row=1, column=1)
            for cell in (plain, quoted):
                for name, value in style.items():
                    setattr(cell, name, value)
            if plain._style is None:  # no style given: the default one, registered too
                plain._style = StyleArray()
            quoted.quotePrefix = True
            quoted._sid = registry.add(quoted._style)
            variants: dict[str | None, tuple[Any, int]] = {
                None: (plain._style, registry.add(plain._style))}
            for number_format in (DATE_FORMAT, DATETIME_FORMAT):
                other = cell_class(sheet, row=1, column=1)
                other._style = copy(plain._style)
                other.number_format = number_format
                variants[number_format] = (other._style, registry.add(other._style))
            plain._style, plain._sid = variants[None]
            self._plain.append(plain)
            self._quoted.append(quoted)
            self._variants.append(variants)
            self._dated.append(is_date_format(style.get("number_format", "General")))

    def append(self, values: Sequence[Any]) -> None:
        row = CellRow()
        for index, value in enumerate(values):
            if value is None:
                row.append(None)
                continue
            if index >= len(self._plain):
                row.append(xlsx_text(self.sheet, value))
                continue
            if isinstance(value, str):
                if formula_like(value):
                    cell = self._quoted[index]
                else:
                    cell = self._plain[index]
                    cell._style, cell._sid = self._variants[index][None]
                # A string cell, never a formula or an error value (checked for characters
                # a worksheet cannot hold, as openpyxl does).
                cell._value = cell.check_string(value)
                cell.data_type = "s"
            else:
                cell = self._plain[index]
                kind = type(value)
                wanted = None
                if kind in _DATE_TYPES and not self._dated[index]:
                    wanted = DATETIME_FORMAT if kind is datetime else DATE_FORMAT
                cell._style, cell._sid = self._variants[index][wanted]
                # The style now has a date format where the value is a date: set directly
                # what openpyxl's value setter would (it looks the format up per cell).
                if kind in _NUMBER_TYPES:
                    cell._value, cell.data_type = value, "n"
                elif kind in _DATE_TYPES:
                    cell._value, cell.data_type = value, "d"
                else:
                    cell.value = value
            row.append(cell)
        height = self._height(values) if self._fit else None
        if height is not None:
            # Read by the write-only sheet as the row's attributes (what a RowDimension with
            # this height gives), and removed once the row is written: no per-row object.
            self.sheet.row_dimensions[self._row] = {"ht": _points(height), "customHeight": "1"}
        self.sheet.append(row)
        if height is not None:
            del self.sheet.row_dimensions[self._row]
        self._row += 1

    def _height(self, values: Sequence[Any]) -> float | None:
        lines = 1
        for index, width, one_line in self._fit:
            value = values[index] if index < len(values) else None
            # A short value fits on one line whatever its characters: no width to compute.
            if isinstance(value, str) and (len(value) > one_line or "\n" in value):
                lines = max(lines, wrapped_lines(value, width))
        return None if lines == 1 else min(MAX_ROW_POINTS, lines * self._line_points + 3)


def _points(height: float) -> str:
    """A row height as openpyxl writes it (``safe_string``)."""
    return f"{height:.16g}"


def text_width(text: str) -> int:
    """How wide ``text`` is in column-width units: a CJK character counts two."""
    # UTF-8 takes 3 bytes for a CJK character and 1 for ASCII: (bytes + chars) / 2 is 2
    # and 1, computed in C rather than character by character.
    return (len(text.encode()) + len(text)) // 2


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` units wide (a little padding)."""
    usable = max(width - 1.0, 1.0)
    if "\n" not in text:
        return max(1, -(-text_width(text) // int(usable)))
    return sum(max(1, -(-text_width(part) // int(usable))) for part in text.split("\n"))
