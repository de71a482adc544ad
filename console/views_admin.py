"""Administration: users, departments and their liaisons, working-day overrides, flows."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from call_flows.mermaid import to_mermaid
from cases.departments import ATTENDING_ONLY_KINDS, KIND_LABELS
from cases.errors import InvalidInput
from cases.models import Department
from console import admin, throttle, users
from console.auth import ADMINS, current_user
from console.blueprint import route
from console.models import ROLE_LABELS, User
from console.web import calendar, checkbox, day, now, perform, text, today, user
from core.db import db
from workdays.store import delete_override, load_overrides, set_override

# -- users --------------------------------------------------------------------------------------


def _users_page() -> str:
    accounts = list(db.session.scalars(select(User).options(selectinload(User.department))
                                       .order_by(User.role, User.username)))
    departments = list(db.session.scalars(select(Department).order_by(Department.sort_order)))
    return render_template("console/admin_users.html", accounts=accounts,
                           departments=departments, roles=ROLE_LABELS)


@route("/admin/users", roles=ADMINS)
def admin_users() -> Any:
    return _users_page()


@route("/admin/users", roles=ADMINS, methods=("POST",))
def admin_user_create() -> Any:
    department = text("department_id")
    return perform(
        lambda: users.create_user(
            db.session, username=text("username"), display_name=text("display_name"),
            role=text("role"), password=request.form.get("password") or "",
            department=int(department) if department.isdigit() else None,
            phone=text("phone"), now=now()),
        success=lambda u: f"已创建用户 {u.username}",
        redirect_to=url_for("console.admin_users"), on_error=_users_page)


@route("/admin/users/<int:user_id>", roles=ADMINS, methods=("POST",))
def admin_user_update(user_id: int) -> Any:
    department = text("department_id")

    def call() -> User:
        account = users.update_user(
            db.session, user_id, display_name=text("display_name"), role=text("role"),
            department=int(department) if department.isdigit() else None, phone=text("phone"),
            active=checkbox("active"), acting_user_id=user().id)
        password = request.form.get("password") or ""
        if password:
            users.set_password(db.session, user_id, password, now=now())
        return account

    return perform(call, success=lambda u: f"用户 {u.username} 已更新",
                   redirect_to=url_for("console.admin_users"), on_error=_users_page)


@route("/admin/users/<int:user_id>/unlock", roles=ADMINS, methods=("POST",))
def admin_user_unlock(user_id: int) -> Any:
    """解除登录限制: clear the account's sign-in failure counts (console.throttle)."""
    def call() -> User:
        account = users.get_user(db.session, user_id)
        throttle.unlock(db.session, account.username)
        return account

    return perform(call, success=lambda u: f"已解除 {u.username} 的登录限制",
                   redirect_to=url_for("console.admin_users"), on_error=_users_page)


# -- departments ------------------------------------------------------------------------------


def _departments_page() -> str:
    departments = list(db.session.scalars(select(Department).order_by(Department.sort_order,
                                                                      Department.id)))
    liaisons: dict[int, list[User]] = {}
    for account in db.session.scalars(select(User).where(User.role == "department")
                                      .order_by(User.username)):
        liaisons.setdefault(account.department_id or 0, []).append(account)
    without = [d for d in departments if d.active and d.kind not in ATTENDING_ONLY_KINDS
               and not any(u.active for u in liaisons.get(d.id, []))]
    return render_template("console/admin_departments.html", departments=departments,
                           liaisons=liaisons, kinds=KIND_LABELS,
                           without_liaison=without)


@route("/admin/departments", roles=ADMINS)
def admin_departments() -> Any:
    return _departments_page()


@route("/admin/departments", roles=ADMINS, methods=("POST",))
def admin_department_create() -> Any:
    return perform(
        lambda: admin.create_department(db.session, name=text("name"), kind=text("kind"),
                                        task_force=checkbox("task_force")),
        success=lambda d: f"已新增单位 {d.name}",
        redirect_to=url_for("console.admin_departments"), on_error=_departments_page)


@route("/admin/departments/<int:department_id>/active", roles=ADMINS, methods=("POST",))
def admin_department_active(department_id: int) -> Any:
    active = checkbox("active")
    return perform(
        lambda: admin.set_department_active(db.session, department_id, active),
        success=lambda d: f"{d.name} 已{'启用' if d.active else '停用'}",
        redirect_to=url_for("console.admin_departments"), on_error=_departments_page)


# -- the working-day calendar ------------------------------------------------------------------


def _calendar_page() -> str:
    current = today()
    year = admin.parse_year(request.values.get("year"), current.year)
    cal = calendar()
    overrides = load_overrides(db.session)
    return render_template(
        "console/admin_calendar.html", year=year, months=admin.year_grid(cal, year),
        overrides=sorted((d, o) for d, o in overrides.items() if d.year == year),
        provisional_years=cal.years_without_data(range(current.year - 1, current.year + 3)),
        year_provisional=bool(cal.years_without_data([year])))


@route("/admin/calendar", roles=ADMINS)
def admin_calendar() -> Any:
    return _calendar_page()


@route("/admin/calendar", roles=ADMINS, methods=("POST",))
def admin_calendar_set() -> Any:
    def call() -> Any:
        when = day("day", "日期")
        working = text("working")
        if working not in {"1", "0"}:
            raise InvalidInput({"working": "请选择上班或休息"})
        account = current_user()
        by = account.username if account else "console"
        return set_override(db.session, when, working == "1", text("note")[:200], by=by)

    return perform(call, success=lambda row: f"{row.day.isoformat()} 已设为"
                   f"{'工作日' if row.working else '休息日'}",
                   redirect_to=lambda row: url_for("console.admin_calendar", year=row.day.year),
                   on_error=_calendar_page)


@route("/admin/calendar/delete", roles=ADMINS, methods=("POST",))
def admin_calendar_delete() -> Any:
    def call() -> Any:
        when = day("day", "日期")
        if not delete_override(db.session, when):
            raise InvalidInput({"day": "该日期没有管理员设定"})
        return when

    return perform(call, success=lambda d: f"已删除 {d.isoformat()} 的设定，恢复官方/默认规则",
                   redirect_to=lambda d: url_for("console.admin_calendar", year=d.year),
                   on_error=_calendar_page)


# -- flows ---------------------------------------------------------------------------------------


@route("/admin/flows", roles=ADMINS)
def admin_flows() -> Any:
    """The flows as callers get them now: with the knowledge base's phone menu, if any."""
    engine = current_app.extensions["ivr_runtime"].engine
    flows = engine.current_flows()
    if not flows:
        abort(404)
    views = [(flow, admin.flow_layers(flow), to_mermaid(flow)) for flow in flows.values()]
    if any(not layers for _f, layers, _m in views):
        flash("流程文件为空", "warning")
    return render_template("console/admin_flows.html", views=views)
