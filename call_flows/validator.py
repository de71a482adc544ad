"""Static checks of a flow: every problem found, with a clear message."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from call_flows.flow import DTMF_KEYS, NODE_TYPES, QUEUE_OUTCOMES, REPEAT, Flow, Node
from call_flows.hooks import HookRegistry
from call_flows.roles import REQUIRED_ROLES, Role

TERMINAL_TYPES = frozenset({"hangup"})
NEEDS_PROMPT = frozenset({"say", "menu", "input", "record", "dial", "enqueue"})


@dataclass(frozen=True)
class Problem:
    flow: str
    node: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.flow}.{self.node}" if self.node else self.flow
        return f"{self.severity}: {where}: {self.message}"


def _node_problems(flow: Flow, node: Node, registry: HookRegistry) -> list[Problem]:
    problems: list[Problem] = []

    def add(message: str, severity: str = "error") -> None:
        problems.append(Problem(flow.name, node.id, message, severity))

    if node.type not in NODE_TYPES:
        add(f"unknown type {node.type!r} (expected one of {', '.join(sorted(NODE_TYPES))})")
        return problems
    if node.type in NEEDS_PROMPT and not (node.prompt or node.audio):
        add("missing prompt (or audio)")
    for label, target in node.targets():
        if target not in flow.nodes:
            add(f"{label} → unknown node {target!r}")
    for key, option in node.options.items():
        if len(key) != 1 or key not in DTMF_KEYS:
            add(f"option key {key!r} is not a single keypad key")
        if option.target == REPEAT and node.type != "menu":
            add(f"option {key!r}: 'repeat' only makes sense in a menu")
    if node.type == "menu":
        if not node.options:
            add("a menu needs options")
        if node.no_input is None or node.invalid is None:
            add("a menu needs 'no_input' and 'invalid' handling so callers are never stuck")
    if node.type in {"say", "hook", "record", "dial", "enqueue"} and not node.next:
        add("dead end: no 'next' node", "error")
    if node.type == "input":
        if not node.hook:
            add("an input node needs a 'hook' to handle the digits")
        if node.no_input is None:
            add("an input node needs 'no_input' handling")
    if node.type == "branch":
        if not node.condition:
            add("a branch needs a 'condition'")
        elif node.condition not in registry.conditions:
            add(f"unknown condition {node.condition!r}")
        if not (node.if_true and node.if_false):
            add("a branch needs both 'if_true' and 'if_false'")
    if node.hook and node.hook not in registry.known_hook_names():
        add(f"unknown hook {node.hook!r}")
    if node.type == "dial" and not node.on_no_answer:
        add("a dial needs 'on_no_answer' (e.g. voicemail)")
    if node.outcomes and node.type != "enqueue":
        add("only an enqueue node has 'outcomes'")
    if node.type == "enqueue":
        if not node.hook:
            add("an enqueue needs a 'hook' that puts the caller in the queue")
        if not node.on_no_answer:
            add("an enqueue needs 'on_no_answer' for a queue that fails (e.g. voicemail)")
        missing = [o for o in QUEUE_OUTCOMES if o not in node.outcomes]
        if missing:
            add(f"an enqueue needs 'outcomes' for {', '.join(missing)}")
        unknown = sorted(set(node.outcomes) - set(QUEUE_OUTCOMES))
        if unknown:
            add(f"unknown outcome(s) {', '.join(unknown)} (expected "
                f"{', '.join(QUEUE_OUTCOMES)})")
    if node.type == "record":
        if not node.max_length:
            add("a record needs 'max_length'")
        if not node.on_empty:
            add("a record needs 'on_empty' for callers who say nothing")
    return problems


def _reachable(flow: Flow) -> set[str]:
    seen = {flow.start}
    queue = deque([flow.start])
    while queue:
        node = flow.nodes.get(queue.popleft())
        if node is None:
            continue
        for _, target in node.targets():
            if target in flow.nodes and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _can_exit(flow: Flow) -> set[str]:
    """Nodes from which a terminal node can be reached (reverse search from the exits)."""
    incoming: dict[str, set[str]] = {node_id: set() for node_id in flow.nodes}
    for node in flow.nodes.values():
        for _, target in node.targets():
            if target in incoming:
                incoming[target].add(node.id)
    exits = {n.id for n in flow.nodes.values() if n.type in TERMINAL_TYPES}
    seen = set(exits)
    queue = deque(exits)
    while queue:
        for source in incoming[queue.popleft()]:
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return seen


def _role_problems(flow: Flow) -> list[Problem]:
    """Each role code relies on (REQUIRED_ROLES, by flow name) on a node; no role on two."""
    problems: list[Problem] = []
    where = flow.source or f"flow {flow.name!r}"
    required = REQUIRED_ROLES.get(flow.name, {})
    for role in Role:
        holders = [node.id for node in flow.nodes_with(role)]
        if not holders and role in required:
            problems.append(Problem(flow.name, None, (
                f"no node has role {role.value!r} ({where}); code relies on it: "
                f"{required[role]}")))
        elif len(holders) > 1:
            problems.append(Problem(flow.name, None, (
                f"role {role.value!r} is on {len(holders)} nodes ({', '.join(holders)}) in "
                f"{where}; it must be on one")))
    return problems


def missing_flows(names: Iterable[str]) -> list[Problem]:
    """The flows code starts by name (``REQUIRED_ROLES``' keys) that are not among ``names``."""
    loaded = set(names)
    return [Problem(name, None, f"flow {name!r} is missing (call_flows/flows/{name}.yaml): "
                                "code starts calls in it")
            for name in REQUIRED_ROLES if name not in loaded]


def validate_flow(flow: Flow, registry: HookRegistry) -> list[Problem]:
    """All problems of ``flow``; an empty list means it is valid."""
    problems: list[Problem] = _role_problems(flow)
    if flow.start not in flow.nodes:
        problems.append(Problem(flow.name, None, f"start node {flow.start!r} does not exist"))
        return problems
    for node in flow.nodes.values():
        problems.extend(_node_problems(flow, node, registry))
    reachable = _reachable(flow)
    for node_id in flow.nodes:
        if node_id not in reachable:
            problems.append(Problem(flow.name, node_id, "unreachable from the start node"))
    exits = _can_exit(flow)
    if not any(n.type in TERMINAL_TYPES for n in flow.nodes.values()):
        problems.append(Problem(flow.name, None, "no 'hangup' node: calls could never end"))
    else:
        for node_id in sorted(reachable - exits):
            problems.append(
                Problem(flow.name, node_id, "loop without an exit: no path to a hangup")
            )
    return problems
