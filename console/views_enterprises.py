"""Enterprise lookup (name, credit code, phone) and registration with the credit-code check."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.case_models import Case
from cases.enterprises import register_enterprise
from cases.models import Enterprise
from cases.uscc import check_uscc
from console.auth import CENTRE
from console.blueprint import route
from console.enterprise_picker import find_enterprises
from console.web import now, optional, perform, text
from core.db import db

LIMIT = 50
SEARCH_LIMIT = 10


def _page(status: int = 200) -> Any:
    q = (request.values.get("q") or "").strip()[:100]
    uscc = (request.args.get("check") or "").strip()[:40]
    return render_template("console/enterprises.html", q=q,
                           results=find_enterprises(db.session, q, LIMIT),
                           check=check_uscc(uscc) if uscc else None,
                           check_input=uscc), status


@route("/enterprises", roles=CENTRE)
def enterprises() -> Any:
    return _page()


@route("/enterprises/search", roles=CENTRE)
def enterprise_search() -> Any:
    """JSON for the review form's search list: a few matches by name, credit code, phone."""
    q = (request.args.get("q") or "").strip()[:100]
    found = find_enterprises(db.session, q, SEARCH_LIMIT) if len(q) >= 2 else []
    return jsonify(results=[{"id": e.id, "name": e.name, "uscc": e.uscc or ""}
                            for e in found])


@route("/enterprises", roles=CENTRE, methods=("POST",))
def enterprise_create() -> Any:
    raw = text("phones").replace("，", ",").replace("、", ",")
    phones = [p for p in raw.split(",") if p.strip()]

    def call() -> Any:
        result = register_enterprise(
            db.session, name=text("name"), uscc=optional("uscc"), town=optional("town"),
            contact_name=optional("contact_name"), phones=phones, now=now())
        for warning in result.warnings:
            flash(f"提示：{warning}（已登记，请核实）", "warning")
        return result.enterprise

    return perform(call, success=lambda e: f"企业“{e.name}”已登记",
                   redirect_to=lambda e: url_for("console.enterprise_detail", enterprise_id=e.id),
                   on_error=lambda: _page()[0])


@route("/enterprises/<int:enterprise_id>", roles=CENTRE)
def enterprise_detail(enterprise_id: int) -> Any:
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.id == enterprise_id)
                                    .options(selectinload(Enterprise.phones))).one_or_none()
    if enterprise is None:
        abort(404)
    cases = list(db.session.scalars(select(Case).where(Case.enterprise_id == enterprise.id)
                                    .order_by(Case.received_at.desc()).limit(100)))
    check = check_uscc(enterprise.uscc) if enterprise.uscc else None
    return render_template("console/enterprise.html", enterprise=enterprise, cases=cases,
                           check=check)
