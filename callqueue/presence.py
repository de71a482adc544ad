"""Operators' presence: the one state machine, written once (docs/queue.md, "Presence").

An operator is in exactly one state. It changes only through a :class:`Trigger`, either the
operator's own choice in the console or the CLI (sign in, break, resume, sign out, wrap-up
done) or a call event (offered, answered, no answer, device failure, hang-up, the caller
gone). :data:`TRANSITIONS` lists every allowed change; anything else raises
:class:`IllegalTransition`, which is how duplicate and out-of-order Twilio callbacks are
recognised and ignored.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    OFFLINE = "offline"


STATE_LABELS: dict[State, str] = {
    State.IDLE: "空闲",
    State.RINGING: "振铃",
    State.ON_CALL: "通话中",
    State.WRAP_UP: "话后整理",
    State.BREAK: "小休",
    State.OFFLINE: "离线",
}

# Signed in and serving: a caller may be queued for an operator in one of these states.
ON_DUTY: frozenset[State] = frozenset({State.IDLE, State.RINGING, State.ON_CALL,
                                       State.WRAP_UP})
# States an operator may choose (the others follow from calls).
CHOSEN: frozenset[State] = frozenset({State.IDLE, State.BREAK, State.OFFLINE})


class Trigger(StrEnum):
    # The operator's choices.
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    TAKE_BREAK = "take_break"
    RESUME = "resume"
    FINISH_WRAP_UP = "finish_wrap_up"  # the outcome recorded, or the wrap-up time is over
    # Call events.
    OFFER = "offer"  # the dispatcher rings the operator's device
    ANSWER = "answer"  # the device answered
    NO_ANSWER = "no_answer"  # not answered within the ring time (or busy)
    DEVICE_FAILED = "device_failed"  # Twilio could not reach the device
    OFFER_FAILED = "offer_failed"  # the REST request to ring it failed (not the operator's fault)
    DROPPED = "dropped"  # the call ended before the two talked (the caller hung up first…)
    HANG_UP = "hang_up"  # the conversation ended
    CONSOLE_LOST = "console_lost"  # the operator's console has been closed for a while


TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (State.OFFLINE, Trigger.SIGN_IN): State.IDLE,
    (State.IDLE, Trigger.OFFER): State.RINGING,
    (State.IDLE, Trigger.TAKE_BREAK): State.BREAK,
    (State.IDLE, Trigger.SIGN_OUT): State.OFFLINE,
    (State.IDLE, Trigger.CONSOLE_LOST): State.OFFLINE,
    (State.RINGING, Trigger.ANSWER): State.ON_CALL,
    (State.RINGING, Trigger.NO_ANSWER): State.BREAK,
    (State.RINGING, Trigger.DEVICE_FAILED): State.BREAK,
    (State.RINGING, Trigger.OFFER_FAILED): State.IDLE,
    (State.RINGING, Trigger.DROPPED): State.IDLE,
    (State.ON_CALL, Trigger.HANG_UP): State.WRAP_UP,
    (State.ON_CALL, Trigger.DROPPED): State.IDLE,
    (State.WRAP_UP, Trigger.FINISH_WRAP_UP): State.IDLE,
    (State.WRAP_UP, Trigger.TAKE_BREAK): State.BREAK,
    (State.WRAP_UP, Trigger.SIGN_OUT): State.OFFLINE,
    (State.WRAP_UP, Trigger.CONSOLE_LOST): State.OFFLINE,
    (State.BREAK, Trigger.RESUME): State.IDLE,
    (State.BREAK, Trigger.SIGN_OUT): State.OFFLINE,
    (State.BREAK, Trigger.CONSOLE_LOST): State.OFFLINE,
}

# What the operator is told when a call event moved them (shown on the console).
NOTICES: dict[Trigger, str] = {
    Trigger.NO_ANSWER: ("来电振铃未接听，已转为小休，来电已转给其他工作人员。"
                        "确认设备后请点“空闲”继续接听。"),
    Trigger.DEVICE_FAILED: ("接听设备无法接通，已转为小休，来电已转给其他工作人员。"
                            "请检查设备后点“空闲”。"),
    Trigger.OFFER_FAILED: "呼叫接听设备失败（系统原因），来电已转给其他工作人员。",
    Trigger.DROPPED: "来电已挂断。",
    Trigger.CONSOLE_LOST: "工作台已关闭，已自动签出（离线）。",
}


class IllegalTransition(ValueError):
    """The trigger does not apply in the current state (a late or repeated event)."""

    def __init__(self, state: State, trigger: Trigger) -> None:
        super().__init__(f"{trigger.value} does not apply to an operator who is {state.value}")
        self.state = state
        self.trigger = trigger


class PresenceRefused(ValueError):
    """An operator's choice that cannot be made now; the message is for the operator."""


def next_state(state: State | str, trigger: Trigger | str) -> State:
    """The state ``trigger`` leads to from ``state``; :class:`IllegalTransition` otherwise."""
    current, event = State(state), Trigger(trigger)
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise IllegalTransition(current, event) from None


def allows(state: State | str, trigger: Trigger | str) -> bool:
    return (State(state), Trigger(trigger)) in TRANSITIONS


def parse_state(text: str) -> State:
    """A state from its code (``idle``) or its Chinese label (``空闲``)."""
    value = text.strip()
    for state, label in STATE_LABELS.items():
        if value in (state.value, label):
            return state
    names = "、".join(f"{label}（{state.value}）" for state, label in STATE_LABELS.items())
    raise PresenceRefused(f"未知的状态“{value}”，可选：{names}")


def chosen_trigger(current: State | str, wanted: State | str) -> Trigger | None:
    """The trigger of an operator choosing ``wanted`` while ``current``; None: nothing to do.

    Only 空闲, 小休 and 离线 can be chosen; 振铃, 通话中 and 话后整理 follow from calls, and a
    ringing or talking operator cannot leave the call from the console.
    """
    now, target = State(current), State(wanted)
    if target not in CHOSEN:
        raise PresenceRefused(f"“{STATE_LABELS[target]}”由来电自动设置，不能手动选择")
    if now == target:
        return None
    if now in (State.RINGING, State.ON_CALL):
        raise PresenceRefused(f"正在{STATE_LABELS[now]}，通话结束后才能改为{STATE_LABELS[target]}")
    if target == State.OFFLINE:
        trigger = Trigger.SIGN_OUT
    elif target == State.BREAK:
        trigger = Trigger.TAKE_BREAK
    else:
        trigger = {State.OFFLINE: Trigger.SIGN_IN, State.BREAK: Trigger.RESUME,
                   State.WRAP_UP: Trigger.FINISH_WRAP_UP}[now]
    if not allows(now, trigger):
        raise PresenceRefused(
            f"{STATE_LABELS[now]}时不能直接改为{STATE_LABELS[target]}，请先签入（空闲）")
    return trigger
