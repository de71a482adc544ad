"""The department workspace: its cases by due date with the working days left."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template, request

from console import queries
from console.auth import DEPARTMENT
from console.blueprint import route
from console.web import now, user
from core.db import db

RECENT = timedelta(days=30)


@route("/department", roles=DEPARTMENT)
def department_cases() -> Any:
    account = user()
    department_id = account.department_id or 0
    page = queries.department_assignments(db.session, department_id,
                                          cursor=request.args.get("after"))
    recent = queries.department_recent(db.session, department_id, now() - RECENT)
    merged = queries.merged_in_counts(db.session, [a.case_id for a in page.rows])
    return render_template("console/department.html", page=page, recent=recent,
                           department=account.department, merged=merged)
