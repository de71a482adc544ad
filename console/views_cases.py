"""Case detail and the lifecycle forms: answer, route, joint handling, escalate, rate…

Handlers are thin: parse the form, make one domain call, commit, redirect with a message.
Department users reach a case only if it was assigned to their department (else 404).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.actions.assignments import (
    do_accept_assignment,
    do_reply,
    do_report_progress,
    do_return_assignment,
)
from cases.actions.details import do_update_details
from cases.actions.escalation import do_escalate, do_record_leading_group_decision
from cases.actions.extensions import do_approve_extension, do_reject_extension, do_request_extension
from cases.actions.joint import do_record_meeting_held, do_start_joint_handling
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_reroute, do_route_to_department
from cases.case_models import Assignment, Case
from cases.errors import InvalidInput
from cases.models import Department, Enterprise
from cases.timeliness import assignment_overdue as assignment_is_overdue
from cases.vocab import (
    CATEGORY_LABELS,
    RATING_LABELS,
    SUBCATEGORY_LABELS,
    Status,
)
from console import actions as case_actions
from console import enterprise_picker, queries, review, sms_notes
from console.auth import CENTRE, EVERYONE, SUPERVISORS
from console.blueprint import bp, refuse, route
from console.users import liaison_problems, require_liaison_or_confirmation
from console.web import (
    actor,
    calendar,
    checkbox,
    day,
    integer,
    integers,
    local_datetime,
    now,
    optional,
    perform,
    text,
    today,
    tz,
    user,
)
from core.db import db
from extraction.service import FIELD_LABELS, case_suggestions, current_value
from followup.queries import followups_of_case


def visible_case(case_id: int) -> Case:
    """The case if the signed-in user may see it; 404 otherwise (existence is not revealed)."""
    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    account = user()
    if account.role == "department" and not queries.department_sees_case(
            db.session, account.department_id or 0, case.id):
        abort(404)
    return case


def _load(case_id: int) -> Case:
    visible_case(case_id)
    case = db.session.scalars(
        select(Case).where(Case.id == case_id).execution_options(populate_existing=True)
        .options(selectinload(Case.assignments).selectinload(Assignment.department),
                 selectinload(Case.replies), selectinload(Case.events),
                 selectinload(Case.suggestions), selectinload(Case.recordings),
                 selectinload(Case.ratings), selectinload(Case.meetings),
                 selectinload(Case.escalations), selectinload(Case.enterprise))
    ).one()
    return case


def _ids_in_audit(case: Case, key: str) -> set[int]:
    return {value for event in case.events for side in (event.before, event.after)
            if isinstance(value := side.get(key), int)}


def _audit_names(case: Case) -> dict[str, dict[int, str]]:
    """What the ids in the case's audit trail stand for: enterprises' names, case numbers."""
    names: dict[str, dict[int, str]] = {"enterprise_id": {}, "merged_into_id": {}}
    enterprises = _ids_in_audit(case, "enterprise_id")
    if enterprises:
        names["enterprise_id"] = dict(db.session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(enterprises)))
            .tuples().all())
    cases = _ids_in_audit(case, "merged_into_id")
    if cases:
        names["merged_into_id"] = dict(db.session.execute(
            select(Case.id, Case.number).where(Case.id.in_(cases))).tuples().all())
    return names


def case_page(case_id: int) -> str:
    """The case detail page (also what a failed form answers with, with its message)."""
    case = _load(case_id)
    account = user()
    current_today = today()
    late = {a.id for a in case.assignments if assignment_is_overdue(a, current_today)}
    departments = queries.active_departments(db.session)
    return render_template(
        "console/case.html", case=case,
        actions=case_actions.available(case, account, overdue=late),
        recordings=review.reviewed(db.session, review.recordings_of_case(db.session, case)),
        departments=departments, attending_bodies=queries.attending_bodies(db.session),
        department_names={d.id: d.name for d in db.session.scalars(select(Department))},
        audit_names=_audit_names(case),
        suggested_ids=[s.department_id for s in case.suggestions if s.department_id],
        categories=CATEGORY_LABELS, subcategories=SUBCATEGORY_LABELS, ratings=RATING_LABELS,
        subcategory_names={code: name for names in SUBCATEGORY_LABELS.values()
                           for code, name in names.items()},
        show_centre=account.role in CENTRE, overdue_ids=late,
        followups=followups_of_case(db.session, case.id),
        texts=(sms_notes.case_texts(db.session, case.id, current_app.config)
               if account.role in CENTRE else []),
        field_suggestions=(case_suggestions(db.session, case.id)
                           if account.role in CENTRE else []),
        suggestion_labels=FIELD_LABELS,
        suggestion_current=lambda field: current_value(case, field),
    )


@route("/cases/<int:case_id>", roles=EVERYONE)
def case_detail(case_id: int) -> Any:
    return case_page(case_id)


def case_action(case_id: int, message: str, call: Any, *, tells_enterprise: bool = False
                ) -> Any:
    """Run a form's action on the case; the message adds what became of the texts it queued
    (from the outbox rows: :mod:`console.sms_notes`). An action that answers the case, or
    ``tells_enterprise``, says why the enterprise got no text when none was queued."""
    status_before = visible_case(case_id).status
    since = sms_notes.last_id(db.session)

    def success(_result: Any) -> str:
        case = db.session.get(Case, case_id)
        answered_now = (case is not None and case.status == Status.ANSWERED
                        and status_before != Status.ANSWERED)
        note = sms_notes.outcome(db.session, case_id, since, current_app.config,
                                 tells_enterprise=tells_enterprise or answered_now)
        return f"{message}；{note}" if note else message

    return perform(call, success=success,
                   redirect_to=url_for("console.case_detail", case_id=case_id),
                   on_error=lambda: case_page(case_id))


# -- the centre -----------------------------------------------------------------------------


@route("/cases/<int:case_id>/details", roles=CENTRE, methods=("POST",))
def case_review(case_id: int) -> Any:
    """审核: correct the facts of a case (clears 待审核)."""

    def call() -> Any:
        picked = optional("enterprise_id")
        picked_id = int(picked) if picked and picked.isdigit() else None
        # The form names the enterprise (name or credit code); the search list adds its id.
        enterprise_id = (enterprise_picker.resolve(db.session, text("enterprise"), picked_id)
                         if "enterprise" in request.form else picked_id)
        return do_update_details(
            db.session, case_id, actor=actor(), now=now(), description=text("description"),
            category=optional("category"), subcategory=optional("subcategory"),
            contact_name=optional("contact_name"), contact_phone=optional("contact_phone"),
            enterprise_id=enterprise_id)

    return case_action(case_id, "诉求信息已保存（已审核）", call)


@route("/cases/<int:case_id>/answer", roles=CENTRE, methods=("POST",))
def case_answer(case_id: int) -> Any:
    return case_action(case_id, "已即时答复", lambda: do_answer_instantly(
        db.session, case_id, text=text("text"), actor=actor(), now=now(),
        calendar=calendar(), tz=tz()))


@route("/cases/<int:case_id>/route", roles=CENTRE, methods=("POST",))
def case_route(case_id: int) -> Any:
    def call() -> Any:
        department_id = integer("department_id", "承办单位")
        require_liaison_or_confirmation(db.session, department_id,
                                        checkbox("confirm_no_liaison"))
        return do_route_to_department(
            db.session, case_id, department_id=department_id, note=text("note"),
            actor=actor(), now=now(), calendar=calendar(), tz=tz())

    return case_action(case_id, "已流转交办", call)


@route("/cases/<int:case_id>/reroute", roles=CENTRE, methods=("POST",))
def case_reroute(case_id: int) -> Any:
    def call() -> Any:
        department_id = integer("department_id", "承办单位")
        require_liaison_or_confirmation(db.session, department_id,
                                        checkbox("confirm_no_liaison"))
        return do_reroute(
            db.session, case_id, department_id=department_id, reason=text("reason"),
            actor=actor(), now=now(), calendar=calendar(), tz=tz())

    return case_action(case_id, "已重新交办", call)


def with_liaisons(department_ids: list[int], call: Any) -> Any:
    """``call()`` (assigning several units), refused while a unit without a liaison is not
    confirmed; its own field errors and the liaisons' are reported together. The caller's
    ``perform`` rolls back whatever ``call`` did."""
    problems = liaison_problems(db.session, department_ids, checkbox("confirm_no_liaison"))
    try:
        result = call()
    except InvalidInput as exc:
        raise InvalidInput({**exc.fields, **problems}) from None
    if problems:
        raise InvalidInput(problems)
    return result


@route("/cases/<int:case_id>/joint", roles=SUPERVISORS, methods=("POST",))
def case_joint(case_id: int) -> Any:
    def call() -> Any:
        lead = integer("lead_department_id", "牵头单位")
        others = [i for i in integers("department_ids") if i != lead]
        return with_liaisons([lead, *others], lambda: do_start_joint_handling(
            db.session, case_id, department_ids=[lead, *others], lead_department_id=lead,
            meeting_at=local_datetime("meeting_at", "商办会时间"), actor=actor(), now=now(),
            calendar=calendar(), tz=tz()))

    return case_action(case_id, "已启动专班商办", call)


@route("/cases/<int:case_id>/meeting", roles=SUPERVISORS, methods=("POST",))
def case_meeting(case_id: int) -> Any:
    typed = text("attendees").replace("，", "、").replace(",", "、").split("、")
    invited = [d.name for d in queries.attending_bodies(db.session)
               if str(d.id) in request.form.getlist("attending_ids")]
    attendees = [*typed, *invited]
    return case_action(case_id, "商办会已登记，期限已按会议日期计算",
                        lambda: do_record_meeting_held(
                            db.session, case_id, held_at=local_datetime("held_at", "召开时间"),
                            attendees=attendees, minutes=text("minutes"), actor=actor(),
                            now=now(), calendar=calendar(), tz=tz()))


@route("/cases/<int:case_id>/escalate", roles=SUPERVISORS, methods=("POST",))
def case_escalate(case_id: int) -> Any:
    return case_action(case_id, "已研判上报领导小组", lambda: do_escalate(
        db.session, case_id, analysis=text("analysis"), actor=actor(), now=now(),
        decision_days=int(current_app.config["ESCALATION_DECISION_DAYS"]),
        calendar=calendar(), tz=tz()))


@route("/cases/<int:case_id>/decision", roles=SUPERVISORS, methods=("POST",))
def case_decision(case_id: int) -> Any:
    def call() -> Any:
        units = integers("department_ids")
        return with_liaisons(units, lambda: do_record_leading_group_decision(
            db.session, case_id, decision=text("decision"), deadline=day("deadline", "办结时限"),
            department_ids=units, decided_by=text("decided_by"),
            decided_at=(local_datetime("decided_at", "决定时间") if text("decided_at")
                        else None),
            actor=actor(), now=now(), tz=tz()))

    return case_action(case_id, "领导小组决定已登记并交办", call)


@route("/cases/<int:case_id>/rating", roles=CENTRE, methods=("POST",))
def case_rating(case_id: int) -> Any:
    """人工回访: the operator called the enterprise and records its rating."""

    def call() -> Any:
        score = integer("score", "满意度")
        return do_record_rating(
            db.session, case_id, score=score, comment=text("comment"), via="operator",
            actor=actor(), now=now(), calendar=calendar(), tz=tz())

    return case_action(case_id, "回访评价已登记", call)


def _centre_assignment(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


@route("/assignments/<int:assignment_id>/extension/approve", roles=CENTRE, methods=("POST",))
def extension_approve(assignment_id: int) -> Any:
    assignment = _centre_assignment(assignment_id)
    return case_action(assignment.case_id, "已批准延期", lambda: do_approve_extension(
        db.session, assignment_id, enterprise_informed=checkbox("enterprise_informed"),
        actor=actor(), now=now()))


@route("/assignments/<int:assignment_id>/extension/reject", roles=CENTRE, methods=("POST",))
def extension_reject(assignment_id: int) -> Any:
    assignment = _centre_assignment(assignment_id)
    return case_action(assignment.case_id, "已不予延期", lambda: do_reject_extension(
        db.session, assignment_id, reason=text("reason"), actor=actor(), now=now()))


# -- departments ----------------------------------------------------------------------------


def own_assignment(assignment_id: int) -> Assignment:
    """The department user's own assignment; another department's is a 404."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.department_id != user().department_id:
        abort(404)
    return assignment


def _department_action(assignment_id: int, message: str, call: Any) -> Any:
    assignment = own_assignment(assignment_id)
    return case_action(assignment.case_id, message, call)


@route("/assignments/<int:assignment_id>/accept", roles=("department",), methods=("POST",))
def assignment_accept(assignment_id: int) -> Any:
    return _department_action(assignment_id, "已签收", lambda: do_accept_assignment(
        db.session, assignment_id, actor=actor(), now=now()))


@route("/assignments/<int:assignment_id>/return", roles=("department",), methods=("POST",))
def assignment_return(assignment_id: int) -> Any:
    return _department_action(assignment_id, "已退单，诉求退回中心重新交办",
                              lambda: do_return_assignment(
                                  db.session, assignment_id, reason=text("reason"),
                                  actor=actor(), now=now(), calendar=calendar(), tz=tz()))


@route("/assignments/<int:assignment_id>/reply", roles=("department",), methods=("POST",))
def assignment_reply(assignment_id: int) -> Any:
    return _department_action(assignment_id, "答复已提交", lambda: do_reply(
        db.session, assignment_id, text=text("text"), kind=text("kind") or "answer",
        policy_basis=text("policy_basis"), actor=actor(), now=now(),
        calendar=calendar(), tz=tz()))


@route("/assignments/<int:assignment_id>/progress", roles=("department",), methods=("POST",))
def assignment_progress(assignment_id: int) -> Any:
    assignment = own_assignment(assignment_id)
    return case_action(assignment.case_id, "进度反馈已提交",
                       lambda: do_report_progress(
                           db.session, assignment_id, text=text("text"), actor=actor(),
                           now=now()), tells_enterprise=True)


@route("/assignments/<int:assignment_id>/extension", roles=("department",), methods=("POST",))
def assignment_extension(assignment_id: int) -> Any:
    return _department_action(assignment_id, "延期申请已提交，等待中心审批",
                              lambda: do_request_extension(
                                  db.session, assignment_id, new_due=day("new_due", "约定办结日期"),
                                  reason=text("reason"),
                                  agreed_with_enterprise=checkbox("agreed_with_enterprise"),
                                  actor=actor(), now=now(), tz=tz()))


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> Any:
    return refuse(404, "页面不存在，或您无权查看")

