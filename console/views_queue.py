"""The operator's queue of unrouted cases, new cases from the window, the follow-up list."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, render_template, request, url_for

from cases.enterprises import find_or_register_enterprise
from cases.intake import file_case
from cases.vocab import CATEGORY_LABELS, CHANNEL_LABELS, SUBCATEGORY_LABELS, Channel
from console import queries
from console.auth import CENTRE
from console.blueprint import route
from console.recording_state import problems_by_case
from console.web import actor, calendar, now, optional, perform, stuck_after, text, today, tz
from core.db import db
from followup.queries import operator_tasks
from followup.unreachable import REASONS, record_unreachable, rule_from

# Channels an operator files by hand; voicemails and API channels file themselves.
MANUAL_CHANNELS = [c for c in Channel if c != Channel.HOTLINE_VOICEMAIL]


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _choice(name: str, choices: dict[str, str]) -> str | None:
    value = request.args.get(name) or None
    return value if value in choices else None


@route("/queue", roles=CENTRE)
def queue() -> Any:
    filters = queries.QueueFilters(
        channel=_choice("channel", CHANNEL_LABELS),
        category=_choice("category", CATEGORY_LABELS),
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        overdue=request.args.get("overdue") == "1",
        q=(request.args.get("q") or "").strip()[:100],
    )
    page = queries.operator_queue(db.session, filters, today=today(),
                                  cursor=request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "console/queue.html", page=page, filters=filters, args=args,
        total=queries.queue_size(db.session), channels=CHANNEL_LABELS,
        categories=CATEGORY_LABELS, extensions=queries.extension_requests(db.session),
        problems=problems_by_case(db.session, [c.id for c in page.rows], now(), stuck_after()),
    )


def _new_case_form() -> str:
    return render_template("console/case_new.html", channels=MANUAL_CHANNELS,
                           channel_labels=CHANNEL_LABELS, categories=CATEGORY_LABELS,
                           subcategories=SUBCATEGORY_LABELS)


@route("/cases/new", roles=CENTRE)
def case_new() -> Any:
    return _new_case_form()


@route("/cases/new", roles=CENTRE, methods=("POST",))
def case_create() -> Any:
    """File a case brought to the window, by a resident officer, at a forum…"""

    def action() -> Any:
        at = now()
        enterprise = find_or_register_enterprise(
            db.session, name=optional("enterprise_name"), uscc=optional("enterprise_uscc"),
            now=at)
        for warning in enterprise.warnings if enterprise else []:
            flash(f"提示：{warning}（请核实）", "warning")
        return file_case(
            db.session, channel=text("channel"), description=text("description"),
            category=optional("category"), subcategory=optional("subcategory"),
            enterprise_id=enterprise.enterprise.id if enterprise else None,
            contact_name=optional("contact_name"), contact_phone=optional("contact_phone"),
            actor=actor(), now=at, calendar=calendar(), tz=tz())

    return perform(action, success=lambda c: f"已受理，诉求编号 {c.number}",
                   redirect_to=lambda c: url_for("console.case_detail", case_id=c.id),
                   on_error=_new_case_form)


@route("/followups", roles=CENTRE)
def followups() -> Any:
    """回访: operator tasks (人工回访, automatic calls gave up) first, then every answered case
    waiting for the enterprise's rating."""
    page = queries.follow_ups(db.session, cursor=request.args.get("after"))
    tasks = operator_tasks(db.session) if not request.args.get("after") else []
    return render_template("console/followups.html", page=page, tasks=tasks,
                           unreachable_reasons=REASONS)


@route("/followups/<int:followup_id>/unreachable", roles=CENTRE, methods=("POST",))
def followup_unreachable(followup_id: int) -> Any:
    """回访未果 on an operator task: its reason, then the settings' rule for the case."""
    rule = rule_from(current_app.config.get("FOLLOWUP_UNREACHABLE_RULE"))
    return perform(lambda: record_unreachable(
        db.session, followup_id, reason=text("reason_other") or text("reason"), actor=actor(),
        now=now(), rule=rule), success="已登记回访未果", redirect_to=url_for("console.followups"),
        on_error=followups)
