"""What text messages say: one template per kind, rendered when the message is sent.

A queued message stores its kind and parameters; the body is rendered at sending time from
them, the configured signature and the hotline number. Templates are code; parameters are
data, inserted as values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from core.centre import CENTRE_NAME

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
# The kinds of a reply in a summary (the case domain's ``ReplyKind`` values, stored in the
# message's parameters); any other kind is an answer (答复).
PROGRESS = "progress"
EXPLANATION = "explanation"


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
        if item.get("kind") == PROGRESS:
            parts.append(f"{unit}：{text}")
        elif item.get("kind") == EXPLANATION:
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
