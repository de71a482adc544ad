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
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
# Stripped by a spreadsheet before it looks for a formula.
LEADING_BLANKS = " \n\u00a0\u3000"


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
