"""Text messages to enterprises and liaisons: what they say and when one is queued.

Messages are queued in the outbox (:class:`~cases.notice_models.SmsMessage`) inside the
transaction that causes them and sent later by a job (``workers.sms_outbox``), so a slow or
failing SMS gateway never holds up a call or a form. The body is rendered at sending time
from the kind, the stored parameters, the configured signature and the hotline number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.case_models import Case, Reply
from cases.notice_models import SmsMessage
from cases.phones import is_mobile
from cases.vocab import CLOSING_REPLY_KINDS, Mode, ReplyKind

log = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "【奉化8718】"
DEFAULT_HOTLINE = "0574-88888718"

TEMPLATES: dict[str, str] = {
    # To the caller, after a voicemail became a case.
    "voicemail_filed": "{signature}您的诉求已受理，编号{number}。查询进度请致电{hotline}按9。",
    # To the enterprise, when its repeat request was merged (并单) into an earlier case.
    "case_merged": (
        "{signature}您的诉求（编号{number}）与此前诉求（编号{earlier}）内容相同，已并入编号"
        "{earlier}一并办理。查询请致电{hotline}按9。"
    ),
    # To the enterprise, when the case is answered; {summary} is fitted at sending time.
    "case_answered": (
        "{signature}您的诉求（编号{number}）已办理答复。{summary}我们将电话回访，请您对"
        "办理结果进行评价。查询请致电{hotline}按9。"
    ),
    # To the enterprise, when a department reports progress (进度反馈).
    "case_progress": (
        "{signature}您的诉求（编号{number}）办理进展：{summary}查询请致电{hotline}按9。"
    ),
    # To a department's liaisons (联络员) when something happens to its assignment.
    "dept_assigned": "{signature}{department}：新交办诉求{number}，请于{due}前办理答复。",
    "dept_rework": (
        "{signature}{department}：诉求{number}企业评价不满意，已重新交办，请于{due}前重新答复。"
    ),
    "dept_ext_approved": "{signature}{department}：诉求{number}延期申请已批准，办理期限延至{due}。",
    "dept_ext_rejected": (
        "{signature}{department}：诉求{number}延期申请未获批准，请于原期限{due}前办理答复。"
    ),
    "dept_return_refused": (
        "{signature}{department}：诉求{number}退单未被采纳，已重新交办贵单位，请于{due}前办理答复。"
    ),
    # To a department's liaisons (联络员): deadline reminders.
    "due_soon": "{signature}{department}：诉求{number}将于{due}到期，请及时办理答复。",
    "overdue": "{signature}{department}：诉求{number}已超过办理期限（{due}），请尽快办理答复。",
    "escalated": (
        "{signature}{department}：诉求{number}逾期{days}个工作日未答复，已提请企服专班督办。"
    ),
}


# Two concatenated UCS-2 segments (67 characters each): a longer text costs more and some
# handsets show it in pieces; the answer is shortened to fit, the phone (key 9) reads it all.
SMS_MAX_CHARS = 134
ELLIPSIS = "…"
CENTRE_NAME = "企业服务中心"


def spoken_day(day: date) -> str:
    """``11月26日`` as written in a text message."""
    return f"{day.month}月{day.day}日"


def _clean(text: str) -> str:
    return " ".join((text or "").split()).rstrip("。；;.， ")


def reply_summary(replies: Sequence[Mapping[str, Any]]) -> str:
    """``区经信局答复：…；区资规分局解释说明：…（依据：…）`` from stored reply params."""
    parts = []
    for item in replies:
        unit = item.get("unit") or CENTRE_NAME
        text = _clean(str(item.get("text") or ""))
        if item.get("kind") == ReplyKind.PROGRESS:
            parts.append(f"{unit}：{text}")
        elif item.get("kind") == ReplyKind.EXPLANATION:
            basis = _clean(str(item.get("policy_basis") or ""))
            parts.append(f"{unit}解释说明：{text}" + (f"（依据：{basis}）" if basis else ""))
        else:
            parts.append(f"{unit}答复：{text}")
    return "；".join(parts)


def fit(template: str, summary: str, limit: int = SMS_MAX_CHARS, **values: Any) -> str:
    """``template`` with ``{summary}`` shortened (ending in …) so the text fits ``limit``."""
    if not summary:
        return template.format(summary="", **values)
    full = template.format(summary=summary + "。", **values)
    if len(full) <= limit:
        return full
    room = limit - len(template.format(summary="。", **values)) - len(ELLIPSIS)
    if room <= 0:
        return template.format(summary="", **values)
    return template.format(summary=summary[:room] + ELLIPSIS + "。", **values)


def render(kind: str, params: Mapping[str, Any], *, signature: str = DEFAULT_SIGNATURE,
           hotline: str = DEFAULT_HOTLINE) -> str:
    """The body of a message of ``kind``; a reply summary is shortened to fit."""
    template = TEMPLATES[kind]
    if "{summary}" not in template:
        return template.format(signature=signature, hotline=hotline, **params)
    values = {k: v for k, v in params.items() if k != "replies"}
    return fit(template, reply_summary(params.get("replies") or []), signature=signature,
               hotline=hotline, **values)


def queue_sms(session: Session, *, kind: str, to: str, params: dict[str, Any], dedupe_key: str,
              now: datetime, case: Case | None = None) -> SmsMessage | None:
    """Queue one message unless one with ``dedupe_key`` exists or ``to`` cannot take texts."""
    if kind not in TEMPLATES:
        raise ValueError(f"unknown SMS kind {kind!r}")
    if not to or not is_mobile(to):
        return None
    existing = session.scalars(
        select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key)).one_or_none()
    if existing is not None:
        return existing
    message = SmsMessage(kind=kind, to=to, params=params, dedupe_key=dedupe_key[:120],
                         case_id=case.id if case is not None else None, created_at=now,
                         next_try_at=now)
    session.add(message)
    session.flush()
    return message


def voicemail_filed(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Receipt for a new voicemail case, to the caller's mobile."""
    return queue_sms(session, kind="voicemail_filed", to=case.contact_phone or "",
                     params={"number": case.number}, dedupe_key=f"filed:{case.id}", now=now,
                     case=case)


def case_merged(session: Session, case: Case, earlier: Case,
                now: datetime) -> SmsMessage | None:
    """Tell the merged case's contact that the request is handled under ``earlier``."""
    return queue_sms(session, kind="case_merged", to=case.contact_phone or "",
                     params={"number": case.number, "earlier": earlier.number},
                     dedupe_key=f"merged:{case.id}:{earlier.id}", now=now, case=case)


def _reply_params(reply: Reply, unit: str | None) -> dict[str, Any]:
    return {"unit": unit or CENTRE_NAME, "kind": reply.kind, "text": reply.text,
            "policy_basis": reply.policy_basis or ""}


def round_replies(case: Case) -> list[Reply]:
    """The answers (答复 / 解释说明) of the current handling round, oldest first."""
    current = {a.id for a in case.assignments if a.round == case.rework_count}
    closing = [r for r in case.replies if r.kind in CLOSING_REPLY_KINDS]
    if case.mode == Mode.INSTANT:
        return closing[-1:]
    return [r for r in closing if r.assignment_id in current]


def case_answered(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Tell the enterprise its case was answered, with the answer (once per handling round)."""
    session.flush()  # the reply just added gets its defaults and its department
    replies = [_reply_params(r, r.department.name if r.department else None)
               for r in round_replies(case)]
    return queue_sms(session, kind="case_answered", to=case.contact_phone or "",
                     params={"number": case.number, "replies": replies},
                     dedupe_key=f"answered:{case.id}:{case.rework_count}", now=now, case=case)


def progress_reported(session: Session, case: Case, progress: Reply, now: datetime
                      ) -> SmsMessage | None:
    """Tell the enterprise a department's progress note (进度反馈)."""
    unit = progress.department.name if progress.department else None
    return queue_sms(session, kind="case_progress", to=case.contact_phone or "",
                     params={"number": case.number, "replies": [_reply_params(progress, unit)]},
                     dedupe_key=f"progress:{progress.id}", now=now, case=case)


def record_delivery(session: Session, *, message_id: int | None, message_sid: str,
                    status: str, error_code: str | None, now: datetime) -> SmsMessage | None:
    """Twilio's message status callback: keep the latest delivery status of our message."""
    query = select(SmsMessage).where(SmsMessage.message_sid == message_sid[:64])
    if message_id is not None:
        query = select(SmsMessage).where(SmsMessage.id == message_id)
    message = session.scalars(query).one_or_none()
    if message is None or (message.message_sid and message.message_sid != message_sid[:64]):
        return None
    message.message_sid = message.message_sid or message_sid[:64]
    message.delivery_status = status[:16]
    message.delivery_error_code = (error_code or "")[:16] or None
    message.delivery_updated_at = now
    return message
