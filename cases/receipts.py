"""Text messages to enterprises and liaisons: what they say and when one is queued.

Messages are queued in the outbox (:class:`~cases.notice_models.SmsMessage`) inside the
transaction that causes them and sent later by a job (``workers.sms_outbox``), so a slow or
failing SMS gateway never holds up a call or a form. The body is rendered at sending time
from the kind, the stored parameters, the configured signature and the hotline number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.case_models import Case
from cases.notice_models import SmsMessage
from cases.phones import is_mobile

log = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "【奉化8718】"
DEFAULT_HOTLINE = "0574-88888718"

TEMPLATES: dict[str, str] = {
    # To the caller, after a voicemail became a case.
    "voicemail_filed": "{signature}您的诉求已受理，编号{number}。查询进度请致电{hotline}按9。",
    # To the enterprise, when the case is answered.
    "case_answered": (
        "{signature}您的诉求（编号{number}）已办理答复。我们将电话回访，请您对办理结果"
        "进行评价。查询请致电{hotline}按9。"
    ),
    # To a department's liaisons (联络员).
    "due_soon": "{signature}{department}：诉求{number}将于{due}到期，请及时办理答复。",
    "overdue": "{signature}{department}：诉求{number}已超过办理期限（{due}），请尽快办理答复。",
    "escalated": (
        "{signature}{department}：诉求{number}逾期{days}个工作日未答复，已提请企服专班督办。"
    ),
}


def spoken_day(day: date) -> str:
    """``11月26日`` as written in a text message."""
    return f"{day.month}月{day.day}日"


def render(kind: str, params: Mapping[str, Any], *, signature: str = DEFAULT_SIGNATURE,
           hotline: str = DEFAULT_HOTLINE) -> str:
    """The body of a message of ``kind``."""
    return TEMPLATES[kind].format(signature=signature, hotline=hotline, **params)


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


def case_answered(session: Session, case: Case, now: datetime) -> SmsMessage | None:
    """Tell the enterprise its case was answered (once per handling round)."""
    return queue_sms(session, kind="case_answered", to=case.contact_phone or "",
                     params={"number": case.number},
                     dedupe_key=f"answered:{case.id}:{case.rework_count}", now=now, case=case)
