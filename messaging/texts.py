"""What text messages say: one template per kind, rendered when the message is sent.

A queued message stores its kind and parameters; the body is rendered at sending time from
them, the configured signature and the hotline number. Templates are code; parameters are
data, inserted as values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from core.centre import CENTRE_NAME

DEFAULT_SIGNATURE = "【奉化8718】"
DEFAULT_HOTLINE = "0574-88888718"

TEMPLATES: dict[str, str] = {
    # To the caller, after a voicemail became a case.
    "voicemail_filed": "{signature}您的诉求已受理，编号{number}。查询进度请致电{hotline}按9。",
    # To the enterprise, when its repeat request was merged (并单) into an earlier case of
    # the same contact phone (its own number is quoted)...
    "case_merged": (
        "{signature}您的诉求（编号{number}）与此前诉求（编号{earlier}）内容相同，已并入编号"
        "{earlier}一并办理。查询请致电{hotline}按9。"
    ),
    # ... or of another contact (whose case number is not this phone's business).
    "case_merged_other": (
        "{signature}您的诉求（编号{number}）与此前受理的同类诉求内容相同，已并入一并办理。"
        "查询请致电{hotline}按9，输入编号{number}。"
    ),
    # To the enterprise, when a merge was undone (取消并单): the case stands on its own.
    "case_unlinked": (
        "{signature}您的诉求（编号{number}）已取消并单，恢复单独办理，请以此编号查询。"
        "查询请致电{hotline}按9。"
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


# Ten concatenated UCS-2 segments (67 characters each), which carriers join into one text:
# an answer or explanation is sent in full up to here. Beyond, the reply texts are shortened
# (each ending in …) and the policy basis of an explanation never is: it is what the
# enterprise needs to accept a refusal. The phone (key 9) reads the rest.
SMS_MAX_CHARS = 670
ELLIPSIS = "…"
# Kinds sent to an enterprise (the others go to department liaisons).
ENTERPRISE_KINDS = frozenset({"voicemail_filed", "case_merged", "case_merged_other",
                              "case_unlinked", "case_answered", "case_progress"})
LINK_REMOVED = "（链接已隐去）"
PHONE_REMOVED = "（电话已隐去）"
_LINK = re.compile(
    r"(?:https?://|www[.．])\S+"
    r"|(?<![\w@])(?:[A-Za-z0-9Ａ-Ｚａ-ｚ０-９-]+[.．])+(?:[A-Za-zＡ-Ｚａ-ｚ]{2,})(?:[/／]\S*)?",
    re.IGNORECASE)
# Mobile numbers, landlines with an area code, and bare 7–8 digit local numbers (not an
# amount or a count: no unit right after), with the separators people type.
_PHONE = re.compile(
    r"(?<![\d０-９])(?:(?:\+|＋)?(?:86|８６)[\s-]?)?"
    r"(?:1[3-9](?:[\s-]?\d){9}"
    r"|0\d{2,3}[\s\-－]?\d{7,8}"
    r"|[2-9]\d{6,7})"
    r"(?![\d０-９元万亿千百%％个件人户家台号])")
# A signature is 【…】 at the start or end of a text: only the system adds one.
_SIGNATURE_BRACKETS = str.maketrans({"【": "［", "】": "］"})
# The kinds of a reply in a summary (the case domain's ``ReplyKind`` values, stored in the
# message's parameters); any other kind is an answer (答复).
PROGRESS = "progress"
EXPLANATION = "explanation"


def spoken_day(day: date) -> str:
    """``11月26日`` as written in a text message."""
    return f"{day.month}月{day.day}日"


def _clean(text: str) -> str:
    return " ".join((text or "").split()).rstrip("。；;.， ")


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def sanitize(text: str, *, allowed_numbers: Sequence[str] = ()) -> str:
    """Department-written text as it may go out under the hotline's name: no links, no phone
    number but the hotline's (``allowed_numbers``, compared by digits), no 【signature】."""
    allowed = {_digits(n) for n in allowed_numbers if _digits(n)}
    allowed |= {d[-8:] for d in allowed if len(d) > 8}  # 0574-88888718 also as 88888718

    def phone(match: re.Match[str]) -> str:
        digits = _digits(match.group(0))
        return match.group(0) if digits in allowed or digits[-8:] in allowed else PHONE_REMOVED

    text = _LINK.sub(LINK_REMOVED, text)
    return _PHONE.sub(phone, text).translate(_SIGNATURE_BRACKETS)


def reply_summary(replies: Sequence[Mapping[str, Any]],
                  texts: Sequence[str] | None = None, *,
                  allowed_numbers: Sequence[str] = ()) -> str:
    """``区经信局答复：…；区资规分局解释说明：…（依据：…）`` from stored reply params.

    ``texts`` replaces the replies' texts (shortened ones); what departments wrote is
    sanitized (:func:`sanitize`) before it goes out under the hotline's name.
    """
    parts = []
    for n, item in enumerate(replies):
        unit = item.get("unit") or CENTRE_NAME
        raw = texts[n] if texts is not None else _clean(str(item.get("text") or ""))
        text = sanitize(raw, allowed_numbers=allowed_numbers)
        if item.get("kind") == PROGRESS:
            parts.append(f"{unit}：{text}")
        elif item.get("kind") == EXPLANATION:
            basis = sanitize(_clean(str(item.get("policy_basis") or "")),
                             allowed_numbers=allowed_numbers)
            parts.append(f"{unit}解释说明：{text}" + (f"（依据：{basis}）" if basis else ""))
        else:
            parts.append(f"{unit}答复：{text}")
    return "；".join(parts)


def _with_summary(template: str, summary: str, values: Mapping[str, Any]) -> str:
    return template.format(summary=summary + "。" if summary else "", **values)


def fit(template: str, replies: Sequence[Mapping[str, Any]], limit: int = SMS_MAX_CHARS,
        *, allowed_numbers: Sequence[str] = (), **values: Any) -> str:
    """``template`` with the replies' ``{summary}``, sent in full when it fits ``limit``;
    otherwise each reply's text gets an equal share (ending in …), its unit and policy
    basis are kept whole."""
    def summary(texts: Sequence[str] | None = None) -> str:
        return reply_summary(replies, texts, allowed_numbers=allowed_numbers)

    full = _with_summary(template, summary(), values)
    if not replies or len(full) <= limit:
        return full
    originals = [_clean(str(item.get("text") or "")) for item in replies]
    bare = len(_with_summary(template, summary([""] * len(replies)), values))
    share = (limit - bare) // len(replies)
    texts = [text if len(text) <= share else text[:max(share - len(ELLIPSIS), 0)] + ELLIPSIS
             for text in originals]
    return _with_summary(template, summary(texts), values)


def render(kind: str, params: Mapping[str, Any], *, signature: str = DEFAULT_SIGNATURE,
           hotline: str = DEFAULT_HOTLINE) -> str:
    """The body of a message of ``kind``; a long reply summary is shortened to fit."""
    template = TEMPLATES[kind]
    if "{summary}" not in template:
        return template.format(signature=signature, hotline=hotline, **params)
    values = {k: v for k, v in params.items() if k != "replies"}
    allowed = [hotline, str(params.get("number") or "")]
    return fit(template, params.get("replies") or [], signature=signature, hotline=hotline,
               allowed_numbers=allowed, **values)
