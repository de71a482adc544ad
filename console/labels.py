"""The one table of Chinese labels for every code the console shows to a person.

Call statuses and steps, flow hooks and node types, audit actions and their fields, rules and
results, knowledge-base fields: a code name never reaches a page (``tests/console/
test_no_codes_shown.py`` walks every page as every role and fails on one). Domain packages
keep the labels of their own vocabulary (``cases.vocab``, ``followup.models``,
``knowledge.models``); they are gathered here, so a template looks in one place.
"""

from __future__ import annotations

import re
from typing import Any

from call_flows.flow import QUEUE_OUTCOMES
from cases.departments import KIND_LABELS
from cases.notice_models import REMINDER_LEVEL_LABELS
from cases.vocab import (
    ASSIGNMENT_STATE_LABELS,
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    EXTENSION_LABELS,
    LEDGER_LABELS,
    MODE_LABELS,
    RATING_LABELS,
    REPLY_KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    SUBCATEGORY_LABELS,
)
from extraction.service import FIELD_LABELS as SUGGESTION_FIELD_LABELS
from followup.models import ATTEMPT_STATUS_LABELS, FOLLOWUP_STATUS_LABELS
from knowledge.models import STATE_LABELS as ARTICLE_STATE_LABELS

ACTION_LABELS: dict[str, str] = {
    "filed": "受理",
    "details_updated": "审核/修改诉求信息",
    "transcript_attached": "留言转写完成",
    "transcript_corrected": "更正转写文本",
    "voicemail_linked": "留言并单",
    "merged": "并单（并入此前诉求）",
    "duplicate_merged": "重复诉求并入本件",
    "unlinked": "取消并单",
    "duplicate_unlinked": "重复诉求取消并单",
    "voicemail_unlinked": "留言取消并单（另立诉求）",
    "split_from": "由并单留言另立",
    "answered_instantly": "即时答复",
    "kb_article_cited": "引用知识库条目",
    "resolved_self_service": "电话自助办结",
    "routed": "流转交办",
    "rerouted": "重新交办",
    "joint_started": "启动专班商办",
    "meeting_held": "登记商办会",
    "escalated": "研判上报",
    "decision_recorded": "登记领导小组决定",
    "assignment_accepted": "签收",
    "assignment_returned": "退单",
    "back_to_queue": "退回中心待重新交办",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_rejected": "不予延期",
    "due_changed": "办理期限变更",
    "replied": "答复",
    "explained": "解释说明",
    "progress_reported": "进度反馈",
    "answered": "已答复企业",
    "rated": "满意度评价",
    "rework": "差评重办",
    "followup_unreachable": "回访未果",
    "closed_unrated": "回访未果办结（未评价）",
    "ledger_hanging": "挂账",
    "ledger_settled": "销账",
    "followup_scheduled": "安排回访",
    "followup_call": "自动回访呼叫",
    "followup_failed": "自动回访未成功",
    "followup_to_operator": "转人工回访",
    "followup_comment": "回访留言",
    "reminder_due_soon": "到期提醒",
    "reminder_overdue": "催办",
    "reminder_escalated": "提请督办",
    "decision_due_soon": "领导小组决定到期提醒",
    "decision_overdue": "领导小组决定催办",
    "decision_escalated": "领导小组决定督办",
    "field_suggestion": "处理字段建议",
}

CALL_EVENT_LABELS: dict[str, str] = {
    "enter": "进入",
    "input": "按键",
    "timeout": "无输入",
    "invalid": "输入错误",
    "dial": "转人工",
    "recorded": "留言录音",
    "branch": "条件判断",
    "hook": "系统处理",
    "status": "通话状态",
    "queue": "排队",
    "apology": "系统故障致歉（转留言）",
}

CALL_STATUS_LABELS: dict[str, str] = {
    "queued": "排队中",
    "initiated": "发起",
    "ringing": "振铃",
    "in-progress": "通话中",
    "completed": "已结束",
    "busy": "忙线",
    "failed": "失败",
    "no-answer": "未接听",
    "canceled": "已取消",
}

TRANSCRIPTION_STATUS_LABELS: dict[str, str] = {
    "pending": "等待转写",
    "queued": "排队转写",
    "transcribing": "转写中",
    "done": "已转写",
    "failed": "转写失败",
    "awaiting_model": "等待安装语音模型",
}

# What a caller's transfer to an operator (``<Dial>``) came to (Twilio's DialCallStatus).
DIAL_OUTCOME_LABELS: dict[str, str] = {
    "completed": "坐席已接听",
    "answered": "坐席已接听",
    "no-answer": "坐席无人接听",
    "busy": "坐席忙",
    "failed": "呼叫坐席失败",
    "canceled": "来电方已挂机",
    "unknown": "结果未知",
}

# How a caller's wait in the operator queue (``<Enqueue>``) went: the flow's outcomes and
# Twilio's QueueResult.
QUEUE_STEP_LABELS: dict[str, str] = {
    **QUEUE_OUTCOMES,
    "answered": "坐席已接听",
    "gone": "来电方已挂机",
    "failed": "未能接通坐席",
    "bridged": "坐席已接听",
    "bridging-in-process": "正在接通坐席",
    "queue-full": "排队人数已满",
    "redirected": "离开排队",
    "leave": "离开排队",
    "hangup": "来电方已挂机",
    "error": "排队出错",
    "system-error": "排队出错",
}

# The flows' conditions and hooks (call_flows/flows/*.yaml, knowledge.phone).
CONDITION_LABELS: dict[str, str] = {"office_hours": "是否工作时间"}
HOOK_LABELS: dict[str, str] = {
    "caller_open_cases": "来电企业识别",
    "voicemail_saved": "保存留言并立案",
    "case_status": "诉求进度查询",
    "caller_case_status": "本机诉求进度",
    "case_status_verified": "验证联系电话",
    "survey_identify": "回访对象识别",
    "survey_rating_chosen": "记录评价",
    "survey_rating_confirmed": "确认评价",
    "survey_comment_saved": "保存回访意见",
    "kb_self_service_resolved": "电话自助办结",
    "queue_join": "加入排队",
    "queue_callback": "预约回电",
}
NODE_TYPE_LABELS: dict[str, str] = {
    "say": "播报",
    "menu": "按键菜单",
    "input": "按键输入",
    "branch": "条件判断",
    "dial": "转人工",
    "enqueue": "排队转人工",
    "record": "录音留言",
    "hook": "系统处理",
    "hangup": "挂机",
}

# 回访未果: what the settings' rule (FOLLOWUP_UNREACHABLE_RULE) did with the case.
UNREACHABLE_RULE_LABELS: dict[str, str] = {
    "settle": "按未评价办结并销账",
    "keep": "保持已答复，不再列入回访",
}

# Knowledge-base articles: the fields an edit changed (history), actions.
ARTICLE_FIELD_LABELS: dict[str, str] = {
    "title": "标题",
    "questions": "常见问法",
    "answer": "答复",
    "spoken_answer": "电话答复",
    "category": "类别",
    "subcategory": "子类",
    "department_id": "承办单位",
    "source_document": "政策依据",
    "source_url": "政策原文链接",
    "valid_from": "生效日期",
    "valid_until": "失效日期",
    "phone": "电话菜单",
}

FIELD_LABELS: dict[str, str] = {
    "number": "诉求编号",
    "channel": "受理渠道",
    "received_at": "受理时间",
    "status": "状态",
    "mode": "办理方式",
    "due_date": "办理期限",
    "due_provisional": "期限为暂定",
    "due_reason": "期限依据",
    "ledger_state": "台账状态",
    "needs_review": "待审核",
    "rework_count": "重办次数",
    "description": "诉求内容",
    "category": "类别",
    "subcategory": "子类",
    "enterprise_id": "企业",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "state": "交办状态",
    "extension_status": "延期",
    "extension_due": "延期至",
    "enterprise_informed": "已告知企业",
    "overdue": "逾期",
    "departments": "单位",
    "reply": "答复内容",
    "score": "评分",
    "analysis": "研判意见",
    "decision": "处置方案",
    "meeting_at": "商办会时间",
    "held_at": "召开时间",
    "attendees": "参会单位",
    "transcript": "转写文本",
    "confidence": "置信度",
    "kind": "答复类型",
    "policy_basis": "依据政策",
    "article_id": "知识条目编号",
    "article_version": "条目版本",
    "article_title": "知识条目",
    "answer_edited": "答复有修改",
    "attempt": "回访次数",
    "at": "计划时间",
    "target": "回访号码",
    "outcome": "结果",
    "level": "级别",
    "merged_into": "并入诉求",
    "merged_into_id": "并入诉求",
    "merged_case": "并入本件的诉求",
    "unlinked_case": "取消并单的诉求",
    "new_case": "另立诉求",
    "earlier_case": "原诉求",
    "rule": "处理方式",
    "reason": "原因",
    "decided_by": "决定人",
    "decided_at": "决定时间",
    "minutes": "会议纪要",
    "unrated_reason": "回访未果原因",
    "returned_at": "退单时间",
    "answered_at": "答复时间",
    "hanging_since": "挂账时间",
    "settled_at": "销账时间",
    "return_reason": "退单理由",
    "extension_reason": "延期理由",
    "extension_agreed_with_enterprise": "已与企业约定",
    "round": "重办轮次",
    "via": "回访方式",
    "comment": "企业意见",
    "channel_label": "受理渠道",
}
# Keys an action uses in a sense of its own (``decision`` is the leading group's 处置方案
# elsewhere).
ACTION_FIELD_LABELS: dict[str, dict[str, str]] = {
    "field_suggestion": {"field": "字段", "suggested": "建议值", "decision": "处理结果",
                         "value": "采用的值"},
}

# Every value code with its label, for one Jinja filter.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "subcategory": {code: name for subs in SUBCATEGORY_LABELS.values()
                    for code, name in subs.items()},
    # A follow-up attempt's result (followup.models.AttemptStatus), or a call's status.
    "outcome": {**CALL_STATUS_LABELS, **ATTEMPT_STATUS_LABELS},
    "rule": dict(UNREACHABLE_RULE_LABELS),
    "via": {"callback": "自动回访", "operator": "人工回访"},
    "followup_status": dict(FOLLOWUP_STATUS_LABELS),
    "article_state": dict(ARTICLE_STATE_LABELS),
    "department_kind": dict(KIND_LABELS),
    "field": dict(SUGGESTION_FIELD_LABELS),
    "suggestion_decision": {"accepted": "已采纳", "edited": "已修改后采纳",
                            "rejected": "已驳回"},
    "level": dict(REMINDER_LEVEL_LABELS),
    "status": dict(STATUS_LABELS),
    "mode": dict(MODE_LABELS),
    "ledger_state": dict(LEDGER_LABELS),
    "state": dict(ASSIGNMENT_STATE_LABELS),
    "extension_status": dict(EXTENSION_LABELS),
    "category": dict(CATEGORY_LABELS),
    "channel": dict(CHANNEL_LABELS),
    "role": dict(ROLE_LABELS),
    "reply_kind": dict(REPLY_KIND_LABELS),
    "kind": dict(REPLY_KIND_LABELS),
}

def field_label(key: str, action: str = "") -> str:
    """An audit key as people read it (in the sense ``action`` gives it)."""
    return ACTION_FIELD_LABELS.get(action, {}).get(key) or FIELD_LABELS.get(key, key)


def value_kind(key: str, action: str = "") -> str:
    """Which value labels apply to an audit key's values (see :data:`VALUE_LABELS`)."""
    return "suggestion_decision" if (action, key) == ("field_suggestion", "decision") else key


# -- a call's steps, as the call detail page lists them -------------------------------------

_COUNTED = re.compile(r"^(no input|invalid) #(\d+)$")
_SECONDS = re.compile(r"^(\d+)s$")


def call_step_input(kind: str, value: str | None) -> str:
    """The key pressed, or for a status event the status, in words."""
    if not value:
        return ""
    if kind == "status":
        return CALL_STATUS_LABELS.get(value, value)
    return value


def call_step_detail(kind: str, detail: str | None) -> str:
    """What the flow engine noted about a step (``office_hours=True``, ``no-answer`` …)."""
    if not detail:
        return ""
    counted = _COUNTED.match(detail)
    if counted:
        what = "未按键" if counted.group(1) == "no input" else "输入错误"
        return f"第{counted.group(2)}次{what}"
    if detail == "nothing recorded":
        return "未录到留言"
    if detail == "rejected by hook":
        return "输入未通过核验"
    if kind == "dial":
        return DIAL_OUTCOME_LABELS.get(detail, detail)
    if kind == "queue":
        return QUEUE_STEP_LABELS.get(detail, detail)
    if kind == "branch":
        name, _, outcome = detail.partition("=")
        answer = {"True": "是", "False": "否"}.get(outcome, outcome)
        return f"结果：{answer}"
    if kind == "hook" and detail.endswith(": not available"):
        name = detail.removesuffix(": not available")
        return f"{HOOK_LABELS.get(name, '系统处理')}暂不可用"
    if kind == "recorded":
        seconds = _SECONDS.match(detail)
        return f"时长{seconds.group(1)}秒" if seconds else ""
    if kind == "status" and detail.startswith("unknown status"):
        return "未知的通话状态"
    return detail


def operator_outcome(call: Any) -> str:
    """人工: answered by an operator; asked for one but not connected (and why: nobody on
    duty, waited too long, nobody picked up …); or never asked."""
    if call.reached_operator:
        return "已接通"
    tries = [e for e in call.events if e.kind in ("dial", "queue")]
    if not tries:
        return "未转人工"
    last = tries[-1]
    names = QUEUE_STEP_LABELS if last.kind == "queue" else DIAL_OUTCOME_LABELS
    return f"转人工未接通（{names.get(last.detail or 'unknown', '结果未知')}）"


__all__ = [
    "ACTION_LABELS", "ARTICLE_FIELD_LABELS", "CALL_EVENT_LABELS", "CALL_STATUS_LABELS",
    "CATEGORY_LABELS", "CHANNEL_LABELS", "CONDITION_LABELS", "DIAL_OUTCOME_LABELS",
    "FIELD_LABELS", "HOOK_LABELS", "NODE_TYPE_LABELS", "RATING_LABELS", "SUBCATEGORY_LABELS",
    "TRANSCRIPTION_STATUS_LABELS", "UNREACHABLE_RULE_LABELS", "VALUE_LABELS",
]
