"""The queue's settings and collaborators, and what a change does once committed.

Domain functions take a :class:`QueueRuntime` and a session, change rows, and collect in a
:class:`Changes` what must happen after the commit: live events to publish, operators'
devices to ring (offers to place), ringing calls to cancel, wrap-ups to end on time. The
caller (a thin webhook, a console handler, a job) commits and hands the changes to
:meth:`QueueRuntime.after_commit`, so nothing is published or dialled for a change that
was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from callqueue.live import WALLBOARD_CHANNEL, LiveBus, LiveEvent, call_channel, operator_channel
from core.config import hotline_zone
from core.settings import setting
from workdays.office_hours import OfficeHours

HANDLING_CACHE_SECONDS = 15


@dataclass(frozen=True)
class QueueSettings:
    """The queue's settings (README, "Configuration"; docs/queue.md)."""

    base_url: str
    caller_id: str | None = None
    # Longest a caller waits before being offered a callback or voicemail.
    max_wait_seconds: int = 180
    # An operator's device rings this long before the caller goes to the next operator.
    ring_seconds: int = 15
    # 话后整理 after each call before the operator is 空闲 again.
    wrapup_seconds: int = 30
    # A callback request must be done within this many minutes (of office time).
    callback_deadline_minutes: int = 60
    # A callback whose caller did not answer is tried again after this many minutes …
    callback_retry_minutes: int = 10
    # … at most this many times in all.
    callback_max_attempts: int = 3
    # An operator whose console has not been seen for this long is signed out (when idle).
    heartbeat_seconds: int = 90
    # "" dials E.164 numbers directly; a template reaches mainland numbers through a trunk.
    dial_template: str = ""
    # Seconds the REST request ringing a device may take.
    rest_timeout: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QueueSettings:
        return cls(
            base_url=str(config["PUBLIC_BASE_URL"]).rstrip("/"),
            caller_id=config.get("TWILIO_CALLER_ID") or None,
            max_wait_seconds=int(setting(config, "QUEUE_MAX_WAIT_SECONDS")),
            ring_seconds=int(setting(config, "QUEUE_RING_SECONDS")),
            wrapup_seconds=int(setting(config, "QUEUE_WRAPUP_SECONDS")),
            callback_deadline_minutes=int(setting(config, "QUEUE_CALLBACK_DEADLINE_MINUTES")),
            callback_retry_minutes=int(setting(config, "QUEUE_CALLBACK_RETRY_MINUTES")),
            callback_max_attempts=int(setting(config, "QUEUE_CALLBACK_MAX_ATTEMPTS")),
            heartbeat_seconds=int(setting(config, "QUEUE_HEARTBEAT_SECONDS")),
            dial_template=str(config.get("FOLLOWUP_DIAL_TEMPLATE") or ""),
        )

    def url(self, path: str) -> str:
        return f"{self.base_url}/ivr/queue/{path}"


@dataclass
class Changes:
    """What to do once the transaction that made these changes has committed."""

    events: list[LiveEvent] = field(default_factory=list)
    place: list[int] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    wrapups: list[tuple[int, datetime]] = field(default_factory=list)

    def to_operator(self, agent_id: int, payload: dict[str, Any]) -> None:
        self.events.append(LiveEvent(operator_channel(agent_id), payload))

    def to_call(self, call_sid: str, payload: dict[str, Any]) -> None:
        self.events.append(LiveEvent(call_channel(call_sid), payload))

    def queue_changed(self) -> None:
        """The wallboard (on every node) should look again; one message per change set."""
        if not any(e.channel == WALLBOARD_CHANNEL for e in self.events):
            self.events.append(LiveEvent(WALLBOARD_CHANNEL, {"type": "changed"}))

    def merge(self, other: Changes) -> None:
        self.events.extend(other.events)
        self.place.extend(other.place)
        self.cancel.extend(other.cancel)
        self.wrapups.extend(other.wrapups)

    def __bool__(self) -> bool:
        return bool(self.events or self.place or self.cancel or self.wrapups)


class Placer(Protocol):
    """Rings operators' devices for offers, and cancels ringing calls (Twilio's REST API)."""

    def place(self, offer_ids: list[int]) -> None: ...

    def cancel(self, call_sids: list[str]) -> None: ...


class WrapUpTimer(Protocol):
    def end_at(self, agent_id: int, at: datetime) -> None: ...


@dataclass
class QueueRuntime:
    settings: QueueSettings
    clock: Callable[[], datetime]
    bus: LiveBus
    tz: ZoneInfo
    # Office hours on working days with the calendar in force (None: always open).
    office_hours: Callable[[], OfficeHours | None] = lambda: None
    # Set by the app factory (they need the runtime themselves).
    placer: Placer | None = None
    wrapup_timer: WrapUpTimer | None = None
    # The app's config (the REST client is made from it, tests inject its HTTP client).
    config: Mapping[str, Any] = field(default_factory=dict)
    # Recent handling times per area, per 15 s of the clock (every waitUrl request of those
    # 15 s uses the same: the estimate is rounded to minutes anyway).
    _handling: dict[tuple[str, int], float | None] = field(default_factory=dict, repr=False)

    def handling_time(self, area: str, now: datetime,
                      read: Callable[[], float | None]) -> float | None:
        key = (area, int(now.timestamp() // HANDLING_CACHE_SECONDS))
        if key not in self._handling:
            if len(self._handling) > 64:
                self._handling.clear()
            self._handling[key] = read()
        return self._handling[key]

    def now(self) -> datetime:
        return self.clock()

    def after_commit(self, changes: Changes, placer: Placer | None = None) -> None:
        """Publish, ring, cancel and schedule what the committed change asked for
        (``placer``: the one placing now, to keep follow-up offers in its loop)."""
        self.bus.publish_all(changes.events)
        placer = placer or self.placer
        if placer is not None:
            if changes.cancel:
                placer.cancel(list(changes.cancel))
            if changes.place:
                placer.place(list(changes.place))
        if self.wrapup_timer is not None:
            for agent_id, at in changes.wrapups:
                self.wrapup_timer.end_at(agent_id, at)

    def commit(self, session: Session, changes: Changes) -> None:
        session.commit()
        self.after_commit(changes)

    def callback_deadline(self, requested_at: datetime) -> datetime:
        """A callback is due within ``callback_deadline_minutes`` of office time from its
        request (docs/queue.md, "Callbacks")."""
        minutes = timedelta(minutes=self.settings.callback_deadline_minutes)
        hours = self.office_hours()
        return requested_at + minutes if hours is None else add_office_time(
            hours, requested_at, minutes)


def add_office_time(hours: OfficeHours, start: datetime, span: timedelta) -> datetime:
    """``start`` plus ``span`` counted only while the office is open."""
    at = hours.next_opening(start)
    left = span
    for _ in range(800):  # two windows a day, more than a year: a broken calendar stops here
        local = at.astimezone(hours.tz)
        end = next(datetime.combine(local.date(), close, tzinfo=hours.tz)
                   for open_, close in hours.windows if open_ <= local.time() < close)
        if left <= end - at:
            return at + left
        left -= end - at
        at = hours.next_opening(end)
    raise RuntimeError("no office hours to count a callback deadline in")


def runtime_from_config(config: Mapping[str, Any], *, clock: Callable[[], datetime],
                        bus: LiveBus, office_hours: Callable[[], OfficeHours | None]
                        ) -> QueueRuntime:
    return QueueRuntime(settings=QueueSettings.from_config(config), clock=clock, bus=bus,
                        tz=hotline_zone(config), office_hours=office_hours, config=config)
