"""The filters shared by the report case list and the ledger export (台账)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.sql.elements import ColumnElement

from cases.case_models import Assignment, Case
from reports.indicators import Level, Scope, cases_of


@dataclass(frozen=True)
class LedgerFilters:
    """Cases received in the scope's period; optionally one unit, area, channel, ledger
    state — or, instead of "received", the cases behind one indicator."""

    department_id: int | None = None
    category: str | None = None
    channel: str | None = None
    ledger_state: str | None = None
    indicator: str | None = None

    def conditions(self, scope: Scope) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.indicator is None:
            where.append(scope.between(Case.received_on))
        else:
            level = Level.UNITS if self.department_id is not None else Level.CASES
            where.append(Case.id.in_(cases_of(self.indicator, scope, level,
                                              self.department_id)))
        if self.department_id is not None:
            where.append(exists().where(Assignment.case_id == Case.id,
                                        Assignment.department_id == self.department_id))
        if self.category:
            where.append(Case.category == self.category)
        if self.channel:
            where.append(Case.channel == self.channel)
        if self.ledger_state:
            where.append(Case.ledger_state == self.ledger_state)
        return where

    def select_cases(self, scope: Scope) -> Select[Any]:
        return select(Case).where(*self.conditions(scope))
