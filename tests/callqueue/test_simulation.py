"""A seeded simulation: 20 callers over 5 minutes, 3 operators with drawn talk times.

Callers choose their areas, some press 1 (预约回电) or 2 (voicemail) while waiting, some
hang up (a few within 5 s: short abandons), the others wait — and are answered, or after
the longest wait choose a callback or a voicemail. Everything goes through the real webhooks
(the terminal phone and its switchboard play the callers, Twilio and the operators' devices),
with the periodic tick every 5 s, on a virtual clock.

Twenty callers in five minutes keep the three operators as busy as forty in ten did, and the
seed gives every way of ending (short abandons too); more callers only cost time.

Then: every caller ended exactly one way — answered, called back, voicemail recorded, or
hung up — none twice; and the queue's figures (service level, ASA, AHT, abandons,
callbacks in time) equal those computed here from the switchboard's own event list.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from callqueue.models import EntryKind, EntryStatus, QueueEntry
from core.db import db
from ivr.switchboard import CallerScript, OperatorPolicy
from reports import periods
from reports.indicators import Scope
from reports.queue_figures import QueueRules, queue_figures
from tests.conftest import write_tone_wav

SEED = 20_261_124
CALLERS = 20
SPAN = 300.0  # seconds in which callers arrive
WRAPUP = 30  # QUEUE_WRAPUP_SECONDS (the default)
CALLBACK_TALK = 45.0
TZ = ZoneInfo("Asia/Shanghai")
MENUS = {"factor": ["1", "{}"], "policy": ["2", "{}"], "special": ["3", "{}"],
         "other": ["4"]}
SUBKEYS = {"factor": "123456", "policy": "1234", "special": "12345", "other": ""}


@dataclass
class Plan:
    number: str
    at: float
    area: str
    keys: list[str]
    script: CallerScript
    behaviour: str  # waits | presses-1 | presses-2 | hangs-up


def plans(rng: random.Random) -> list[Plan]:
    made = []
    for index in range(CALLERS):
        area = rng.choice(sorted(MENUS))
        keys = [k.format(rng.choice(SUBKEYS[area])) if "{" in k else k for k in MENUS[area]]
        roll = rng.random()
        if roll < 0.2:
            behaviour, script = "presses-1", CallerScript(wait_keys=[(rng.uniform(15, 90), "1")])
        elif roll < 0.35:
            behaviour, script = "presses-2", CallerScript(wait_keys=[(rng.uniform(15, 90), "2")])
        elif roll < 0.5:
            patience = rng.uniform(1, 4.5) if index % 2 else rng.uniform(6, 150)
            behaviour, script = "hangs-up", CallerScript(hang_up_after=patience)
        else:
            behaviour, script = "waits", CallerScript()
        # After the longest wait the queue offers 1 (callback) or 2 (voicemail): a key ready.
        keys.append(rng.choice("12"))
        made.append(Plan(f"+86138{index:08d}", rng.uniform(0, SPAN), area, keys, script,
                         behaviour))
    return made


def test_twenty_callers_three_operators(phone: Any, desk: Any, board: Any, clock: Any,
                                       tmp_path: Path) -> None:
    rng = random.Random(SEED)
    clock.set_local("2026-11-24 10:00")  # a Tuesday, in office hours
    start = clock.now
    operators = {"op1": "factor,policy,special,other", "op2": "factor,policy",
                 "op3": "special,other,policy"}
    for name, skills in operators.items():
        talk = random.Random(f"{SEED}-{name}")
        desk.operator(name, skills=skills, policy=OperatorPolicy(
            answer_after=rng.uniform(2, 6), draw_talk=lambda t=talk: float(t.randint(30, 120))))
    board.default_callee.talk_seconds = CALLBACK_TALK
    wav = write_tone_wav(tmp_path / "message.wav", seconds=2.0)
    callers = plans(rng)
    outcomes: dict[str, Any] = {}

    for plan in callers:
        def work(plan: Plan = plan) -> None:
            outcomes[plan.number] = phone.call(from_number=plan.number, keys=plan.keys,
                                               queue=plan.script, voicemail=wav)

        board.spawn(f"caller-{plan.number}", work, delay=plan.at)
    desk.ticking(5.0, while_open=True)
    board.run()

    # -- every caller ended exactly one way, none twice --------------------------------------
    assert len(outcomes) == CALLERS
    by_sid = {o.call_sid: number for number, o in outcomes.items()}
    events = board.events
    db.session.rollback()
    db.session.expire_all()
    entries = {e.call_sid: e for e in db.session.scalars(
        select(QueueEntry).where(QueueEntry.kind == EntryKind.CALL.value))}
    callbacks = {e.call_sid: e for e in db.session.scalars(
        select(QueueEntry).where(QueueEntry.kind == EntryKind.CALLBACK.value))}
    assert set(entries) == set(by_sid)  # all of them reached the queue
    bridged = Counter(sid for _at, what, sid, _d in events if what == "bridged")
    assert max(bridged.values()) == 1  # nobody connected twice
    answered_back = Counter(d for _at, what, _s, d in events if what == "callback_answered")
    assert not answered_back or max(answered_back.values()) == 1  # nobody called back twice
    ended: Counter[str] = Counter()
    for sid, entry in entries.items():
        outcome = outcomes[by_sid[sid]]
        ways = [bridged[sid] == 1, sid in callbacks and callbacks[sid].status == "completed",
                outcome.recording_sid is not None, entry.status == EntryStatus.ABANDONED]
        assert sum(ways) == 1, (sid, entry.status, entry.left_reason, ways)
        ended[("answered", "called back", "recorded", "hung up")[ways.index(True)]] += 1
        if bridged[sid]:
            assert entry.status == EntryStatus.COMPLETED
    # Callers who did not hang up were all answered, called back or recorded.
    assert ended["hung up"] == sum(
        1 for p in callers if p.behaviour == "hangs-up" and outcomes[p.number].call_sid
        not in bridged)
    assert all(e.status == "completed" for e in callbacks.values())
    assert ended["answered"] and ended["called back"] and ended["recorded"]
    assert ended["hung up"] and sum(ended.values()) == CALLERS

    # -- the figures equal those computed from the switchboard's own events ---------------------
    times: dict[str, dict[str, datetime]] = defaultdict(dict)
    left_as: dict[str, str] = {}
    for at, what, sid, detail in events:
        if what in ("enqueued", "bridged", "talk_ended"):
            times[sid].setdefault(what, at)
        if what == "left":
            left_as[sid] = detail
            times[sid]["left"] = at

    def seconds(a: datetime, b: datetime) -> int:
        return max(0, round((b - a).total_seconds()))

    waits = [seconds(t["enqueued"], t["bridged"]) for t in times.values() if "bridged" in t]
    handled = [seconds(t["bridged"], t["talk_ended"]) + WRAPUP
               for t in times.values() if "bridged" in t]
    gave_up = [seconds(times[s]["enqueued"], times[s]["left"]) for s, r in left_as.items()
               if r == "hangup"]
    short = sum(1 for w in gave_up if w < 5)
    base = CALLERS - short
    within = sum(1 for w in waits if w <= 20)
    # Callbacks: done when answered plus the talk, due 60 minutes after the request.
    asked = {sid: times[sid]["left"] for sid in callbacks}
    numbers = {entries[sid].from_number: sid for sid in callbacks}
    done_at = {numbers[d]: at + timedelta(seconds=CALLBACK_TALK)
               for at, what, _s, d in events if what == "callback_answered"}
    in_time = sum(1 for sid, at in done_at.items() if at <= asked[sid] + timedelta(hours=1))

    day = start.astimezone(TZ).date()
    scope = Scope(period=periods.custom(day, day), today=day, tz=TZ)
    figures = queue_figures(db.session, scope, clock.now, QueueRules(20, 5))
    assert figures.counts["offered"] == CALLERS and figures.counts["unavailable"] == 0
    assert figures.counts["answered"] == len(waits) == ended["answered"]
    assert (figures.service_level.numerator, figures.service_level.denominator) == (
        within, base)
    assert figures.counts["short_abandoned"] == short >= 1
    assert (figures.abandon_rate.numerator, figures.abandon_rate.denominator) == (
        len(gave_up) - short, base)
    assert figures.asa == round(sum(waits) / len(waits), 1)
    assert figures.aht == round(sum(handled) / len(handled), 1)
    assert (figures.callbacks_in_time.numerator, figures.callbacks_in_time.denominator) == (
        in_time, len(callbacks))
    # The operators answered what the switchboard connected them to.
    assert sum(o.answered for o in figures.operators) == len(waits)
