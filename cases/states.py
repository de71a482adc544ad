"""The case state machine: which action is allowed from which status, and where it leads.

Lifecycle functions call :func:`check` before they change anything and :func:`move` to
change the status, so a transition that is not in :data:`TRANSITIONS` cannot happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.case_models import Case
from cases.errors import ForbiddenTransition
from cases.vocab import STATUS_LABELS, Status

R, E, H, A, C = Status.RECEIVED, Status.ESCALATED, Status.HANDLING, Status.ANSWERED, Status.CLOSED


@dataclass(frozen=True)
class Transition:
    label: str  # what the user tried, in Chinese: "不能{label}"
    sources: frozenset[Status]
    targets: frozenset[Status]


def _t(label: str, sources: set[Status], targets: set[Status]) -> Transition:
    return Transition(label, frozenset(sources), frozenset(targets))


TRANSITIONS: dict[str, Transition] = {
    "answer_instantly": _t("即时答复", {R}, {A}),
    # The caller confirmed on the phone that the knowledge-base answer solved it.
    "resolve_self_service": _t("自助办结", {R}, {C}),
    "route": _t("流转交办", {R}, {H}),
    "reroute": _t("重新交办", {R, H}, {H}),
    "start_joint": _t("启动专班商办", {R}, {H}),
    "record_meeting": _t("登记商办会", {H}, {H}),
    "escalate": _t("研判上报", {R, H}, {E}),
    "record_decision": _t("登记领导小组决定", {E}, {H}),
    "accept": _t("签收", {H}, {H}),
    # 退单: back to the centre's queue when no other department is still handling it.
    "return": _t("退单", {H}, {H, R}),
    "request_extension": _t("申请延期", {H}, {H}),
    "decide_extension": _t("审批延期", {H}, {H}),
    # Answered once every department still involved has replied.
    "reply": _t("答复", {H}, {H, A}),
    # 3–5 closes; 1–2 is rework (重办): departments again, or the centre's queue (即时办).
    "rate": _t("满意度评价", {A}, {C, H, R}),
    # 回访未果: nobody could be reached for a rating; closed as 未评价 by the settings' rule.
    "close_unrated": _t("回访未果办结", {A}, {C}),
    # 并单 into an earlier open case of the same caller, and its undoing (cases.duplicates).
    "merge": _t("并单", {R}, {Status.MERGED}),
    "unlink": _t("取消并单", {Status.MERGED}, {R}),
    "update_details": _t("修改诉求信息", {R, E, H, A}, {R, E, H, A}),
}


def check(case: Case, action: str) -> Transition:
    """The transition for ``action``; :class:`ForbiddenTransition` if not allowed now."""
    transition = TRANSITIONS[action]
    if case.status not in transition.sources:
        label = STATUS_LABELS.get(case.status, case.status)
        raise ForbiddenTransition(f"诉求当前状态为“{label}”，不能{transition.label}")
    return transition


def move(case: Case, action: str, target: Status) -> None:
    """Set ``case.status`` to ``target`` through ``action`` (checked against the table)."""
    transition = check(case, action)
    if target not in transition.targets:
        raise AssertionError(f"{action} cannot lead to {target}")
    case.status = target
