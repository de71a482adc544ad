"""Formula injection: what enterprises and operators type reaches every export as text.

Values come in through the intake API and the console, as an attacker would send them; the
supervisor's downloads must show them unchanged and never as a formula (OWASP, CSV
Injection): a string cell, quote-prefixed, and no ``<f>`` element anywhere in the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from api.tokens import create_token
from cases.actions.assignments import do_return_assignment
from cases.actions.triage import do_route_to_department
from cases.case_models import Case
from cases.models import Department
from core.db import db
from tests.cases.factories import CALENDAR, OPERATOR, liaison
from tests.console.conftest import Accounts

NOVEMBER = "from=2026-11-01&to=2026-11-30"
DDE = "=cmd|' /C calc'!A0"
LINK = '  =HYPERLINK("http://evil.example/x","点此查看详情")'


def _no_formula(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", archive.read(name)), name


def _cells(data: bytes) -> dict[str, Any]:
    """Every non-empty cell of every sheet, by its value."""
    book = load_workbook(io.BytesIO(data))
    return {cell.value: cell for sheet in book for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str)}


def test_formula_looking_values_from_the_api_and_the_console_stay_text_in_every_export(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    with db.transaction() as session:
        _row, token = create_token(session, "web_platform", "公共服务平台", now=clock())
    filed = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
        "description": LINK, "category": "factor", "subcategory": "land",
        "contact_name": "王经理", "contact_phone": "13800138000", "enterprise_name": DDE})
    assert filed.status_code == 201, filed.get_json()
    sign_in(accounts.operator)
    for description in ("@SUM(1+1)*cmd|' /C calc'!A0", "+1-2 用电报装", "-3+3 融资",
                        "＝1+1 全角等号"):
        assert client.post("/console/cases/new", data={
            "channel": "window", "description": description, "category": "factor",
            "enterprise_name": "+86 宁波公司"}).status_code == 303
    session = db.session()
    cases = list(session.scalars(select(Case).order_by(Case.id)))
    # The unit's return reason reaches the accountability list's 说明 column.
    unit = session.scalars(select(Department).order_by(Department.id)).first()
    assert unit is not None
    routed = do_route_to_department(session, cases[1].id, department_id=unit.id,
                                    actor=OPERATOR, now=clock(), calendar=CALENDAR)
    do_return_assignment(session, routed.assignments[0].id, reason="=1+1",
                         actor=liaison(session, unit.name), now=clock(),
                         calendar=CALENDAR)
    do_route_to_department(session, cases[1].id, department_id=unit.id,
                           actor=OPERATOR, now=clock(), calendar=CALENDAR)
    unit.name = "=SUM(A1:A9)"
    session.commit()
    stored = {c.description for c in cases} | {c.enterprise.name for c in cases if c.enterprise}
    assert "=HYPERLINK(\"http://evil.example/x\",\"点此查看详情\")" in stored  # spaces stripped

    sign_in(accounts.supervisor)
    exports = {
        "ledger": client.get(f"/console/reports/ledger.xlsx?{NOVEMBER}").data,
        "accountability": client.get(
            f"/console/reports/accountability?format=xlsx&{NOVEMBER}").data,
        "assessment": client.get("/console/reports/assessment.xlsx?year=2026").data,
    }
    for name, data in exports.items():
        assert data[:2] == b"PK", name
        _no_formula(data)
        for value, cell in _cells(data).items():
            assert cell.data_type == "s", (name, value)
    ledger = _cells(exports["ledger"])
    for value in stored | {"=SUM(A1:A9)"}:
        # Shown unchanged, and marked so that editing the cell keeps it text.
        assert ledger[value].quotePrefix, value
    assert not ledger["诉求内容"].quotePrefix
    assert _cells(exports["accountability"])["=SUM(A1:A9)"].quotePrefix
    assert _cells(exports["assessment"])["=SUM(A1:A9)"].quotePrefix
