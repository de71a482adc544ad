"""Named conditions and hooks that flows refer to; other packages register theirs.

Flows stay data: a node says ``condition: office_hours`` or ``hook: case_status`` and
the engine looks the name up here. The cases package registers its hooks when the app
is created; a hook that is not registered is handled gracefully by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CallContext:
    """What the engine knows about the call being served. Plain values only."""

    call_sid: str
    from_number: str
    now: datetime
    state: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)


@dataclass
class HookResult:
    """What a hook wants said and where the call goes next (``None`` → the node's ``next``)."""

    prompts: list[str] = field(default_factory=list)
    next: str | None = None
    updates: dict[str, str] = field(default_factory=dict)
    # For input nodes: the input was not acceptable, count it as an invalid try.
    invalid: bool = False


Condition = Callable[[CallContext], bool]
Hook = Callable[[CallContext, str | None], HookResult]


class HookRegistry:
    """Conditions and hooks by name."""

    def __init__(self) -> None:
        self.conditions: dict[str, Condition] = {}
        self.hooks: dict[str, Hook] = {}
        # Hooks flows may name before the package that provides them is installed.
        self.optional_hooks: set[str] = {"case_status", "caller_open_cases", "voicemail_saved",
                                         "survey_identify", "survey_rating_chosen",
                                         "survey_rating_confirmed", "survey_comment_saved"}

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

    def known_hook_names(self) -> set[str]:
        return set(self.hooks) | self.optional_hooks


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
