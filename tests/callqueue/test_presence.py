"""The presence state machine: every state × every trigger, against the documented table.

The expected table is written out here from docs/queue.md ("Presence"), not read from the
module: a transition added, removed or redirected in the code fails this test.
"""

from __future__ import annotations

import itertools

import pytest

from callqueue.presence import (
    STATE_LABELS,
    IllegalTransition,
    PresenceRefused,
    State,
    Trigger,
    chosen_trigger,
    next_state,
    parse_state,
)

S, T = State, Trigger
# (from, trigger) → to, exactly as documented; every other pair is refused.
DOCUMENTED = {
    (S.OFFLINE, T.SIGN_IN): S.IDLE,
    (S.IDLE, T.OFFER): S.RINGING,
    (S.IDLE, T.TAKE_BREAK): S.BREAK,
    (S.IDLE, T.SIGN_OUT): S.OFFLINE,
    (S.IDLE, T.CONSOLE_LOST): S.OFFLINE,
    (S.RINGING, T.ANSWER): S.ON_CALL,
    (S.RINGING, T.NO_ANSWER): S.BREAK,
    (S.RINGING, T.DEVICE_FAILED): S.BREAK,
    (S.RINGING, T.OFFER_FAILED): S.IDLE,
    (S.RINGING, T.DROPPED): S.IDLE,
    (S.ON_CALL, T.HANG_UP): S.WRAP_UP,
    (S.ON_CALL, T.DROPPED): S.IDLE,
    (S.WRAP_UP, T.FINISH_WRAP_UP): S.IDLE,
    (S.WRAP_UP, T.TAKE_BREAK): S.BREAK,
    (S.WRAP_UP, T.SIGN_OUT): S.OFFLINE,
    (S.WRAP_UP, T.CONSOLE_LOST): S.OFFLINE,
    (S.BREAK, T.RESUME): S.IDLE,
    (S.BREAK, T.SIGN_OUT): S.OFFLINE,
    (S.BREAK, T.CONSOLE_LOST): S.OFFLINE,
}
ALL_PAIRS = list(itertools.product(State, Trigger))


def test_the_labels_are_the_six_states_of_the_issue():
    assert [STATE_LABELS[s] for s in State] == ["空闲", "振铃", "通话中", "话后整理", "小休",
                                                "离线"]


@pytest.mark.parametrize(("state", "trigger"), [p for p in ALL_PAIRS if p in DOCUMENTED])
def test_each_documented_transition(state: State, trigger: Trigger) -> None:
    assert next_state(state, trigger) == DOCUMENTED[(state, trigger)]


@pytest.mark.parametrize(("state", "trigger"), [p for p in ALL_PAIRS if p not in DOCUMENTED])
def test_every_other_pair_is_refused(state: State, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransition):
        next_state(state, trigger)


def test_both_sets_cover_every_pair():
    assert len(ALL_PAIRS) == 6 * 13
    assert sum(1 for p in ALL_PAIRS if p in DOCUMENTED) == len(DOCUMENTED) == 19


def test_a_repeated_event_is_refused_the_second_time():
    """A duplicate Twilio callback: the first moves the operator, the repeat does not apply."""
    after = next_state(S.RINGING, T.NO_ANSWER)
    with pytest.raises(IllegalTransition):
        next_state(after, T.NO_ANSWER)


@pytest.mark.parametrize(("current", "wanted", "trigger"), [
    (S.OFFLINE, S.IDLE, T.SIGN_IN), (S.BREAK, S.IDLE, T.RESUME),
    (S.WRAP_UP, S.IDLE, T.FINISH_WRAP_UP), (S.IDLE, S.BREAK, T.TAKE_BREAK),
    (S.WRAP_UP, S.BREAK, T.TAKE_BREAK), (S.IDLE, S.OFFLINE, T.SIGN_OUT),
    (S.BREAK, S.OFFLINE, T.SIGN_OUT), (S.WRAP_UP, S.OFFLINE, T.SIGN_OUT),
])
def test_an_operators_choice_is_a_trigger(current: State, wanted: State,
                                          trigger: Trigger) -> None:
    assert chosen_trigger(current, wanted) == trigger
    assert next_state(current, trigger) == wanted


def test_choosing_the_current_state_does_nothing():
    assert chosen_trigger(S.IDLE, S.IDLE) is None


@pytest.mark.parametrize("wanted", [S.RINGING, S.ON_CALL, S.WRAP_UP])
def test_call_states_cannot_be_chosen(wanted: State) -> None:
    with pytest.raises(PresenceRefused, match="自动设置"):
        chosen_trigger(S.IDLE, wanted)


@pytest.mark.parametrize("current", [S.RINGING, S.ON_CALL])
def test_a_call_cannot_be_left_from_the_console(current: State) -> None:
    with pytest.raises(PresenceRefused, match="通话结束后"):
        chosen_trigger(current, S.BREAK)


def test_an_offline_operator_signs_in_before_a_break():
    with pytest.raises(PresenceRefused, match="请先签入"):
        chosen_trigger(S.OFFLINE, S.BREAK)


def test_states_are_read_by_code_or_chinese_label():
    assert parse_state("空闲") == parse_state("idle") == S.IDLE
    assert parse_state(" 小休 ") == S.BREAK
    with pytest.raises(PresenceRefused, match="未知的状态"):
        parse_state("忙碌")
