"""The 统计 pages: figures link to their cases, a department sees only its unit."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from cases.notifications import Notification
from core.db import db
from reports import periods, snapshots
from reports.context import app_calendar, app_hotline, scope_for
from reports.models import Bulletin, ReportSnapshot
from tests.cases.factories import local, new_case
from tests.console.conftest import Accounts
from tests.reports.month import NOW_TEXT, UNIT_2, build_month
from tests.reports.pdf_text import read_pdf

NOVEMBER = "from=2026-11-01&to=2026-11-30"


def test_supervisor_page_figures_link_to_exactly_their_cases(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    month = build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert "按时办结率" in page and "71.4%" in page and "5/7" in page
    assert UNIT_2 in page and "热线话务" in page
    late = client.get(f"/console/reports/cases?indicator=late&{NOVEMBER}").get_data(as_text=True)
    found = set(re.findall(r">(\d{10})</a>", late))
    assert found == {month.cases["C"].number, month.cases["E"].number}
    for chart in ("volume", "trend", "units"):
        response = client.get(f"/console/reports/chart/{chart}.png?{NOVEMBER}")
        assert response.status_code == 200 and response.data[:4] == b"\x89PNG"
    sorted_page = client.get(f"/console/reports?{NOVEMBER}&sort=on_time_rate&dir=asc")
    assert sorted_page.status_code == 200


def test_department_sees_and_exports_only_its_unit(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    month = build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.dept_a)  # 区金融发展服务中心 = UNIT_2
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert "仅本单位" in page and "热线话务" not in page
    # The unit's own figures: 2 assignments received, whatever the centre's 7.
    assert re.search(r'data-indicator="received">2<', page)
    response = client.get(f"/console/reports/ledger.xlsx?{NOVEMBER}&unit={month.unit_1}")
    book = load_workbook(io.BytesIO(response.data))
    numbers = {row[1] for row in book["台账"].iter_rows(min_row=4, values_only=True)}
    assert numbers == {month.cases["F"].number, month.cases["H"].number}
    listed = client.get(f"/console/reports/cases?indicator=received&{NOVEMBER}&unit={month.unit_1}")
    assert month.cases["B"].number not in listed.get_data(as_text=True)
    assert client.get("/console/reports/bulletins").status_code == 403
    assert client.get("/console/reports/assessment.xlsx?year=2026").status_code == 403


def test_bad_period_is_a_clear_400(client: Any, accounts: Accounts, sign_in: Any) -> None:
    sign_in(accounts.supervisor)
    response = client.get("/console/reports?kind=month&month=2026-13")
    assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)
    # Out of range: a reason, not a 500.
    for path in ("/console/reports?kind=year&year=0", "/console/reports?kind=month&month=9999-12",
                 "/console/reports?from=2026-01-01&to=9999-12-31",
                 "/console/reports/assessment.xlsx?year=0",
                 "/console/reports/ledger.xlsx?kind=quarter&quarter=0001-Q1"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "统计周期应在2000年至2099年之间" in response.get_data(as_text=True), path
    assert client.get("/console/reports/cases?indicator=nope").status_code == 404


def test_bulletin_draft_edit_issue_and_typical_case(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    month = build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    client.post("/console/reports/typical", data={"number": month.cases["B"].number,
                                                  "note": "当日办结的好做法"})
    assert client.post("/console/reports/bulletins", data={"month": "2026-11"}).status_code == 303
    bulletin = db.session.scalars(select(Bulletin)).one()
    client.post(f"/console/reports/bulletins/{bulletin.id}/editorial",
                data={"editorial": "下月重点：用电增容专项服务。"})
    client.post(f"/console/reports/bulletins/{bulletin.id}/issue")
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.status == "issued" and "sup" in (bulletin.issued_by or "")
    assert bulletin.document and bulletin.issued_at is not None
    issued = client.get(f"/console/reports/bulletins/{bulletin.id}/document").data
    assert issued == bulletin.document
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(issued)).paragraphs)
    assert "下月重点：用电增容专项服务。" in text and "当日办结的好做法" in text
    again = client.post(f"/console/reports/bulletins/{bulletin.id}/editorial",
                        data={"editorial": "改动"})
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).editorial == "下月重点：用电增容专项服务。"
    notices = db.session.scalars(select(Notification).where(Notification.kind == "bulletin"))
    assert len(list(notices)) == 1
    inbox = client.get("/console/notifications").get_data(as_text=True)
    assert "简报" in inbox and "查看简报" in inbox


def test_year_end_table_and_accountability_export(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    month = build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    book = load_workbook(io.BytesIO(client.get("/console/reports/assessment.xlsx?year=2026").data))
    assert book.sheetnames == ["2026年考核指标"]
    rows = list(book.active.iter_rows(min_row=3, values_only=True))
    assert rows[0][:2] == ("单位", "受理") and [r[0] for r in rows[1:]] == ["全部", "区经信局",
                                                                         UNIT_2]
    assert rows[1][1] == 8  # the year holds November's 7 and D (December)
    response = client.get(f"/console/reports/accountability?format=xlsx&{NOVEMBER}")
    listed = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=3,
                                                                            values_only=True))
    assert {(r[1], r[2]) for r in listed[1:]} == {(month.cases["C"].number, "久拖不办"),
                                                  (month.cases["E"].number, "久拖不办"),
                                                  (month.cases["G"].number, "不满意")}
    page = client.get(f"/console/reports/accountability?{NOVEMBER}").get_data(as_text=True)
    assert month.cases["E"].number in page and "久拖不办" in page
    # Why each unit is on the list, with links to its cases.
    units = page[page.index('id="accountability-units"'):page.index("<h2>明细</h2>")]
    row = re.search(r'<tr data-unit="区经信局">(.*?)</tr>', units, re.S)
    assert row is not None
    counts = dict(re.findall(r'data-rule="(\w+)">(\d+)<', row.group(1)))
    assert counts == {"delay": "2", "perfunctory": "0", "unsatisfied": "1",
                      "extension_pending": "0"}
    assert "久拖不办2件、不满意1件" in row.group(1)
    for key in ("C", "E", "G"):
        case = month.cases[key]
        assert f'href="/console/cases/{case.id}"' in row.group(1) and case.number in row.group(1)


def test_the_ledger_export_leaves_no_connection_behind(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    # The rows are read in a helper thread; a thread-local session opened there was never
    # closed and held its transaction open (on PostgreSQL the next TRUNCATE/DDL waited forever).
    build_month(db.session())
    db.session.commit()
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    response = client.get(f"/console/reports/ledger.xlsx?{NOVEMBER}")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    db.session.remove()
    assert db.engine is not None
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_page_serves_figures_computed_ahead_and_a_supervisor_recomputes_them(
        app: Any, client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    session = db.session()
    build_month(session)
    clock.set_local(NOW_TEXT)
    november = scope_for(app, periods.month(2026, 11))
    snapshots.refresh(session, november, app_calendar(app), app_hotline(app), clock())
    session.commit()
    new_case(session, local("2026-11-25 09:00"), "新到一件十一月的诉求")
    session.commit()
    clock.set_local("2026-12-08 10:04")
    sign_in(accounts.supervisor)
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    # The stored figures, and when they were computed; the new case is not in them yet.
    assert re.search(r'data-indicator="received">7<', page)
    assert "数据更新于 2026-12-08 10:00" in page
    response = client.post(f"/console/reports/refresh?{NOVEMBER}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/console/reports?{NOVEMBER}")
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert re.search(r'data-indicator="received">8<', page)
    assert "数据更新于 2026-12-08 10:04" in page
    # The charts were drawn with the figures, and the page's images are those stored.
    assert snapshots.load_chart(db.session(), november, "units", clock()) is not None
    row = db.session.get(ReportSnapshot, snapshots.chart_key(november, "units"))
    row.payload = b"\x89PNG stored by the refresh"
    db.session.commit()
    chart = client.get(f"/console/reports/chart/units.png?{NOVEMBER}")
    assert chart.data == b"\x89PNG stored by the refresh"


def test_a_custom_period_is_summed_from_the_days_counted_ahead(
        app: Any, client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    session = db.session()
    build_month(session)
    clock.set_local(NOW_TEXT)
    custom = "from=2026-11-03&to=2026-12-02"
    sign_in(accounts.supervisor)
    computed = client.get(f"/console/reports?{custom}").get_data(as_text=True)
    sign_in(accounts.dept_a)
    computed_unit = client.get(f"/console/reports?{custom}").get_data(as_text=True)
    app.extensions["reports_cache"] = None  # a new minute: nothing kept in memory
    snapshots.refresh_standard(session, scope_for(app, periods.month(2026, 12)),
                               app_calendar(app), app_hotline(app), clock())
    new_case(session, local("2026-11-25 09:00"), "新到一件十一月的诉求")
    session.commit()
    clock.set_local("2026-12-08 10:04")
    # The days counted at 10:00, summed: the same figures (without the new case) and that
    # pass's time, for the centre and for a unit's liaison.
    summed_unit = client.get(f"/console/reports?{custom}").get_data(as_text=True)
    sign_in(accounts.supervisor)
    summed = client.get(f"/console/reports?{custom}").get_data(as_text=True)
    assert "数据更新于 2026-12-08 10:00" in summed and "数据更新于 2026-12-08 10:00" in summed_unit

    def figures_of(page: str) -> list[str]:
        return re.findall(r'data-indicator="[a-z_0-9]+">[^<]*<', page)

    assert figures_of(summed) == figures_of(computed) and figures_of(summed)
    assert figures_of(summed_unit) == figures_of(computed_unit) and figures_of(summed_unit)


def test_page_computes_figures_when_none_were_computed_ahead(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert re.search(r'data-indicator="received">7<', page)
    assert "数据更新于 2026-12-08 10:00" in page
    assert db.session.scalars(select(ReportSnapshot)).all() == []


def test_a_department_cannot_recompute_the_centres_figures(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    clock.set_local(NOW_TEXT)
    sign_in(accounts.dept_a)
    assert client.post(f"/console/reports/refresh?{NOVEMBER}").status_code == 403
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert "立即刷新" not in page


def test_supervisors_download_the_pdf_from_the_console(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    assert client.post("/console/reports/bulletins", data={"month": "2026-11"}).status_code == 303
    bulletin = db.session.scalars(select(Bulletin)).one()
    page = client.get("/console/reports/bulletins").get_data(as_text=True)
    assert f"/console/reports/bulletins/{bulletin.id}/document.pdf" in page
    response = client.get(f"/console/reports/bulletins/{bulletin.id}/document.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = read_pdf(response.data)
    assert pdf.text(1).startswith("企业服务工作简报")


def test_an_issued_month_keeps_its_figures_and_a_correction_shows_as_a_revision(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    build_month(db.session())
    clock.set_local(NOW_TEXT)
    sign_in(accounts.supervisor)
    client.post("/console/reports/bulletins", data={"month": "2026-11"})
    bulletin = db.session.scalars(select(Bulletin)).one()
    client.post(f"/console/reports/bulletins/{bulletin.id}/issue")
    db.session.expire_all()
    issued = db.session.get(Bulletin, bulletin.id)
    assert issued.figures is not None and issued.figures["received"] == 7
    document = issued.document
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert 'id="revised"' not in page
    # A November request recorded late: November's figures change, the bulletin does not.
    new_case(db.session(), local("2026-11-25 09:00"), "补录的十一月诉求")
    db.session.commit()
    clock.set_local("2026-12-08 10:10")
    client.post(f"/console/reports/refresh?{NOVEMBER}")  # figures kept a minute are recomputed
    page = client.get(f"/console/reports?{NOVEMBER}").get_data(as_text=True)
    assert 'id="revised"' in page and "第1期" in page and "受理 7→8（+1）" in page
    assert "即时办结率 14.3%→12.5%（-1.8个百分点）" in page
    assert client.get(f"/console/reports/bulletins/{bulletin.id}/document").data == document
