"""Who acts on a case, and which kinds of actor may do what."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from cases.errors import NotAllowed, NotYourCase

ActorKind = Literal["operator", "department", "supervisor", "admin", "system", "api"]

KIND_LABELS: dict[str, str] = {
    "operator": "中心工作人员",
    "department": "承办单位联络员",
    "supervisor": "企服专班",
    "admin": "管理员",
    "system": "系统",
    "api": "接口",
}

# The centre's own staff: triage, routing, follow-up. Supervisors (企服专班 / 领导小组) and
# administrators can do everything operators can.
CENTRE: frozenset[str] = frozenset({"operator", "supervisor", "admin"})
SUPERVISORS: frozenset[str] = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Actor:
    """The person or program behind an action; written into every audit event."""

    kind: ActorKind
    name: str
    department_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KIND_LABELS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.kind == "department" and self.department_id is None:
            raise ValueError("a department actor needs department_id")

    @property
    def label(self) -> str:
        return f"{KIND_LABELS[self.kind]}：{self.name}"


SYSTEM = Actor("system", "系统")


def require_kind(actor: Actor, kinds: Collection[str], action: str) -> None:
    """Raise :class:`NotAllowed` unless ``actor`` is of one of ``kinds``."""
    if actor.kind not in kinds:
        raise NotAllowed(f"{KIND_LABELS[actor.kind]}无权执行“{action}”")


def require_department(actor: Actor, department_id: int, action: str) -> None:
    """Department actors act only for their own department; centre staff act on its behalf."""
    if actor.kind == "department":
        if actor.department_id != department_id:
            raise NotYourCase(f"该诉求未交办给您的单位，不能执行“{action}”")
        return
    require_kind(actor, CENTRE, action)
