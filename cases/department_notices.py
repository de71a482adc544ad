"""Departments are told what happens to their assignments: a new assignment, a rework, an
extension approved or rejected, a 退单 that was not accepted.

Each notice is one console notification to the unit's liaisons and, where a liaison has a
mobile configured, one text (deduplicated per assignment and notice, so a retried request
never texts twice). Liaison phones belong to the console's accounts: the app factory hands
their lookup to the case domain (:class:`cases.services.CaseServices`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cases.case_models import Assignment
from cases.notifications import Audience, NotificationKind, notify
from cases.services import services
from messaging.sms import send as send_sms
from messaging.texts import spoken_day

TITLES: dict[NotificationKind, str] = {
    NotificationKind.ASSIGNED: "新交办：诉求{number}，请于{due}前答复",
    NotificationKind.REWORK: "重办：诉求{number}企业评价不满意，请于{due}前重新答复",
    NotificationKind.EXT_APPROVED: "延期已批准：诉求{number}办理期限延至{due}",
    NotificationKind.EXT_REJECTED: "延期未批准：诉求{number}请于原期限{due}前答复",
    NotificationKind.RETURN_REFUSED: "退单未采纳：诉求{number}已重新交办贵单位",
}


def tell(session: Session, assignment: Assignment, kind: NotificationKind, *, now: datetime,
         note: str = "") -> None:
    """One notification (and texts) to the assignment's department about ``kind``."""
    case, department = assignment.case, assignment.department
    due = spoken_day(assignment.due_date) if assignment.due_date else "—"
    values = {"number": case.number, "due": due, "department": department.name}
    title = TITLES[kind].format(**values)
    body = title + (f"。说明：{note}" if note else "。")
    notify(session, audience=Audience.DEPARTMENT, department_id=department.id, kind=kind,
           case=case, title=title, body=body, now=now, assignment_id=assignment.id)
    phones = services(session).liaison_phones(session, department.id)
    for phone in dict.fromkeys(phones):
        send_sms(session, kind=f"dept_{kind}", to=phone, params=values, case_id=case.id,
                 now=now, dedupe_key=f"dept:{kind}:{assignment.id}:{phone}")
