"""Named conditions and hooks that flows refer to; other packages register theirs.

Flows stay data: a node says ``condition: office_hours`` or ``hook: case_status`` and
the engine looks the name up here. The cases package registers its hooks when the app
is created; a hook that is not registered is handled gracefully by the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from call_flows.roles import Role
from workdays.calendar import WorkCalendar


class CalendarSource(Protocol):
    """Gives the working-day calendar in force (cached; the administrator may change it)."""

    def get(self) -> WorkCalendar: ...


@dataclass(frozen=True)
class HookServices(Mapping[str, Any]):
    """The app's collaborators conditions and hooks may use; one frozen object per app.

    It reads as a mapping too (``services.get("tz")``, ``{**services, "call_id": 7}``):
    each call adds its own values (``call_id``, ``defer_voicemail_filing``) to a copy.
    """

    office_open: Callable[[datetime], bool] | None = None
    calendars: CalendarSource | None = None
    tz: ZoneInfo | None = None
    # The call queue's runtime (``callqueue.runtime.QueueRuntime``), for its hooks.
    queue: Any = None

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def zone_of(services: Mapping[str, Any]) -> ZoneInfo:
    """The hotline's time zone the app gave its hooks (``HookServices.tz``); never a default."""
    tz = services.get("tz")
    if tz is None:
        raise LookupError("the app gives hooks the hotline's time zone (HookServices.tz)")
    return tz


@dataclass
class CallContext:
    """What the engine knows about the call being served. Plain values only."""

    call_sid: str
    from_number: str
    now: datetime
    state: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    # The app's HookServices plus this call's own values (``call_id``, …).
    services: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class HookResult:
    """What a hook wants said and where the call goes next: the node of a role of the flow
    (a role, never a node id: the flow file names its nodes), ``None`` → the node's ``next``."""

    prompts: list[str] = field(default_factory=list)
    next: Role | None = None
    updates: dict[str, str] = field(default_factory=dict)
    # For input nodes: the input was not acceptable, count it as an invalid try.
    invalid: bool = False
    # For enqueue nodes: the queue to wait in, or how the caller left it / was not queued
    # (``unavailable``, ``timeout``, ``callback``, ``voicemail``; ``answered``, ``gone``,
    # ``failed``).
    queue: str | None = None
    outcome: str | None = None


# Key 1 of the queue's offer, when the queue package is not installed.
CALLBACK_UNAVAILABLE = "抱歉，暂时无法预约回电，请您留言。"
# Key 9's status look-up, when the cases package is not installed.
CASE_STATUS_UNAVAILABLE = "抱歉，进度查询功能暂未开通。"

Condition = Callable[[CallContext], bool]
Hook = Callable[[CallContext, str | None], HookResult]


class HookRegistry:
    """Conditions and hooks by name."""

    def __init__(self) -> None:
        self.conditions: dict[str, Condition] = {}
        self.hooks: dict[str, Hook] = {}
        # Hooks flows may name before the package that provides them is installed, and
        # what the caller hears while it is missing (nothing, for most).
        self.optional_hooks: dict[str, HookResult] = {
            name: HookResult() for name in (
                "caller_open_cases", "caller_case_status", "voicemail_saved", "survey_identify",
                "survey_rating_chosen", "survey_rating_confirmed", "survey_comment_saved",
            )
        }
        # Without the queue nobody is on duty: offered a callback or voicemail at once.
        self.optional_hooks["queue_join"] = HookResult(outcome="unavailable")
        self.optional_hooks["queue_callback"] = HookResult(
            prompts=[CALLBACK_UNAVAILABLE], next=Role.VOICEMAIL)
        # Without the look-up there is nothing to verify: back to the main menu.
        for name in ("case_status", "case_status_verified"):
            self.optional_hooks[name] = HookResult(prompts=[CASE_STATUS_UNAVAILABLE],
                                                   next=Role.MAIN_MENU)

    def condition(self, name: str) -> Callable[[Condition], Condition]:
        def register(func: Condition) -> Condition:
            self.conditions[name] = func
            return func

        return register

    def hook(self, name: str) -> Callable[[Hook], Hook]:
        def register(func: Hook) -> Hook:
            self.hooks[name] = func
            return func

        return register

    def unavailable(self, name: str) -> HookResult:
        """What a node whose hook is not registered answers instead (a fresh copy)."""
        fallback = self.optional_hooks.get(name, HookResult())
        return HookResult(prompts=list(fallback.prompts), next=fallback.next,
                          updates=dict(fallback.updates), invalid=fallback.invalid,
                          queue=fallback.queue, outcome=fallback.outcome)

    def known_hook_names(self) -> set[str]:
        return set(self.hooks) | set(self.optional_hooks)


def default_registry() -> HookRegistry:
    """A registry with the built-in conditions."""
    registry = HookRegistry()

    @registry.condition("office_hours")
    def office_hours(ctx: CallContext) -> bool:
        is_open = ctx.services.get("office_open")
        return bool(is_open and is_open(ctx.now))

    @registry.condition("always")
    def always(ctx: CallContext) -> bool:
        return True

    return registry
