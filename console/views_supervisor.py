"""Supervisors (企服专班 / 领导小组): every case, the hanging list, load per department."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from cases.queries import count_by_status
from cases.vocab import LEDGER_LABELS, MODE_LABELS, STATUS_LABELS, Status
from console import queries
from console.auth import SUPERVISORS
from console.blueprint import route
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


@route("/supervisor/cases", roles=SUPERVISORS)
def supervisor_cases() -> Any:
    department = request.args.get("department_id", "")
    filters = queries.CaseFilters(
        status=_choice("status", STATUS_LABELS), ledger_state=_choice("ledger", LEDGER_LABELS),
        mode=_choice("mode", MODE_LABELS),
        department_id=int(department) if department.isdigit() else None,
        q=(request.args.get("q") or "").strip()[:100])
    page = queries.all_cases(db.session, filters, cursor=request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("console/supervisor_cases.html", page=page, filters=filters,
                           args=args, statuses=STATUS_LABELS, ledgers=LEDGER_LABELS,
                           modes=MODE_LABELS,
                           departments=queries.active_departments(db.session))


@route("/supervisor/hanging", roles=SUPERVISORS)
def supervisor_hanging() -> Any:
    page = queries.hanging_cases(db.session, cursor=request.args.get("after"))
    return render_template("console/hanging.html", page=page)
