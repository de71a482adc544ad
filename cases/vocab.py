"""Code names of the case domain (docs/decisions.md §1) and the Chinese labels users read."""

from __future__ import annotations

from enum import StrEnum

from routing.rules import CATEGORIES, SUBCATEGORIES


class Channel(StrEnum):
    """Where a case came in (notice 三(一) 诉求接办)."""

    HOTLINE_VOICEMAIL = "hotline_voicemail"
    HOTLINE_OPERATOR = "hotline_operator"
    # A caller answered by the phone menu's knowledge-base answer (no person involved).
    HOTLINE_SELF_SERVICE = "hotline_self_service"
    WINDOW = "window"
    RESIDENT_OFFICER = "resident_officer"
    TASK_FORCE = "task_force"
    FORUM = "forum"
    ASSOCIATION = "association"
    WEB_PLATFORM = "web_platform"
    WECHAT = "wechat"
    YONGQIMA = "yongqima"
    QIYEMA = "qiyema"
    WECOM_GROUP = "wecom_group"  # 企业微信群: the centre's WeCom groups with enterprises


CHANNEL_CODES: frozenset[str] = frozenset(c.value for c in Channel)

CHANNEL_LABELS: dict[str, str] = {
    Channel.HOTLINE_VOICEMAIL: "8718热线留言",
    Channel.HOTLINE_OPERATOR: "8718热线人工",
    Channel.HOTLINE_SELF_SERVICE: "热线自助",
    Channel.WINDOW: "8718服务窗口",
    Channel.RESIDENT_OFFICER: "驻企专员",
    Channel.TASK_FORCE: "企服专班",
    Channel.FORUM: "企业家座谈会",
    Channel.ASSOCIATION: "工业协会、商会",
    Channel.WEB_PLATFORM: "区中小企业公共服务平台",
    Channel.WECHAT: "8718微信公众号",
    Channel.YONGQIMA: "甬企码",
    Channel.QIYEMA: "企业码",
    Channel.WECOM_GROUP: "企业微信群",
}


class Mode(StrEnum):
    """How the case is handled (notice 三(二)、(三))."""

    INSTANT = "instant"
    ROUTED = "routed"
    JOINT = "joint"
    ESCALATED = "escalated"


MODE_LABELS: dict[str, str] = {
    Mode.INSTANT: "即时办",
    Mode.ROUTED: "流转办",
    Mode.JOINT: "专班商办",
    Mode.ESCALATED: "研判上报",
}


class Status(StrEnum):
    """Where the case is in its life; the transitions are in :mod:`cases.states`."""

    RECEIVED = "received"  # in the centre's queue: new, returned or poorly rated instant answer
    ESCALATED = "escalated"  # waiting for the leading group's decision
    HANDLING = "handling"  # with one or more departments
    ANSWERED = "answered"  # answered, waiting for the follow-up rating
    CLOSED = "closed"  # answered and rated 3–5
    MERGED = "merged"  # 并单: a repeat request handled under an earlier case's number


STATUS_LABELS: dict[str, str] = {
    Status.RECEIVED: "已受理",
    Status.ESCALATED: "已上报领导小组",
    Status.HANDLING: "办理中",
    Status.ANSWERED: "已答复",
    Status.CLOSED: "已办结",
    Status.MERGED: "已并单",
}

class ReplyKind(StrEnum):
    """What a department (or the centre) tells the enterprise."""

    ANSWER = "answer"  # 答复: the result; closes the assignment
    EXPLANATION = "explanation"  # 解释说明: cannot be met under policy; closes it, policy cited
    PROGRESS = "progress"  # 进度反馈: interim progress; the assignment stays open, due unchanged


REPLY_KIND_LABELS: dict[str, str] = {
    ReplyKind.ANSWER: "答复",
    ReplyKind.EXPLANATION: "解释说明",
    ReplyKind.PROGRESS: "进度反馈",
}
# Kinds that close an assignment (the case is answered once no department is left).
CLOSING_REPLY_KINDS: frozenset[str] = frozenset({ReplyKind.ANSWER, ReplyKind.EXPLANATION})

# Cases still being worked on (the caller hears "正在办理中" about these).
OPEN_STATUSES: tuple[Status, ...] = (Status.RECEIVED, Status.ESCALATED, Status.HANDLING)


class Ledger(StrEnum):
    """The case's row in the ledger (台账)."""

    OPEN = "open"
    SETTLED = "settled"
    HANGING = "hanging"


LEDGER_LABELS: dict[str, str] = {
    Ledger.OPEN: "在办",
    Ledger.SETTLED: "销账",
    Ledger.HANGING: "挂账",
}


class Role(StrEnum):
    """A department's part in a case."""

    LEAD = "lead"
    CO = "co"


ROLE_LABELS: dict[str, str] = {Role.LEAD: "承办单位", Role.CO: "共同承办单位"}


class AssignmentState(StrEnum):
    PENDING = "pending"  # routed, not yet accepted
    ACCEPTED = "accepted"
    REPLIED = "replied"
    RETURNED = "returned"  # 退单
    WITHDRAWN = "withdrawn"  # the centre re-routed or escalated the case


ASSIGNMENT_STATE_LABELS: dict[str, str] = {
    AssignmentState.PENDING: "待签收",
    AssignmentState.ACCEPTED: "已签收",
    AssignmentState.REPLIED: "已答复",
    AssignmentState.RETURNED: "已退单",
    AssignmentState.WITHDRAWN: "已撤回",
}

# Assignments a department still has to act on.
ACTIVE_ASSIGNMENT_STATES: tuple[AssignmentState, ...] = (
    AssignmentState.PENDING,
    AssignmentState.ACCEPTED,
)


class Extension(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


EXTENSION_LABELS: dict[str, str] = {
    Extension.REQUESTED: "延期申请中",
    Extension.APPROVED: "延期已批准",
    Extension.REJECTED: "延期未批准",
}

RATING_LABELS: dict[int, str] = {
    5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意",
}
# 3–5 count as satisfied (满意率); 1–2 are 差评 and send the case to rework (重办).
SATISFIED_MIN_SCORE = 3

CATEGORY_LABELS: dict[str, str] = dict(CATEGORIES)
SUBCATEGORY_LABELS: dict[str, dict[str, str]] = {k: dict(v) for k, v in SUBCATEGORIES.items()}
