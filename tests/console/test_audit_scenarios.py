"""The audit's scenario end to end: filed through the API, handled through the console, and
the same figure in the CLI, the JSON, the 统计 page, the ledger (.xlsx) and the bulletin (.docx).

Received Thursday 2026-09-24 at 17:00 (before the close of business: the 即时办 answer is due
that day), answered instantly on the next working day, Monday 09-28 (Friday 09-25 is 中秋):
late. Rated 1, it goes back to the queue, is routed on 09-29 and answered on time on 10-08,
then rated 4. Once late, late in the period of the first miss: September counts it late
(0 of 1 on time); October does not assess it again. It was answered in September (its first
answer), whatever followed.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from api.tokens import create_token
from cases.case_models import Case
from core.db import db, utcnow
from tests.console.conftest import DEPT_A, Accounts, department_id

SEPTEMBER = "from=2026-09-01&to=2026-09-30"
OCTOBER = "from=2026-10-01&to=2026-10-31"


def _act(client: Any, path: str, **data: Any) -> None:
    response = client.post(path, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]


def test_a_late_instant_answer_stays_late_in_its_month_everywhere(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any, app: Any,
        tmp_path: Any) -> None:
    with db.transaction() as session:
        _row, token = create_token(session, "web_platform", "公共服务平台", now=utcnow())
    clock.set_local("2026-09-24 17:00")
    filed = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
        "description": "咨询用电报装的办理流程", "category": "factor", "subcategory": "utilities",
        "contact_name": "王经理", "contact_phone": "13800138000"})
    assert filed.status_code == 201
    case_id = db.session.scalars(select(Case.id)).one()
    sign_in(accounts.operator)
    clock.set_local("2026-09-28 09:00")
    _act(client, f"/console/cases/{case_id}/answer", text="已电话告知办理流程")
    clock.set_local("2026-09-29 10:00")
    _act(client, f"/console/cases/{case_id}/rating", score=1)
    clock.set_local("2026-09-29 11:00")
    _act(client, f"/console/cases/{case_id}/route",
         department_id=department_id(db.session(), DEPT_A), confirm_no_liaison="on")
    case = db.session.get(Case, case_id)
    assert case is not None and case.due_date is not None
    assignment = case.assignments[-1].id
    sign_in(accounts.dept_a)
    clock.set_local("2026-10-08 10:00")
    _act(client, f"/console/assignments/{assignment}/reply", text="已上门指导")
    sign_in(accounts.operator)
    clock.set_local("2026-10-09 10:00")
    _act(client, f"/console/cases/{case_id}/rating", score=4)
    clock.set_local("2026-10-20 10:00")

    # CLI and JSON.
    runner = app.test_cli_runner()
    september = json.loads(runner.invoke(args=["reports", "kpis", "--from", "2026-09-01",
                                               "--to", "2026-09-30", "--json"]).output)
    october = json.loads(runner.invoke(args=["reports", "kpis", "--from", "2026-10-01",
                                             "--to", "2026-10-31", "--json"]).output)
    assert september["on_time_rate"] == {"numerator": 0, "denominator": 1, "value": 0.0}
    assert september["counts"]["late"] == 1 and september["answered"] == 1
    assert october["on_time_rate"]["denominator"] == 0 and october["answered"] == 0
    text = runner.invoke(args=["reports", "kpis", "--from", "2026-09-01",
                               "--to", "2026-09-30"]).output
    assert "按时办结率 0.0%（0/1）" in text
    # The 统计 page.
    sign_in(accounts.supervisor)
    page = client.get(f"/console/reports?{SEPTEMBER}").get_data(as_text=True)
    assert re.search(r'data-indicator="late">1<', page) and "0/1" in page
    page = client.get(f"/console/reports?{OCTOBER}").get_data(as_text=True)
    assert re.search(r'data-indicator="due">0<', page)
    # The ledger: 否, and its indicators sheet.
    book = load_workbook(io.BytesIO(client.get(f"/console/reports/ledger.xlsx?{SEPTEMBER}").data))
    rows = list(book["台账"].iter_rows(min_row=3, values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["是否按时"] == "否"
    indicators = list(book.worksheets[1].iter_rows(min_row=3, values_only=True))
    head = dict(zip(indicators[0], indicators[1], strict=True))
    assert (head["应办结"], head["按时办结"], head["按时办结率"]) == (1, 0, 0.0)
    # The bulletin.
    out = tmp_path / "september.docx"
    assert runner.invoke(args=["reports", "bulletin", "--month", "2026-09",
                               "--out", str(out)]).exit_code == 0
    words = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "按时办结率0.0%（0/1" in words and "逾期办结1件" in words
