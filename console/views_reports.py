"""统计 (reports): figures, charts, the ledger export, accountability, hot topics, bulletins.

Supervisors and administrators see every unit; a department liaison sees the same pages for
its own unit only (figures, cases, export). The domain lives in :mod:`reports`.

Long on purpose: the 统计 pages share their period, scope and unit checks (the helpers at the
top); each view is parse, one domain call, render.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.case_models import Assignment, Case
from cases.vocab import CATEGORY_LABELS, CHANNEL_LABELS, LEDGER_LABELS
from console.auth import DEPARTMENT, SUPERVISORS
from console.blueprint import route
from console.forms import note_errors
from console.models import User
from console.web import now, user
from core.db import db
from extraction.service import Acceptance, acceptance
from reports import accountability as accountability_rules
from reports import bulletin as bulletins
from reports import hot_topics as topics
from reports import overview, periods, snapshots
from reports.assessment import write_assessment
from reports.cache import app_cache
from reports.calls import CALL_LABELS
from reports.context import app_calendar, app_hotline, app_today, scope_for
from reports.filters import LedgerFilters
from reports.indicators import LABELS, RATE_LABELS, Scope
from reports.models import Bulletin, TypicalCase
from reports.pdf import PdfError
from reports.revisions import revision
from reports.service import bulletin_document, bulletin_pdf, export_ledger, issue_bulletin
from reports.settings import RULE_LABELS

REPORT_ROLES = SUPERVISORS | DEPARTMENT
CASE_LIST_LIMIT = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNIT_COLUMNS = ("received", "routed", "joint", "answered", "due", "on_time", "on_time_rate",
                "overdue_now", "hanging_now", "returned", "extension_approved",
                "extension_rejected", "reworked", "rated", "satisfaction_rate",
                "followup_rate", "average_days")


def _own_department(account: User) -> int | None:
    """A department liaison's unit (forced on every report); None for supervisors."""
    if account.role != "department":
        return None
    if not account.department_id:
        abort(403)
    return account.department_id


def _period() -> periods.Period:
    args = request.args
    try:
        if args.get("from") and args.get("to"):
            return periods.custom(periods.parse_date(args["from"]), periods.parse_date(args["to"]))
        kind = args.get("kind") or "month"
        if kind == "month" and not args.get("month"):
            today = app_today(current_app)
            return periods.month(today.year, today.month)
        return periods.parse(kind, args.get(kind, ""), args.get("start", ""), args.get("end", ""))
    except periods.PeriodError as exc:
        abort(Response(render_template("console/error.html", status=400, message=str(exc)),
                       400))


def _scope() -> Scope:
    return scope_for(current_app, _period(), _own_department(user()))


def _period_args(period: periods.Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _unit_value(row: overview.UnitRow, column: str) -> Any:
    if column in RATE_LABELS:
        return row.figures.rate(column).value
    if column == "average_days":
        return row.figures.average_days
    return row.figures[column]


def _figures(scope: Scope) -> snapshots.Snapshot:
    """The period's figures: computed ahead if fresh (the period's own, or summed from the
    days counted ahead), else computed now (cached a minute)."""
    stored = snapshots.load(db.session, scope, now())
    if stored is not None:
        return stored
    # Any other period: summed from the days the job counted ahead, else computed now.
    parsed = current_app.extensions.setdefault("reports_days", {})
    return app_cache(current_app).get(("figures", scope), lambda: snapshots.from_days(
        db.session, scope, app_hotline(current_app), now(), parsed) or snapshots.compute(
        db.session, scope, app_calendar(current_app), app_hotline(current_app), now()))


@route("/reports", roles=REPORT_ROLES)
def reports_home() -> Any:
    scope = _scope()
    figures = _figures(scope)
    view = figures.view
    sort = request.args.get("sort") or "received"
    if sort not in UNIT_COLUMNS and sort != "name":
        sort = "received"
    descending = request.args.get("dir", "desc") != "asc"
    units = sorted(view.units, key=lambda r: r.name if sort == "name" else (
        _unit_value(r, sort) is None, _unit_value(r, sort) or 0), reverse=descending)
    calls = figures.calls
    base_args = {k: v for k, v in request.args.items() if k not in ("sort", "dir")}
    return render_template(
        "console/reports.html", view=view, scope=scope, units=units, sort=sort,
        descending=descending, labels=LABELS, rate_labels=RATE_LABELS, columns=UNIT_COLUMNS,
        calls=calls, call_labels=CALL_LABELS, areas=CATEGORY_LABELS, base_args=base_args,
        computed_at=figures.computed_at.astimezone(scope.tz),
        period_args=_period_args(scope.period), kind=request.args.get("kind") or "month",
        level="units" if scope.department_id is not None else "cases",
        suggestion_acceptance=(_suggestion_acceptance(scope)
                               if scope.department_id is None else None),
        revised=None if scope.department_id is not None else revision(
            db.session, scope.period, view.totals))


def _suggestion_acceptance(scope: Scope) -> Acceptance:
    """字段建议采纳率: suggestions operators decided on during the period (centre only)."""
    start = datetime.combine(scope.period.start, time(), scope.tz)
    end = datetime.combine(scope.period.end + timedelta(days=1), time(), scope.tz)
    return acceptance(db.session, start, end)


@route("/reports/refresh", roles=SUPERVISORS, methods=("POST",))
def reports_refresh() -> Any:
    """立即刷新: compute the period's figures now and keep them for every supervisor."""
    scope = _scope()
    snapshots.refresh_period(db.session, scope, app_calendar(current_app),
                             app_hotline(current_app), now())
    db.session.commit()
    flash(f"{scope.period.label}的统计数据已重新计算", "success")
    args: dict[str, Any] = _period_args(scope.period)
    return redirect(url_for("console.reports_home", **args), code=303)


@route("/reports/chart/<name>.png", roles=REPORT_ROLES)
def reports_chart(name: str) -> Any:
    if name not in snapshots.CHARTS:
        abort(404)
    scope = _scope()
    png = snapshots.load_chart(db.session, scope, name, now()) or app_cache(current_app).get(
        ("chart", name, scope),
        lambda: snapshots.draw_chart(db.session, scope, app_calendar(current_app), name))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _ledger_filters(department_id: int | None) -> LedgerFilters:
    args = request.args
    indicator = args.get("indicator") or None
    if indicator is not None and indicator not in LABELS:
        abort(404)
    return LedgerFilters(
        department_id=department_id if department_id is not None else _int_arg("unit"),
        category=args.get("area") if args.get("area") in CATEGORY_LABELS else None,
        channel=args.get("channel") if args.get("channel") in CHANNEL_LABELS else None,
        ledger_state=args.get("ledger") if args.get("ledger") in LEDGER_LABELS else None,
        indicator=indicator)


@route("/reports/cases", roles=REPORT_ROLES)
def reports_cases() -> Any:
    """The cases behind one figure (or the period's cases with the ledger filters)."""
    scope = _scope()
    filters = _ledger_filters(scope.department_id)
    stmt = (filters.select_cases(scope)
            .options(selectinload(Case.enterprise),
                     selectinload(Case.assignments).selectinload(Assignment.department))
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(CASE_LIST_LIMIT + 1))
    rows = list(db.session.scalars(stmt))
    return render_template(
        "console/reports_cases.html", rows=rows[:CASE_LIST_LIMIT],
        more=len(rows) > CASE_LIST_LIMIT, scope=scope, filters=filters, labels=LABELS,
        areas=CATEGORY_LABELS, channels=CHANNEL_LABELS, ledgers=LEDGER_LABELS,
        units=overview.department_names(db.session), args=request.args.to_dict())


def _xlsx_response(path: Path, name: str) -> Response:
    """Stream the finished file; it is unlinked now and freed once the response is sent."""
    handle = path.open("rb")
    path.unlink()
    return send_file(handle, mimetype=XLSX, as_attachment=True, download_name=name)


def _write_xlsx(write: Any, name: str) -> Response:
    """Write a workbook to a temporary file with ``write(path)`` and stream it."""
    fd, temp = tempfile.mkstemp(prefix="report-", suffix=".xlsx")
    os.close(fd)
    path = Path(temp)
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _xlsx_response(path, name)


@route("/reports/ledger.xlsx", roles=REPORT_ROLES)
def reports_ledger() -> Any:
    """台账 export with the case list's filters; a department gets only its own cases."""
    scope = _scope()
    filters = _ledger_filters(scope.department_id)
    return _write_xlsx(
        lambda path: export_ledger(db.session, scope, app_calendar(current_app), filters, path),
        f"台账_{scope.period.start}_{scope.period.end}.xlsx")


@route("/reports/accountability", roles=REPORT_ROLES)
def reports_accountability() -> Any:
    scope = _scope()
    entries = accountability_rules.accountability(db.session, scope, app_calendar(current_app))
    if request.args.get("format") == "xlsx":
        unit = None if scope.department_id is None else overview.department_names(
            db.session).get(scope.department_id)
        return _write_xlsx(lambda path: accountability_rules.write_xlsx(entries, path, scope,
                                                                        unit),
                           f"督查问责_{scope.period.start}_{scope.period.end}.xlsx")
    return render_template("console/reports_accountability.html", entries=entries,
                           units=accountability_rules.by_unit(entries),
                           scope=scope, rules=RULE_LABELS,
                           period_args=_period_args(scope.period))


@route("/reports/assessment.xlsx", roles=SUPERVISORS)
def reports_assessment() -> Any:
    """年底考核: the year's indicators per unit in one sheet."""
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() else _scope().today.year
    try:
        scope = scope_for(current_app, periods.year(year))
    except periods.PeriodError as exc:
        abort(Response(render_template("console/error.html", status=400, message=str(exc)),
                       400))
    return _write_xlsx(
        lambda path: write_assessment(db.session, scope, app_calendar(current_app), path),
        f"年度考核_{year}.xlsx")


@route("/reports/hot-topics", roles=REPORT_ROLES)
def reports_hot_topics() -> Any:
    scope = _scope()
    found = topics.hot_topics(db.session, scope)
    return render_template("console/reports_topics.html", topics=found, scope=scope,
                           period_args=_period_args(scope.period))


@route("/reports/topic", roles=REPORT_ROLES)
def reports_topic() -> Any:
    """The cases of a hot topic: the period's requests mentioning the word."""
    scope = _scope()
    word = (request.args.get("word") or "").strip()[:30]
    if not word:
        abort(404)
    area = request.args.get("area") if request.args.get("area") in CATEGORY_LABELS else None
    ids = topics.cases_mentioning(word, scope, area)
    rows = list(db.session.scalars(
        select(Case).where(Case.id.in_(ids))
        .options(selectinload(Case.enterprise),
                 selectinload(Case.assignments).selectinload(Assignment.department))
        .order_by(Case.received_at.desc()).limit(CASE_LIST_LIMIT)))
    return render_template("console/reports_cases.html", rows=rows, more=False, scope=scope,
                           filters=None, word=word, labels=LABELS, areas=CATEGORY_LABELS,
                           channels=CHANNEL_LABELS, ledgers=LEDGER_LABELS, units={},
                           args=request.args.to_dict())


# -- bulletins ------------------------------------------------------------------------------------


def _actor_label() -> str:
    account = user()
    return f"{account.display_name}（{account.username}）"


def _bulletin(bulletin_id: int) -> Bulletin:
    found = db.session.get(Bulletin, bulletin_id)
    if found is None:
        abort(404)
    return found


@route("/reports/bulletins", roles=SUPERVISORS)
def reports_bulletins() -> Any:
    rows = list(db.session.scalars(select(Bulletin).order_by(Bulletin.month.desc())))
    typical = list(db.session.scalars(
        select(TypicalCase).options(selectinload(TypicalCase.case))
        .order_by(TypicalCase.marked_at.desc()).limit(50)))
    today = app_today(current_app)
    last = periods.month(today.year, today.month).previous()
    return render_template("console/reports_bulletins.html", rows=rows, typical=typical,
                           default_month=f"{last.start:%Y-%m}")


def _bulletins_refused(fields: dict[str, str]) -> Any:
    """The bulletins page again, with what was typed and the message next to its field."""
    note_errors(fields)
    flash("；".join(fields.values()), "error")
    return reports_bulletins(), 422


@route("/reports/bulletins", roles=SUPERVISORS, methods=("POST",))
def reports_bulletin_create() -> Any:
    try:
        period = periods.parse_month(request.form.get("month", ""))
    except periods.PeriodError as exc:
        return _bulletins_refused({"month": str(exc)})
    created = bulletins.create_draft(db.session, period, by=_actor_label(), now=now())
    db.session.commit()
    flash(f"{period.label}简报草稿已生成" if created else f"{period.label}简报已存在",
          "success" if created else "error")
    return redirect(url_for("console.reports_bulletins"), code=303)


@route("/reports/bulletins/<int:bulletin_id>/document", roles=SUPERVISORS)
def reports_bulletin_document(bulletin_id: int) -> Any:
    found = _bulletin(bulletin_id)
    scope = scope_for(current_app, periods.parse_month(found.month))
    data = bulletin_document(db.session, scope, app_calendar(current_app))
    return Response(data, mimetype=DOCX, headers={
        "Content-Disposition": f"attachment; filename=bulletin-{found.month}.docx"})


@route("/reports/bulletins/<int:bulletin_id>/document.pdf", roles=SUPERVISORS)
def reports_bulletin_pdf(bulletin_id: int) -> Any:
    """The bulletin as PDF, ready to print or send (converted from the same .docx)."""
    found = _bulletin(bulletin_id)
    scope = scope_for(current_app, periods.parse_month(found.month))
    try:
        data = bulletin_pdf(db.session, scope, app_calendar(current_app))
    except PdfError as exc:
        return Response(render_template("console/error.html", status=503, message=str(exc)),
                        503)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=bulletin-{found.month}.pdf"})


@route("/reports/bulletins/<int:bulletin_id>/editorial", roles=SUPERVISORS, methods=("POST",))
def reports_bulletin_editorial(bulletin_id: int) -> Any:
    found = _bulletin(bulletin_id)
    try:
        bulletins.save_editorial(db.session, found, request.form.get("editorial", ""))
    except bulletins.BulletinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.reports_bulletins"), code=303)
    db.session.commit()
    flash("工作动态已保存", "success")
    return redirect(url_for("console.reports_bulletins"), code=303)


@route("/reports/bulletins/<int:bulletin_id>/issue", roles=SUPERVISORS, methods=("POST",))
def reports_bulletin_issue(bulletin_id: int) -> Any:
    found = _bulletin(bulletin_id)
    scope = scope_for(current_app, periods.parse_month(found.month))
    try:
        issue_bulletin(db.session, found, scope, app_calendar(current_app), by=_actor_label(),
                       now=now())
    except bulletins.BulletinError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.reports_bulletins"), code=303)
    db.session.commit()
    flash(f"第{found.issue_number}期简报已印发", "success")
    return redirect(url_for("console.reports_bulletins"), code=303)


@route("/reports/typical", roles=SUPERVISORS, methods=("POST",))
def reports_typical_mark() -> Any:
    """Mark a case (by number) as typical (典型案例), with the supervisor's comment."""
    number = (request.form.get("number") or "").strip()
    case_id = db.session.scalar(select(Case.id).where(Case.number == number))
    if case_id is None:
        return _bulletins_refused({"number": f"诉求编号不存在：{number}"})
    result = bulletins.mark_typical(db.session, case_id, note=request.form.get("note", ""),
                                    by=_actor_label(), now=now())
    db.session.commit()
    flash("已标为典型案例" if result else "该诉求已是典型案例", "success" if result else "error")
    return redirect(url_for("console.reports_bulletins"), code=303)


@route("/reports/typical/<int:typical_id>/remove", roles=SUPERVISORS, methods=("POST",))
def reports_typical_remove(typical_id: int) -> Any:
    found = db.session.get(TypicalCase, typical_id)
    if found is None:
        abort(404)
    db.session.delete(found)
    db.session.commit()
    flash("已取消典型案例", "success")
    return redirect(url_for("console.reports_bulletins"), code=303)

