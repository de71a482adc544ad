"""Flow definitions: the data model and a strict YAML loader."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from call_flows.roles import Role, parse_role

FLOWS_DIR = Path(__file__).parent / "flows"
DTMF_KEYS = frozenset("0123456789*#")
NODE_TYPES = frozenset({"say", "menu", "input", "branch", "hook", "dial", "enqueue", "record",
                        "hangup"})
# How a caller can leave an ``enqueue`` node's queue other than talking to an operator: the
# node names the node each leads to (``outcomes``), all of them required.
QUEUE_OUTCOMES: dict[str, str] = {
    "unavailable": "无空闲坐席",  # nobody on duty for the area: not queued at all
    "timeout": "等待超时",  # waited the longest allowed
    "callback": "预约回电",  # pressed 1 while waiting
    "voicemail": "留言",  # pressed 2 while waiting
}
# Option targets with a meaning of their own rather than a node id.
REPEAT = "repeat"


class FlowError(ValueError):
    """A flow file that cannot be loaded or is invalid."""


@dataclass(frozen=True)
class Option:
    key: str
    target: str
    set: dict[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Fallthrough:
    """What happens after too many timeouts (``no_input``) or bad keys (``invalid``)."""

    limit: int
    target: str | None
    prompt: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    prompt: str | None = None
    audio: str | None = None
    next: str | None = None
    options: dict[str, Option] = field(default_factory=dict)
    timeout: int = 5
    no_input: Fallthrough | None = None
    invalid: Fallthrough | None = None
    condition: str | None = None
    if_true: str | None = None
    if_false: str | None = None
    hook: str | None = None
    on_no_answer: str | None = None
    on_empty: str | None = None
    max_length: int | None = None
    max_digits: int = 20
    finish_on_key: str = "#"
    label: str = ""
    # enqueue: outcome (QUEUE_OUTCOMES) → node id.
    outcomes: dict[str, str] = field(default_factory=dict)
    # What code relies on this node for (call_flows/roles.py), if anything.
    role: Role | None = None

    def targets(self) -> list[tuple[str, str]]:
        """(label, node id) for every edge leaving this node, for validation and diagrams."""
        edges: list[tuple[str, str]] = []
        for option in self.options.values():
            if option.target != REPEAT:
                edges.append((option.key, option.target))
        for label, target in (
            ("next", self.next),
            ("是", self.if_true),
            ("否", self.if_false),
            ("无人接听", self.on_no_answer),
            ("未留言", self.on_empty),
        ):
            if target:
                edges.append((label, target))
        for outcome, target in self.outcomes.items():
            edges.append((QUEUE_OUTCOMES.get(outcome, outcome), target))
        if self.no_input and self.no_input.target:
            edges.append(("无按键", self.no_input.target))
        if self.invalid and self.invalid.target:
            edges.append(("输入错误", self.invalid.target))
        return edges


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    nodes: dict[str, Node]
    title: str = ""
    source: str = ""

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise FlowError(f"flow {self.name!r} has no node {node_id!r}") from None

    def nodes_with(self, role: Role) -> list[Node]:
        """Every node that has ``role`` (exactly one in a valid flow that requires it)."""
        return [node for node in self.nodes.values() if node.role is role]

    def node_for(self, role: Role) -> Node:
        """The node that has ``role``: how code finds a node without writing its id."""
        found = self.nodes_with(role)
        if len(found) != 1:
            raise FlowError(f"flow {self.name!r} ({self.source or 'no file'}) has "
                            f"{len(found)} nodes with role {role.value!r}, not one")
        return found[0]

    def nodes_before(self, roles: set[Role]) -> set[str]:
        """Ids of the nodes a call can be at before it first reaches a node of ``roles``:
        reachable from the start without passing through one (those nodes excluded)."""
        stops = {node.id for node in self.nodes.values() if node.role in roles}
        seen: set[str] = set()
        queue = [self.start] if self.start in self.nodes and self.start not in stops else []
        seen.update(queue)
        while queue:
            for _, target in self.nodes[queue.pop()].targets():
                if target in self.nodes and target not in seen and target not in stops:
                    seen.add(target)
                    queue.append(target)
        return seen


# libyaml's parser when PyYAML has it (ten times faster: every app start loads the flows).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict[Any, Any] = {}
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        normalized = str(key)
        if normalized in seen:
            raise FlowError(
                f"duplicate key {normalized!r} at line {key_node.start_mark.line + 1}"
                f" (first at line {seen[normalized]})"
            )
        seen[normalized] = key_node.start_mark.line + 1
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fallthrough(raw: Any, where: str) -> Fallthrough | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: expected a mapping with 'limit' and 'then'")
    return Fallthrough(
        limit=int(raw.get("limit", 1)), target=raw.get("then"), prompt=raw.get("prompt")
    )


def _option(key: str, raw: Any, where: str) -> Option:
    if isinstance(raw, str):
        return Option(key=key, target=raw)
    if isinstance(raw, dict) and "goto" in raw:
        values = {str(k): str(v) for k, v in (raw.get("set") or {}).items()}
        return Option(key=key, target=str(raw["goto"]), set=values, label=raw.get("label", ""))
    raise FlowError(f"{where}: option {key!r} needs a node id or a mapping with 'goto'")


_NODE_FIELDS = {
    "type", "prompt", "audio", "next", "options", "timeout", "no_input", "invalid", "condition",
    "if_true", "if_false", "hook", "on_no_answer", "on_empty", "max_length", "max_digits",
    "finish_on_key", "label", "outcomes", "role",
}


def parse_flow(data: Any, *, name: str, source: str = "") -> Flow:
    """Turn loaded YAML data into a :class:`Flow`; structural errors raise :class:`FlowError`."""
    if not isinstance(data, dict):
        raise FlowError(f"{source or name}: a flow must be a mapping")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(f"{source or name}: 'nodes' must be a non-empty mapping")
    nodes: dict[str, Node] = {}
    for node_id, raw in raw_nodes.items():
        where = f"{name}.{node_id}"
        if not isinstance(raw, dict):
            raise FlowError(f"{where}: a node must be a mapping")
        unknown = set(raw) - _NODE_FIELDS
        if unknown:
            raise FlowError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        options = {
            str(key): _option(str(key), value, where)
            for key, value in (raw.get("options") or {}).items()
        }
        outcomes = raw.get("outcomes") or {}
        if not isinstance(outcomes, dict):
            raise FlowError(f"{where}: 'outcomes' must map an outcome to a node id")
        try:
            role = parse_role(raw["role"]) if "role" in raw else None
        except ValueError as exc:
            raise FlowError(f"{source or name}: {where}: {exc}") from None
        nodes[str(node_id)] = Node(
            id=str(node_id),
            type=str(raw.get("type", "")),
            prompt=raw.get("prompt"),
            audio=raw.get("audio"),
            next=raw.get("next"),
            options=options,
            timeout=int(raw.get("timeout", 5)),
            no_input=_fallthrough(raw.get("no_input"), where + ".no_input"),
            invalid=_fallthrough(raw.get("invalid"), where + ".invalid"),
            condition=raw.get("condition"),
            if_true=raw.get("if_true"),
            if_false=raw.get("if_false"),
            hook=raw.get("hook"),
            on_no_answer=raw.get("on_no_answer"),
            on_empty=raw.get("on_empty"),
            max_length=raw.get("max_length"),
            max_digits=int(raw.get("max_digits", 20)),
            finish_on_key=str(raw.get("finish_on_key", "#")),
            label=str(raw.get("label", "")),
            outcomes={str(k): str(v) for k, v in outcomes.items()},
            role=role,
        )
    return Flow(
        name=name,
        start=str(data.get("start", "")),
        nodes=nodes,
        title=str(data.get("title", name)),
        source=source,
    )


@functools.lru_cache(maxsize=64)
def load_flow_text(text: str, *, name: str, source: str = "") -> Flow:
    """Parse a flow; the same text is parsed once per process (every app start, every test's
    app, loads the flows; a flow is immutable, and an edited file is new text)."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise FlowError(f"{source or name}: invalid YAML: {exc}") from exc
    return parse_flow(data, name=name, source=source)


def load_flow_file(path: Path) -> Flow:
    return load_flow_text(path.read_text(encoding="utf-8"), name=path.stem, source=str(path))


def load_flows(directory: Path = FLOWS_DIR) -> dict[str, Flow]:
    """Every ``*.yaml`` flow in ``directory``, keyed by file stem."""
    return {path.stem: load_flow_file(path) for path in sorted(directory.glob("*.yaml"))}
