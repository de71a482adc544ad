"""Twilio's side of calls that meet in a queue, simulated: the terminal phone's switchboard.

The terminal phone plays one caller; the switchboard plays everything Twilio does around the
call queue: the ``<Enqueue>`` waiting loop (``waitUrl`` requests, keys pressed while waiting,
``<Leave>``), the REST API the hotline uses to ring operators' devices (it is the ``twilio``
library's HTTP client: ``switchboard.http_client``), simulated operators who answer or not,
``<Dial><Queue>`` taking the head of a queue (the ``<Queue url>`` request on the caller's leg),
the conversation, both sides' callbacks, and ``<Dial><Number>`` for callbacks.

Time is a clock the switchboard moves (``clock.now``, aware UTC; the app under test reads
the same clock), event by event, so a ten-minute simulation takes a second and is the same
on every run. Every party is a thread, but only one runs at a time: a party that waits
(``sleep``) hands over to the next event in time order. The thread that drives the
simulation (a test, ``flask call``) waits by running the other parties until its own time
comes, so a single call needs no thread of its own.

Long on purpose: a discrete-event simulation: the clock, the parties and the hand-over
between their threads are one mechanism whose invariant (one party runs at a time) is read
in one place.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

log = logging.getLogger(__name__)

# Seconds of speech per character of a <Say> (Mandarin, about four characters a second).
SAY_SECONDS_PER_CHAR = 0.25
# Length of a <Play> whose length the switchboard cannot know (hold music: see play_seconds).
DEFAULT_PLAY_SECONDS = 28.0
MAX_WAIT_REQUESTS = 400


class Clock(Protocol):
    now: datetime

    def __call__(self) -> datetime: ...


class VirtualClock:
    """A clock only the switchboard moves (aware UTC)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self.now = start

    def __call__(self) -> datetime:
        return self.now


Post = Callable[[str, dict[str, str]], str]


@dataclass
class OperatorPolicy:
    """How a simulated operator's device behaves when rung.

    ``answer_after``: seconds of ringing before picking up (None: never answers, Twilio
    reports ``no-answer`` after the call's timeout); ``talk_seconds``: how long they talk;
    ``fails``: the device cannot be reached (Twilio reports ``failed``).
    """

    answer_after: float | None = 3.0
    talk_seconds: float = 60.0
    fails: bool = False
    busy: bool = False
    # Draws each call's talk time (a simulation's random source) instead of talk_seconds.
    draw_talk: Callable[[], float] | None = None

    def talk(self) -> float:
        return self.draw_talk() if self.draw_talk is not None else self.talk_seconds


@dataclass
class CalleePolicy:
    """A caller called back (``<Dial><Number>``): answers after some seconds, or not."""

    answers: bool = True
    answer_after: float = 4.0
    talk_seconds: float = 45.0


class _Party:
    """One simulated party (a thread); it runs only when the switchboard resumes it."""

    def __init__(self, board: Switchboard, name: str, work: Callable[[], None]) -> None:
        self.board = board
        self.name = name
        self.work = work
        self.resume = threading.Event()
        self.done = False
        self.wake_seq = -1
        self.interrupted = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)

    def _run(self) -> None:
        self.resume.wait()
        self.resume.clear()
        try:
            self.work()
        except BaseException as exc:  # reported by the switchboard's run()
            self.error = exc
            log.exception("simulated party %s failed", self.name)
        finally:
            self.done = True
            self.board._turn_over.set()


@dataclass
class Waiter:
    """Someone waiting in a Twilio queue (a caller's leg)."""

    call_sid: str
    params: dict[str, str]
    joined: datetime
    sleeper: Any = None
    bridged_to: str | None = None  # the operator leg's CallSid
    talk_until: datetime | None = None
    over: bool = False
    hung_up: bool = False


@dataclass
class Leg:
    """An outbound call the hotline asked for (the operator's device)."""

    sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None
    timeout: int
    cancelled: str | None = None  # the status asked for through the REST API
    sleeper: Any = None


@dataclass
class CallerScript:
    """What a simulated caller does once in the queue: a key at a time after joining it,
    hanging up after some seconds of waiting."""

    wait_keys: list[tuple[float, str]] = field(default_factory=list)
    hang_up_after: float | None = None


class Switchboard:
    def __init__(self, clock: Clock, post: Post, *, account_sid: str = "AC" + "0" * 32,
                 echo: Callable[[str], None] = print, real_time: bool = False,
                 play_seconds: Callable[[str], float] | None = None) -> None:
        self.clock = clock
        self.post = post
        self.account_sid = account_sid
        self.echo = echo
        self.real_time = real_time
        self.play_seconds = play_seconds or (lambda _url: DEFAULT_PLAY_SECONDS)
        self.queues: dict[str, deque[Waiter]] = {}
        self.legs: dict[str, Leg] = {}
        self.operators: dict[str, OperatorPolicy] = {}
        self.callees: dict[str, CalleePolicy] = {}
        self.default_operator = OperatorPolicy()
        self.default_callee = CalleePolicy()
        self.rest_requests: list[tuple[str, str, dict[str, Any]]] = []
        # Every request and who made it, for tests (time, url, params).
        self.log: list[tuple[datetime, str, dict[str, str]]] = []
        # What happened, as Twilio saw it: (time, what, caller's CallSid, detail). ``what`` is
        # enqueued, left (detail: the QueueResult), bridged (detail: the operator's device),
        # talk_ended, callback_answered / callback_unanswered (detail: the number).
        self.events: list[tuple[datetime, str, str, str]] = []
        self._heap: list[tuple[datetime, int, _Party]] = []
        self._seq = itertools.count()
        self._turn_over = threading.Event()
        self._parties: dict[int, _Party] = {}  # thread ident → party
        self._lock = threading.RLock()
        self.http_client = SwitchboardHttp(self)

    # -- time and parties ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now

    def _current(self) -> _Party | None:
        return self._parties.get(threading.get_ident())

    def spawn(self, name: str, work: Callable[[], None], delay: float = 0.0) -> _Party:
        """A new party that starts ``delay`` seconds from now."""
        party = _Party(self, name, work)
        party.thread.start()
        self._parties[party.thread.ident or 0] = party
        self._schedule(party, self.now() + timedelta(seconds=delay))
        return party

    def _schedule(self, party: _Party, at: datetime) -> None:
        seq = next(self._seq)
        party.wake_seq = seq
        heapq.heappush(self._heap, (at, seq, party))

    def sleep(self, seconds: float, *, interruptible: bool = False) -> bool:
        """Let ``seconds`` pass for the calling party; True if it was interrupted (only when
        ``interruptible``: someone took this caller from the queue)."""
        party = self._current()
        target = self.now() + timedelta(seconds=max(0.0, seconds))
        if party is None:
            return self._drive_until(target, interruptible)
        if interruptible and party.interrupted:
            party.interrupted = False
            return True
        self._schedule(party, target)
        self._turn_over.set()
        party.resume.wait()
        party.resume.clear()
        if interruptible and party.interrupted:
            party.interrupted = False
            return True
        return False

    _driver_interrupted = False

    def _drive_until(self, target: datetime, interruptible: bool) -> bool:
        """The driving thread waits: run the others until ``target`` (or an interrupt)."""
        if interruptible and self._driver_interrupted:
            self._driver_interrupted = False
            return True
        while self._heap and self._heap[0][0] <= target:
            self._step()
            if interruptible and self._driver_interrupted:
                self._driver_interrupted = False
                return True
        self._advance(target)
        return False

    def interrupt(self, sleeper: Any) -> None:
        """Wake a waiting party now (its ``sleep(interruptible=True)`` returns True)."""
        if sleeper is None:
            self._driver_interrupted = True
            return
        party: _Party = sleeper
        party.interrupted = True
        if not party.done:
            self._schedule(party, self.now())

    def _advance(self, to: datetime) -> None:
        if to > self.clock.now:
            if self.real_time:
                time.sleep((to - self.clock.now).total_seconds())
            self.clock.now = to

    def _step(self) -> None:
        at, seq, party = heapq.heappop(self._heap)
        if party.done or seq != party.wake_seq:
            return
        self._advance(at)
        self._turn_over.clear()
        party.resume.set()
        self._turn_over.wait()
        if party.error is not None:
            error, party.error = party.error, None
            raise RuntimeError(f"simulated party {party.name} failed: {error}") from error

    def run(self, until: datetime | None = None) -> None:
        """Run every party until nothing is left to happen (or until ``until``)."""
        while self._heap and (until is None or self._heap[0][0] <= until):
            self._step()
        if until is not None:
            self._advance(until)

    # -- requests -----------------------------------------------------------------------

    def note(self, what: str, call_sid: str, detail: str = "") -> None:
        self.events.append((self.now(), what, call_sid, detail))

    def request(self, url: str, params: dict[str, str]) -> str:
        self.log.append((self.now(), url, dict(params)))
        return self.post(url, params)

    def _say_seconds(self, element: ET.Element) -> float:
        return len((element.text or "").strip()) * SAY_SECONDS_PER_CHAR

    # -- the caller's side: waiting in a queue -------------------------------------------

    def wait_in_queue(self, verb: ET.Element, live: dict[str, str],
                      script: CallerScript, hear: Callable[[str], None]) -> str | None:
        """Play Twilio for a caller at ``<Enqueue>``: the waiting loop until they leave,
        are connected and the conversation ends, or hang up. Returns the TwiML the
        ``<Enqueue>`` action answered (what the caller hears next), None if they hung up."""
        name = (verb.text or "").strip()
        action, wait_url = verb.get("action", ""), verb.get("waitUrl", "")
        waiter = Waiter(live["CallSid"], live, self.now(), sleeper=self._current())
        queue = self.queues.setdefault(name, deque())
        queue.append(waiter)
        self.note("enqueued", waiter.call_sid, name)
        self.echo(f"☎ 进入排队 {name}")
        queue_sid = "QU" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex
        keys = sorted(script.wait_keys)
        hang_up_at = (waiter.joined + timedelta(seconds=script.hang_up_after)
                      if script.hang_up_after is not None else None)

        def queue_time() -> str:
            return str(round((self.now() - waiter.joined).total_seconds()))

        def leave_with(result: str) -> str | None:
            if waiter in queue:
                queue.remove(waiter)
            self.note("left", waiter.call_sid, result)
            params = {**live, "QueueResult": result, "QueueSid": queue_sid,
                      "QueueTime": queue_time()}
            return self.request(action, params) if action else None

        for _ in range(MAX_WAIT_REQUESTS):
            if waiter.bridged_to is not None:
                return self._talk(waiter, hang_up_at, leave_with)
            if hang_up_at is not None and self.now() >= hang_up_at:
                waiter.hung_up = True
                self.echo("☎ 等待中挂机")
                leave_with("hangup")
                return None
            position = list(queue).index(waiter) + 1 if waiter in queue else 0
            body = self.request(wait_url, {
                **live, "QueueSid": queue_sid, "QueuePosition": str(position),
                "QueueTime": queue_time(), "CurrentQueueSize": str(len(queue)),
                "AvgQueueTime": "0"})
            outcome = self._play_wait(body, live, keys, waiter, hang_up_at, hear)
            if outcome == "leave":
                self.echo("☎ 离开排队")
                return leave_with("leave")
        raise RuntimeError(f"{MAX_WAIT_REQUESTS} waitUrl requests: the queue never ended")

    def _play_wait(self, body: str, live: dict[str, str], keys: list[tuple[float, str]],
                   waiter: Waiter, hang_up_at: datetime | None,
                   hear: Callable[[str], None]) -> str:
        """Play one ``waitUrl`` document; "leave", or "again" (Twilio asks once more)."""
        for _ in range(20):
            root = ET.fromstring(body)
            next_body: str | None = None
            for verb in root:
                if verb.tag == "Leave":
                    return "leave"
                if verb.tag == "Redirect":
                    return "again"
                if verb.tag == "Hangup":
                    return "again"
                if verb.tag == "Gather":
                    pressed = self._gather_in_queue(verb, keys, waiter, hang_up_at, hear)
                    if pressed is None:
                        if waiter.bridged_to or self._time_to_hang_up(hang_up_at):
                            return "again"
                        continue
                    next_body = self.request(verb.get("action", ""),
                                             {**live, "Digits": pressed})
                    break
                if self._listen(verb, waiter, hang_up_at, hear):
                    return "again"
            if next_body is None:
                return "again"
            body = next_body
        return "again"

    def _time_to_hang_up(self, hang_up_at: datetime | None) -> bool:
        return hang_up_at is not None and self.now() >= hang_up_at

    def _listen(self, verb: ET.Element, waiter: Waiter, hang_up_at: datetime | None,
                hear: Callable[[str], None]) -> bool:
        """Hear a Say/Play/Pause while waiting; True if interrupted (connected, hung up)."""
        if verb.tag == "Say":
            hear(verb.text or "")
            seconds = self._say_seconds(verb)
        elif verb.tag == "Play":
            hear(f"[播放 {(verb.text or '').strip().rsplit('/', 1)[-1]}]")
            seconds = self.play_seconds((verb.text or "").strip())
        elif verb.tag == "Pause":
            seconds = float(verb.get("length", "1"))
        else:
            return False
        return self._wait(seconds, waiter, hang_up_at)

    def _wait(self, seconds: float, waiter: Waiter, hang_up_at: datetime | None) -> bool:
        end = self.now() + timedelta(seconds=seconds)
        if hang_up_at is not None and hang_up_at < end:
            if self.sleep((hang_up_at - self.now()).total_seconds(), interruptible=True):
                return True
            return True
        return self.sleep(seconds, interruptible=True)

    def _gather_in_queue(self, verb: ET.Element, keys: list[tuple[float, str]], waiter: Waiter,
                         hang_up_at: datetime | None, hear: Callable[[str], None]
                         ) -> str | None:
        """A ``<Gather>`` in the wait music: a scheduled key is pressed when its time comes."""
        for child in verb:
            due = keys[0] if keys else None
            if due is not None:
                at = waiter.joined + timedelta(seconds=due[0])
                if child.tag == "Say":
                    hear(child.text or "")
                length = (self._say_seconds(child) if child.tag == "Say"
                          else self.play_seconds((child.text or "").strip())
                          if child.tag == "Play" else float(child.get("length", "1")))
                if at <= self.now() + timedelta(seconds=length):
                    if self._wait(max(0.0, (at - self.now()).total_seconds()), waiter,
                                  hang_up_at):
                        return None
                    keys.pop(0)
                    self.echo(f"☎ 等待中按键 {due[1]}")
                    return due[1]
                if self._wait(length, waiter, hang_up_at):
                    return None
                continue
            if self._listen(child, waiter, hang_up_at, hear):
                return None
        # After the nested verbs, Gather waits ``timeout`` seconds for a key.
        timeout = float(verb.get("timeout", "5"))
        due = keys[0] if keys else None
        if due is not None:
            at = waiter.joined + timedelta(seconds=due[0])
            if at <= self.now() + timedelta(seconds=timeout):
                if self._wait(max(0.0, (at - self.now()).total_seconds()), waiter, hang_up_at):
                    return None
                keys.pop(0)
                self.echo(f"☎ 等待中按键 {due[1]}")
                return due[1]
        self._wait(timeout, waiter, hang_up_at)
        return None

    def _talk(self, waiter: Waiter, hang_up_at: datetime | None,
              leave_with: Callable[[str], str | None]) -> str | None:
        """Connected to an operator: wait for the conversation to end (either side)."""
        while not waiter.over:
            # The caller hangs up during the conversation only if their script says so
            # before the operator would have ended it.
            if hang_up_at is not None and waiter.talk_until is not None \
                    and hang_up_at < waiter.talk_until and self.now() >= hang_up_at:
                waiter.hung_up = True
                waiter.over = True
                leg = self.legs.get(waiter.bridged_to or "")
                if leg is not None:
                    self.interrupt(leg.sleeper)
                break
            until = waiter.talk_until or self.now() + timedelta(seconds=1)
            if hang_up_at is not None and hang_up_at > self.now():
                until = min(until, hang_up_at)
            self.sleep(max(0.0, (until - self.now()).total_seconds()), interruptible=True)
        if waiter.hung_up:
            self.echo("☎ 通话中挂机")
            return None
        self.echo("☎ 工作人员挂机")
        return leave_with("bridged")

    # -- the operators' side: legs the hotline asked for ---------------------------------

    def create_call(self, data: dict[str, Any]) -> Leg:
        """``calls.create``: ring a device (a new party that plays that leg)."""
        leg = Leg(sid="CA" + uuid.uuid4().hex, to=str(data.get("To", "")),
                  from_=str(data.get("From", "")), url=str(data.get("Url", "")),
                  status_callback=data.get("StatusCallback"),
                  timeout=int(data.get("Timeout") or 60))
        self.legs[leg.sid] = leg
        party = self.spawn(f"leg-{leg.to}", lambda: self._play_leg(leg), delay=0.5)
        leg.sleeper = party
        return leg

    def update_call(self, sid: str, data: dict[str, Any]) -> Leg | None:
        leg = self.legs.get(sid)
        if leg is not None and data.get("Status") in ("canceled", "completed"):
            leg.cancelled = str(data["Status"])
            self.interrupt(leg.sleeper)
        return leg

    def _leg_params(self, leg: Leg, status: str) -> dict[str, str]:
        return {"AccountSid": self.account_sid, "CallSid": leg.sid, "From": leg.from_,
                "To": leg.to, "Direction": "outbound-api", "ApiVersion": "2010-04-01",
                "CallStatus": status}

    def _leg_status(self, leg: Leg, status: str, **extra: str) -> None:
        if leg.status_callback:
            self.request(leg.status_callback, {**self._leg_params(leg, status), **extra})

    def _play_leg(self, leg: Leg) -> None:
        policy = self.operators.get(leg.to, self.default_operator)
        started = self.now()
        self._leg_status(leg, "ringing")
        if policy.fails or policy.busy:
            self.echo(f"☎ 坐席设备 {leg.to} {'占线' if policy.busy else '无法接通'}")
            self._leg_status(leg, "busy" if policy.busy else "failed", CallDuration="0")
            return
        answer_after = policy.answer_after
        if answer_after is None or answer_after >= leg.timeout:
            if not self.sleep(float(leg.timeout), interruptible=True) or not leg.cancelled:
                self.echo(f"☎ 坐席设备 {leg.to} 未接听")
                self._leg_status(leg, "no-answer", CallDuration="0")
                return
            self._leg_status(leg, "canceled", CallDuration="0")
            return
        if self.sleep(answer_after, interruptible=True) and leg.cancelled:
            self._leg_status(leg, "canceled", CallDuration="0")
            return
        self.echo(f"☎ 坐席 {leg.to} 接听")
        self._leg_status(leg, "in-progress")
        body = self.request(leg.url, self._leg_params(leg, "in-progress"))
        self._leg_twiml(leg, body, policy)
        duration = str(max(1, round((self.now() - started).total_seconds())))
        self._leg_status(leg, "completed", CallDuration=duration)

    def _leg_twiml(self, leg: Leg, body: str, policy: OperatorPolicy) -> None:
        for _ in range(10):
            root = ET.fromstring(body)
            follow: str | None = None
            for verb in root:
                if leg.cancelled:
                    return
                if verb.tag == "Say":
                    self.sleep(self._say_seconds(verb), interruptible=True)
                elif verb.tag == "Hangup":
                    return
                elif verb.tag == "Redirect":
                    follow = self.request((verb.text or "").strip(),
                                          self._leg_params(leg, "in-progress"))
                    break
                elif verb.tag == "Dial":
                    follow = self._leg_dial(leg, verb, policy)
                    break
            if follow is None:
                return
            body = follow

    def _leg_dial(self, leg: Leg, dial: ET.Element, policy: OperatorPolicy) -> str | None:
        action = dial.get("action", "")
        timeout = float(dial.get("timeout", "30"))
        noun = next(iter(dial), None)
        live = self._leg_params(leg, "in-progress")
        if noun is not None and noun.tag == "Queue":
            status, duration, other = self._dequeue(leg, noun, timeout, policy)
        elif noun is not None and noun.tag in ("Number", "Sip"):
            status, duration, other = self._dial_out(leg, (noun.text or "").strip(), timeout)
        else:
            status, duration, other = "failed", 0, ""
        if not action:
            return None
        params = {**live, "DialCallStatus": status, "DialCallDuration": str(duration)}
        if other:
            params["DialCallSid"] = other
        return self.request(action, params)

    def _dequeue(self, leg: Leg, noun: ET.Element, timeout: float, policy: OperatorPolicy
                 ) -> tuple[str, int, str]:
        name = (noun.text or "").strip()
        deadline = self.now() + timedelta(seconds=timeout)
        queue = self.queues.setdefault(name, deque())
        while not queue:
            if self.now() >= deadline or leg.cancelled:
                return "no-answer", 0, ""
            self.sleep(1.0, interruptible=True)
        waiter = queue.popleft()
        waiter.bridged_to = leg.sid
        self.note("bridged", waiter.call_sid, leg.to)
        url = noun.get("url")
        if url:
            self.request(url, {**waiter.params, "QueueSid": "QU" + uuid.uuid5(
                uuid.NAMESPACE_URL, name).hex, "DequeingCallSid": leg.sid,
                "QueueTime": str(round((self.now() - waiter.joined).total_seconds()))})
        began = self.now()
        waiter.talk_until = began + timedelta(seconds=policy.talk())
        self.interrupt(waiter.sleeper)  # the caller's wait music stops: connected
        self.echo(f"☎ 已接通 {waiter.params.get('From', '')} ↔ {leg.to}")
        while not waiter.over and self.now() < waiter.talk_until and not leg.cancelled:
            self.sleep((waiter.talk_until - self.now()).total_seconds(), interruptible=True)
        waiter.over = True
        self.note("talk_ended", waiter.call_sid, leg.to)
        self.interrupt(waiter.sleeper)
        return "completed", max(1, round((self.now() - began).total_seconds())), waiter.call_sid

    def _dial_out(self, leg: Leg, number: str, timeout: float) -> tuple[str, int, str]:
        callee = self.callees.get(number, self.default_callee)
        if not callee.answers or callee.answer_after >= timeout:
            self.sleep(timeout, interruptible=True)
            self.note("callback_unanswered", "", number)
            self.echo(f"☎ 回拨 {number} 无人接听")
            return "no-answer", 0, ""
        self.sleep(callee.answer_after, interruptible=True)
        self.note("callback_answered", "", number)
        self.echo(f"☎ 回拨 {number} 已接通")
        self.sleep(callee.talk_seconds, interruptible=True)
        return "completed", round(callee.talk_seconds), "CA" + uuid.uuid4().hex


class SwitchboardHttp(HttpClient):
    """The ``twilio`` library's HTTP client, answered by the switchboard (no network)."""

    def __init__(self, board: Switchboard) -> None:
        super().__init__(logger=logging.getLogger("switchboard"), is_async=False)
        self.board = board

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        form = {key: value for key, value in (data or {}).items()}
        self.board.rest_requests.append((method, url, form))
        path = urlsplit(url).path
        if method == "POST" and path.endswith("/Calls.json"):
            created = self.board.create_call(form)
            return Response(201, json.dumps({"sid": created.sid, "status": "queued",
                                             "to": created.to,
                                             "account_sid": self.board.account_sid}))
        if method == "POST" and "/Calls/" in path:
            sid = path.rsplit("/", 1)[-1].removesuffix(".json")
            leg = self.board.update_call(sid, form)
            if leg is None:
                return Response(404, json.dumps({"status": 404, "message": "no such call"}))
            return Response(200, json.dumps({"sid": sid, "status": form.get("Status"),
                                             "account_sid": self.board.account_sid}))
        query = parse_qs(urlsplit(url).query)
        return Response(404, json.dumps({"status": 404, "message": f"not simulated: {path}",
                                         "query": query}))
