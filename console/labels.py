"""Chinese labels for codes the console shows: audit actions, call events, call statuses."""

from __future__ import annotations

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

ACTION_LABELS: dict[str, str] = {
    "filed": "受理",
    "details_updated": "审核/修改诉求信息",
    "transcript_attached": "留言转写完成",
    "transcript_corrected": "更正转写文本",
    "voicemail_linked": "留言并单",
    "answered_instantly": "即时答复",
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
}

# Every value code with its label, for one Jinja filter.
VALUE_LABELS: dict[str, dict[str, str]] = {
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

__all__ = [
    "ACTION_LABELS", "CALL_EVENT_LABELS", "CALL_STATUS_LABELS", "CATEGORY_LABELS",
    "CHANNEL_LABELS", "FIELD_LABELS", "RATING_LABELS", "SUBCATEGORY_LABELS",
    "TRANSCRIPTION_STATUS_LABELS", "VALUE_LABELS",
]
