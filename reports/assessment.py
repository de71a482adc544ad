"""The year-end assessment table (年底考核): one sheet, one row per unit, the year's figures."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from openpyxl import Workbook
from sqlalchemy.orm import Session

from reports.indicators import Scope
from reports.ledger_export import CENTRE, Heading, write_indicators
from reports.service import indicator_rows
from workdays.calendar import WorkCalendar


def write_assessment(session: Session, scope: Scope, calendar: WorkCalendar,
                     out: str | Path | IO[bytes]) -> int:
    """Write the table for the scope's period (a year); returns the number of unit rows."""
    rows = indicator_rows(session, scope, calendar)
    book = Workbook(write_only=True)
    write_indicators(book, f"{scope.period.label}考核指标", rows,
                     Heading(f"企业诉求办理年度考核表（{scope.period.label}）", CENTRE,
                             scope.today))
    book.save(out)
    return len(rows) - 1
