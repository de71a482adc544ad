"""Flows as Mermaid diagrams (README, ``flows show``, the admin console)."""

from __future__ import annotations

from call_flows.flow import Flow

_SHAPES = {
    "menu": ("{{", "}}"),
    "input": ("{{", "}}"),
    "branch": ("{", "}"),
    "hangup": ("([", "])"),
    "record": ("[(", ")]"),
    "enqueue": ("[[", "]]"),
}


def _escape(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def to_mermaid(flow: Flow) -> str:
    """A ``flowchart TD`` with one box per node and one labelled edge per key or outcome."""
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        left, right = _SHAPES.get(node.type, ("[", "]"))
        title = node.label or node.id
        lines.append(f'    {node.id}{left}"{_escape(title)}<br/><small>{node.type}</small>"{right}')
    for node in flow.nodes.values():
        for label, target in node.targets():
            option = node.options.get(label)
            text = f"{label} {option.label}".strip() if option and option.label else label
            if text == "next":
                lines.append(f"    {node.id} --> {target}")
            else:
                lines.append(f'    {node.id} -- "{_escape(text)}" --> {target}')
    return "\n".join(lines) + "\n"
