"""The queue's hooks for the flow engine: joining and leaving the queue, callback requests.

An ``enqueue`` node's hook (``queue_join``) is called with None when the caller reaches it
and with Twilio's ``QueueResult`` when they leave the queue. Like the voicemail reservation,
each commits its own change before it returns (what the caller hears must be durable) and
then publishes and rings what the change asked for.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from call_flows.hooks import CallContext, HookRegistry, HookResult
from call_flows.roles import Role
from callqueue import queue
from callqueue.runtime import Changes, QueueRuntime
from core.db import db


def _runtime(ctx: CallContext) -> QueueRuntime | None:
    runtime = ctx.services.get("queue")
    return runtime if isinstance(runtime, QueueRuntime) else None


def queue_join(ctx: CallContext, queue_result: str | None) -> HookResult:
    runtime = _runtime(ctx)
    if runtime is None:
        return HookResult(outcome="unavailable")
    session = db.session
    if queue_result is None:
        joined = queue.join(session, runtime, call_sid=ctx.call_sid,
                            from_number=ctx.from_number, area=ctx.state.get("category"),
                            subarea=ctx.state.get("subcategory"), now=ctx.now)
        runtime.commit(session, joined.changes)
        if not joined.queued:
            return HookResult(outcome="unavailable")
        return HookResult(queue=joined.queue)
    outcome, changes = queue.left_queue(session, runtime, call_sid=ctx.call_sid,
                                        queue_result=queue_result, now=ctx.now)
    runtime.commit(session, changes)
    return HookResult(outcome=outcome.value)


def deadline_text(deadline: datetime, now: datetime, tz: tzinfo) -> str:
    """``今天15:30`` or ``12月8日09:30``: when the callback will have been made by."""
    local, today = deadline.astimezone(tz), now.astimezone(tz).date()
    day = "今天" if local.date() == today else f"{local.month}月{local.day}日"
    return f"{day}{local:%H:%M}"


def queue_callback(ctx: CallContext, _digits: str | None) -> HookResult:
    """预约回电 (key 1 while waiting, or after the queue could not take the caller): the
    request is kept (once per call) and its deadline read back."""
    runtime = _runtime(ctx)
    if runtime is None:
        return HookResult(prompts=["抱歉，暂时无法预约回电，请您留言。"], next=Role.VOICEMAIL)
    session = db.session
    changes = Changes()
    callback = queue.request_callback(
        session, runtime, call_sid=ctx.call_sid, from_number=ctx.from_number,
        area=ctx.state.get("category"), subarea=ctx.state.get("subcategory"), now=ctx.now,
        changes=changes)
    runtime.commit(session, changes)
    when = deadline_text(callback.deadline or ctx.now, ctx.now, runtime.tz)
    return HookResult(prompts=[f"已为您预约回电，工作人员将在{when}前给您回电，请保持电话畅通。"])


def register(registry: HookRegistry) -> None:
    registry.hook("queue_join")(queue_join)
    registry.hook("queue_callback")(queue_callback)
