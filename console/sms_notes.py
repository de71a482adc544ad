"""What became of the texts an action queued, in words, taken from the SMS outbox rows.

A form that may text the enterprise (并单, 进度反馈, an answer) used to flash “已短信告知企业”
whether or not a text went out. Now the handler notes the outbox's last id before the action
and, after the commit, reads the rows the action added for the case: each says 已发送, 已排队
or 未发送 with the reason (no sender configured, sending failed). When a text to the
enterprise was due and no row exists, the case's contact phone says why (none given, or a
landline). The case page lists the same rows (:func:`case_texts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.case_models import Case
from core.phones import is_mobile
from messaging.gateway import configured
from messaging.models import SmsMessage, SmsStatus
from messaging.texts import ENTERPRISE_KINDS

# Who a text of each kind is for, and what it is about.
KIND_LABELS: dict[str, str] = {
    "voicemail_filed": "受理回执",
    "case_merged": "并单告知",
    "case_merged_other": "并单告知",
    "case_unlinked": "取消并单告知",
    "case_answered": "答复告知",
    "case_progress": "进度告知",
    "dept_assigned": "新交办通知",
    "dept_rework": "重办通知",
    "dept_ext_approved": "延期批准通知",
    "dept_ext_rejected": "延期未批准通知",
    "dept_return_refused": "退单未采纳通知",
    "due_soon": "到期提醒",
    "overdue": "催办",
    "escalated": "督办",
}
NO_SENDER = "未配置短信发送号码"
DELIVERY_LABELS: dict[str, str] = {
    "queued": "运营商排队中",
    "sending": "发送中",
    "sent": "已发出",
    "delivered": "已送达",
    "undelivered": "未送达",
    "failed": "发送失败",
}


def last_id(session: Session) -> int:
    """The outbox's newest row id (0 when empty): mark it before an action."""
    return session.scalar(select(func.max(SmsMessage.id))) or 0


def state_of(message: SmsMessage, config: Mapping[str, Any]) -> str:
    """已发送 / 已排队 / 未发送：原因 for one outbox row."""
    if message.status == SmsStatus.SENT:
        delivery = DELIVERY_LABELS.get(message.delivery_status or "")
        return f"已发送（{delivery}）" if delivery and delivery != "已发出" else "已发送"
    if message.status == SmsStatus.SKIPPED:
        return f"未发送：{NO_SENDER}"
    if message.status == SmsStatus.FAILED:
        return "未发送：发送失败，已停止重试"
    # Pending or being sent: the job applies the same rule when it picks the row up.
    if not configured(config):
        return f"未发送：{NO_SENDER}"
    if message.attempts and message.error:
        return "已排队（上次发送失败，将自动重试）"
    return "已排队"


def why_not_queued(phone: str | None) -> str:
    """Why the enterprise was not texted although the action tells it (no row was queued)."""
    if not phone:
        return "未发送：企业未留联系电话"
    if not is_mobile(phone):
        return "未发送：联系电话不是手机号码，无法接收短信"
    return "未发送"


@dataclass(frozen=True)
class TextNote:
    """One queued text as the case page lists it."""

    message: SmsMessage
    kind: str
    audience: str
    state: str


def case_texts(session: Session, case_id: int, config: Mapping[str, Any]) -> list[TextNote]:
    """Every text queued about the case, oldest first, each with its state in words."""
    rows = session.scalars(select(SmsMessage).where(SmsMessage.case_id == case_id)
                           .order_by(SmsMessage.id))
    return [TextNote(m, KIND_LABELS.get(m.kind, "短信"),
                     "企业" if m.kind in ENTERPRISE_KINDS else "承办单位联络员",
                     state_of(m, config)) for m in rows]


def outcome(session: Session, case_id: int, since_id: int, config: Mapping[str, Any], *,
            tells_enterprise: bool) -> str:
    """The sentence to add to the action's message (empty when nothing was to be texted)."""
    rows = list(session.scalars(select(SmsMessage).where(
        SmsMessage.case_id == case_id, SmsMessage.id > since_id).order_by(SmsMessage.id)))
    parts = []
    to_enterprise = [m for m in rows if m.kind in ENTERPRISE_KINDS]
    if to_enterprise:
        parts.append(f"短信告知企业：{state_of(to_enterprise[-1], config)}")
    elif tells_enterprise:
        case = session.get(Case, case_id)
        parts.append(f"短信告知企业：{why_not_queued(case.contact_phone if case else None)}")
    to_units = [m for m in rows if m.kind not in ENTERPRISE_KINDS]
    if to_units:
        states = sorted({state_of(m, config) for m in to_units})
        parts.append(f"短信通知联络员（{len(to_units)}条）：{'、'.join(states)}")
    return "；".join(parts)
