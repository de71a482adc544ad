"""Supervisors (企服专班 / 领导小组): every case, the hanging list, load per department."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, make_response, render_template, request

from cases.queries import count_by_status
from cases.vocab import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    LEDGER_LABELS,
    MODE_LABELS,
    STATUS_LABELS,
    Status,
)
from console import queries
from console.auth import SUPERVISORS
from console.blueprint import refuse, route
from console.web import today
from core.db import db


@route("/supervisor", roles=SUPERVISORS)
def supervisor_overview() -> Any:
    loads = queries.department_loads(db.session, today())
    busy = [load for load in loads if load.open or load.overdue]
    hanging = queries.hanging_cases(db.session, limit=10)
    return render_template("console/supervisor.html", loads=busy, hanging=hanging,
                           by_status=count_by_status(db.session), statuses=STATUS_LABELS,
                           hanging_total=queries.hanging_count(db.session),
                           escalated=queries.all_cases(
                               db.session, queries.CaseFilters(status=Status.ESCALATED),
                               limit=20))


def _choice(name: str, choices: dict[str, str]) -> str | None:
    value = request.args.get(name) or None
    return value if value in choices else None


def _date_arg(name: str, label: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(make_response(refuse(
            400, f"{label}“{raw[:20]}”不是有效日期，请按 年-月-日 填写（如 2026-11-01）。")))


@route("/supervisor/cases", roles=SUPERVISORS)
def supervisor_cases() -> Any:
    department = request.args.get("department_id", "")
    filters = queries.CaseFilters(
        status=_choice("status", STATUS_LABELS), ledger_state=_choice("ledger", LEDGER_LABELS),
        mode=_choice("mode", MODE_LABELS),
        department_id=int(department) if department.isdigit() else None,
        category=_choice("area", CATEGORY_LABELS), channel=_choice("channel", CHANNEL_LABELS),
        date_from=_date_arg("from", "开始日期"), date_to=_date_arg("to", "结束日期"),
        q=(request.args.get("q") or "").strip()[:100])
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        abort(make_response(refuse(400, "开始日期晚于结束日期，请重新选择受理期间。")))
    page = queries.all_cases(db.session, filters, cursor=request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("console/supervisor_cases.html", page=page, filters=filters,
                           args=args, statuses=STATUS_LABELS, ledgers=LEDGER_LABELS,
                           modes=MODE_LABELS, areas=CATEGORY_LABELS, channels=CHANNEL_LABELS,
                           ledger_args=_ledger_args(filters),
                           departments=queries.active_departments(db.session))


def _ledger_args(filters: queries.CaseFilters) -> dict[str, str] | None:
    """The 台账 export of the same period and filters, when a whole period is chosen.

    The export filters by unit, area, channel and ledger state; status, mode and the search
    box narrow this list only, so the link says so.
    """
    if not (filters.date_from and filters.date_to):
        return None
    args = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
    for key, value in (("unit", filters.department_id), ("area", filters.category),
                       ("channel", filters.channel), ("ledger", filters.ledger_state)):
        if value:
            args[key] = str(value)
    return args


@route("/supervisor/hanging", roles=SUPERVISORS)
def supervisor_hanging() -> Any:
    page = queries.hanging_cases(db.session, cursor=request.args.get("after"))
    return render_template("console/hanging.html", page=page)
