"""Supervisors' overview, all cases and hanging list; administrators' reference data."""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import html as lxml_html
from sqlalchemy import select

from cases.case_models import Case
from cases.ledger import sweep_overdue
from cases.models import Department
from console.models import User
from core.db import db
from tests.console.conftest import DEPT_A, Accounts
from workdays.models import WorkdayOverride


def day_cell(html: str, day: date) -> Any:
    """The calendar's cell for ``day`` (its title starts with the ISO date)."""
    cells = lxml_html.fromstring(html).xpath(f'//td[starts-with(@title, "{day.isoformat()} ")]')
    assert len(cells) == 1, f"{day}: {len(cells)} cells"
    return cells[0]


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_overview_counts_open_and_overdue_per_department(
    client: Any, accounts: Accounts, sign_in: Any, routed_case: Case, clock: Any
) -> None:
    clock.set_local("2026-12-10 09:00")
    sweep_overdue(db.session(), clock())
    db.session.commit()
    sign_in(accounts.supervisor)
    html = page(client, "/console/supervisor")
    row = html.split(DEPT_A, 1)[1].split("</tr>", 1)[0]
    assert '<td>1</td><td>1</td>' in row  # open, not yet accepted
    assert '<strong class="overdue">1</strong>' in row
    assert routed_case.number in html  # hanging list
    hanging = page(client, "/console/supervisor/hanging")
    assert routed_case.number in hanging


def test_all_cases_filters(client: Any, accounts: Accounts, sign_in: Any, routed_case: Case,
                           window_case: Any) -> None:
    other = window_case("还在队列中的诉求")
    sign_in(accounts.admin)
    handling = page(client, "/console/supervisor/cases?status=handling")
    assert routed_case.number in handling and other.number not in handling
    dept = db.session.scalars(select(Department.id).where(Department.name == DEPT_A)).one()
    by_department = page(client, f"/console/supervisor/cases?department_id={dept}")
    assert routed_case.number in by_department and other.number not in by_department
    assert other.number in page(client, "/console/supervisor/cases")


def test_all_cases_filters_by_local_date_of_receipt(
    client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any
) -> None:
    # 23:30 local on the 2nd is still the 2nd in Asia/Shanghai, though the 2nd's UTC evening.
    clock.set_local("2026-11-02 23:30")
    late_evening = window_case("十一月二日深夜留言的诉求")
    clock.set_local("2026-11-03 08:10")
    next_morning = window_case("十一月三日上午的诉求")
    sign_in(accounts.supervisor)
    html = page(client, "/console/supervisor/cases?from=2026-11-01&to=2026-11-02")
    assert late_evening.number in html and next_morning.number not in html
    html = page(client, "/console/supervisor/cases?from=2026-11-03")
    assert next_morning.number in html and late_evening.number not in html


def test_all_cases_date_filter_offers_the_same_periods_ledger(
    client: Any, accounts: Accounts, sign_in: Any, routed_case: Case
) -> None:
    sign_in(accounts.supervisor)
    html = page(client, "/console/supervisor/cases?from=2026-11-01&to=2026-11-30&channel=window")
    links = lxml_html.fromstring(html).xpath('//a[contains(., "导出本期间台账")]/@href')
    assert links == ["/console/reports/ledger.xlsx?from=2026-11-01&to=2026-11-30&channel=window"]
    assert "导出本期间台账" not in page(client, "/console/supervisor/cases?from=2026-11-01")


def test_all_cases_rejects_a_malformed_or_reversed_period(
    client: Any, accounts: Accounts, sign_in: Any
) -> None:
    sign_in(accounts.supervisor)
    bad = client.get("/console/supervisor/cases?from=2026-13-01")
    assert bad.status_code == 400 and "不是有效日期" in bad.get_data(as_text=True)
    reversed_period = client.get("/console/supervisor/cases?from=2026-11-30&to=2026-11-01")
    assert reversed_period.status_code == 400
    assert "开始日期晚于结束日期" in reversed_period.get_data(as_text=True)


def test_admin_creates_and_updates_users(client: Any, accounts: Accounts, sign_in: Any) -> None:
    sign_in(accounts.admin)
    dept = db.session.scalars(select(Department.id).where(Department.name == DEPT_A)).one()
    missing = client.post("/console/admin/users", data={
        "username": "li", "display_name": "李联络员", "role": "department",
        "password": "Liaison-pass-1"})
    assert missing.status_code == 422
    assert "须指定所属单位" in missing.get_data(as_text=True)
    created = client.post("/console/admin/users", data={
        "username": "li.si", "display_name": "李四", "role": "department",
        "department_id": str(dept), "password": "Liaison-pass-1", "phone": "13700001111"})
    assert created.status_code == 303
    user = db.session.scalars(select(User).where(User.username == "li.si")).one()
    assert user.department_id == dept and user.phone == "+8613700001111"
    assert "李四" in page(client, "/console/admin/departments")
    client.post(f"/console/admin/users/{user.id}", data={
        "display_name": "李四", "role": "operator", "department_id": "", "phone": ""})
    db.session.expire_all()
    updated = db.session.get(User, user.id)
    assert updated is not None and (updated.role, updated.department_id, updated.active) == (
        "operator", None, False)
    own = client.post(f"/console/admin/users/{accounts.admin.id}", data={
        "display_name": "管理员", "role": "admin", "active": ""})
    assert own.status_code == 422


def test_admin_adds_and_disables_a_department(client: Any, accounts: Accounts,
                                              sign_in: Any) -> None:
    sign_in(accounts.admin)
    client.post("/console/admin/departments", data={"name": "区数据局", "kind": "department"})
    created = db.session.scalars(select(Department).where(Department.name == "区数据局")).one()
    client.post(f"/console/admin/departments/{created.id}/active", data={})
    db.session.expire_all()
    assert db.session.get(Department, created.id).active is False  # type: ignore[union-attr]
    duplicate = client.post("/console/admin/departments",
                            data={"name": "区数据局", "kind": "department"})
    assert duplicate.status_code == 422


def test_working_day_overrides_and_provisional_years(client: Any, accounts: Accounts,
                                                     sign_in: Any) -> None:
    sign_in(accounts.admin)
    html = page(client, "/console/admin/calendar?year=2027")
    assert "2027年为暂定日历" in html
    # A plain Monday of a year without official data: a working day, marked provisional.
    monday = day_cell(html, date(2027, 3, 1))
    assert monday.get("class") == "work src-fallback"
    assert monday.get("title", "").endswith("（暂定）")
    response = client.post("/console/admin/calendar", data={
        "day": "2027-02-06", "working": "1", "note": "春节调休上班"})
    assert response.status_code == 303
    assert db.session.get(WorkdayOverride, date(2027, 2, 6)).working is True  # type: ignore[union-attr]
    html = page(client, "/console/admin/calendar?year=2027")
    assert "春节调休上班" in html and 'work src-override' in html
    client.post("/console/admin/calendar/delete", data={"day": "2027-02-06"})
    db.session.expire_all()
    assert db.session.get(WorkdayOverride, date(2027, 2, 6)) is None
    official = page(client, "/console/admin/calendar?year=2026")
    assert "2026年为暂定日历" not in official
    national_day = day_cell(official, date(2026, 10, 1))
    assert national_day.get("class") == "rest src-official"
    assert "（暂定）" not in national_day.get("title", "")


def test_flow_diagram_page(client: Any, accounts: Accounts, sign_in: Any) -> None:
    sign_in(accounts.admin)
    html = page(client, "/console/admin/flows")
    assert "flowchart TD" in html and 'class="flow-node' in html
    assert "按2" in html  # an edge label of the main menu


def test_flow_page_shows_the_faq_menu_callers_hear(client: Any, accounts: Accounts,
                                                   sign_in: Any, clock: Any) -> None:
    """With phone articles, key 2 plays the FAQ menu: the page shows that, not the file."""
    from cases.actors import Actor
    from knowledge.service import ArticleInput, create_article, set_phone_menu

    session = db.session()
    article = create_article(session, ArticleInput(
        title="贷款贴息怎么申请", answer="可申请贴息。", spoken_answer="符合条件的可以申请贴息。"),
        actor=Actor("operator", "小王"), now=clock(), publish=True)
    set_phone_menu(session, [article.id], actor=Actor("admin", "管理员"), now=clock())
    session.commit()
    sign_in(accounts.admin)
    html = page(client, "/console/admin/flows")
    main_menu = html.split('id="node-hotline-main_menu"')[1].split('class="flow-node')[0]
    assert "按2 政策咨询 → <a href=\"#node-hotline-kb_faq\">政策咨询常见问题</a>" in main_menu
    assert 'id="node-hotline-kb_faq"' in html and "贷款贴息怎么申请，请按1" in html
    # Prompts as callers hear them: the office hours filled in, node types in Chinese.
    assert "{office_hours}" not in html and "08:30至12:00" in html
    assert '<span class="badge">按键菜单</span>' in html


def test_department_list_states_each_units_status(client: Any, accounts: Accounts,
                                                  sign_in: Any) -> None:
    """The 状态 column says 在用 / 已停用; the button beside it says what it will do."""
    session = db.session()
    tax = session.scalars(select(Department).where(Department.name == "区税务局")).one()
    tax.active = False
    session.commit()
    sign_in(accounts.admin)
    html = page(client, "/console/admin/departments")
    row = html.split("<td>区税务局</td>")[1].split("</tr>")[0]
    assert '<td class="department-state"><span class="badge">已停用</span></td>' in row
    assert "重新启用" in row
    active_row = html.split(f"<td>{DEPT_A}</td>")[1].split("</tr>")[0]
    assert ">在用</span>" in active_row and ">停用</button>" in active_row


def test_admin_sees_the_units_without_an_active_liaison(client: Any, accounts: Accounts,
                                                        sign_in: Any) -> None:
    sign_in(accounts.admin)
    page = client.get("/console/admin/departments").get_data(as_text=True)
    warning = page.split('id="without-liaison"')[1].split("</section>")[0]
    assert "区税务局" in warning  # no account at all
    assert DEPT_A not in warning  # department A has its liaison
    assert "区纪委区监委" not in warning  # attends meetings, handles nothing
    accounts.dept_a.active = False
    db.session.commit()
    page = client.get("/console/admin/departments").get_data(as_text=True)
    assert DEPT_A in page.split('id="without-liaison"')[1].split("</section>")[0]
