"""回访未果: neither the automatic calls nor the operator reached the enterprise for a rating.

The operator records it with a reason on an operator task; then the rule in the settings
(``FOLLOWUP_UNREACHABLE_RULE``) decides: ``settle`` (default) closes the case as 未评价 and
settles the ledger; ``keep`` leaves the case answered, waiting for a rating someone may still
enter, and only takes it off the operator's task list.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from cases.actions.rating import do_close_unrated
from cases.actors import Actor
from cases.audit import record_event
from cases.errors import ForbiddenTransition, InvalidInput, NotFound
from followup.calls import locked
from followup.models import FollowUp, FollowUpStatus


class UnreachableRule(StrEnum):
    SETTLE = "settle"  # close as 未评价 and settle the ledger
    KEEP = "keep"  # leave the case answered, off the task list


# The reasons offered in the console; any other text is accepted as well.
REASONS = ("多次拨打无人接听", "号码停机或空号", "企业拒绝评价", "企业已注销或迁出", "联系人已离职")


def rule_from(value: str | None) -> UnreachableRule:
    """``FOLLOWUP_UNREACHABLE_RULE``; an unknown value is a configuration error."""
    try:
        return UnreachableRule((value or UnreachableRule.SETTLE).strip().lower())
    except ValueError:
        raise ValueError(f"FOLLOWUP_UNREACHABLE_RULE 应为 settle 或 keep，而不是 {value!r}") \
            from None


def record_unreachable(session: Session, followup_id: int, *, reason: str, actor: Actor,
                       now: datetime, rule: UnreachableRule) -> FollowUp:
    """The operator could not reach the enterprise either: 回访未果 with its reason."""
    followup = locked(session, followup_id)
    if followup is None:
        raise NotFound("回访任务不存在")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput({"reason": "请填写回访未果的原因"})
    if len(text) > 200:
        raise InvalidInput({"reason": "回访未果的原因不能超过200字"})
    if followup.status != FollowUpStatus.OPERATOR:
        raise ForbiddenTransition("只有自动回访未成功、转人工回访的任务才能登记回访未果")
    case = followup.case
    followup.status = FollowUpStatus.UNREACHABLE
    followup.unreachable_reason = text
    followup.unreachable_by = actor.name[:100]
    followup.unreachable_at = now
    followup.next_attempt_at = None
    record_event(session, case, actor=actor, action="followup_unreachable", now=now,
                 after={"followup_id": followup.id, "rule": rule.value}, note=text)
    if rule == UnreachableRule.SETTLE:
        do_close_unrated(session, case.id, reason=text, actor=actor, now=now)
    return followup
