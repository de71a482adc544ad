"""Enterprise lookup (name, credit code, phone) and registration with the credit-code check."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from cases.case_models import Case
from cases.enterprises import enterprises_for_phone, phone_or_none, register_enterprise
from cases.models import Enterprise
from cases.uscc import check_uscc
from console.auth import CENTRE
from console.blueprint import route
from console.web import now, optional, perform, text
from core.db import db

LIMIT = 50


def find_enterprises(q: str) -> list[Enterprise]:
    """By part of the name, the exact credit code, or a registered phone number."""
    q = q.strip()
    if not q:
        return list(db.session.scalars(select(Enterprise).options(selectinload(
            Enterprise.phones)).order_by(Enterprise.created_at.desc()).limit(LIMIT)))
    by_phone = [e.id for e in enterprises_for_phone(db.session, q)] if phone_or_none(q) else []
    return list(db.session.scalars(
        select(Enterprise).options(selectinload(Enterprise.phones))
        .where(or_(Enterprise.name.icontains(q, autoescape=True),
                   Enterprise.uscc == q.upper().replace(" ", ""),
                   Enterprise.id.in_(by_phone)))
        .order_by(Enterprise.name).limit(LIMIT)))


def _page(status: int = 200) -> Any:
    q = (request.values.get("q") or "").strip()[:100]
    uscc = (request.args.get("check") or "").strip()[:40]
    return render_template("console/enterprises.html", q=q, results=find_enterprises(q),
                           check=check_uscc(uscc) if uscc else None, check_input=uscc,
                           form=request.form), status


@route("/enterprises", roles=CENTRE)
def enterprises() -> Any:
    return _page()


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
