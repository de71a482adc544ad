"""Copies of the shipped flow files with nodes renamed or roles removed, for role tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from call_flows.engine import FlowEngine, VoiceSettings
from call_flows.flow import FLOWS_DIR, Flow, load_flow_file
from call_flows.hooks import CallContext


def renamed_text(text: str, renames: dict[str, str]) -> str:
    """Flow text with each node ``old`` called ``new`` wherever its id is written; a
    ``role:`` line keeps its value (the point of a role is that it survives a rename), and so
    does a key named like its value (the enqueue outcome ``voicemail: voicemail``)."""
    for old, new in renames.items():
        text = re.sub(rf"(?<!role: )\b{re.escape(old)}\b(?!:\s*{re.escape(old)}\b)", new, text)
    return text


def without_role(text: str, role: str) -> str:
    """Flow text with the ``role: <role>`` line removed."""
    kept, count = re.subn(rf"\n *role: {re.escape(role)}\n", "\n", text)
    assert count == 1, f"role {role!r} is not on exactly one node of the file"
    return kept


def copy_flow(tmp_path: Path, name: str, edit: Callable[[str], str] | None = None,
              **renames: str) -> Path:
    """``<tmp_path>/<name>.yaml``: the shipped flow ``name`` with ``renames`` applied (the file
    keeps the flow's name, which is what the required roles are keyed by)."""
    text = renamed_text((FLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8"), renames)
    if edit is not None:
        text = edit(text)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def renamed_flow(tmp_path: Path, name: str, **renames: str) -> Flow:
    """The shipped flow ``name`` loaded from a copy with ``renames`` applied."""
    return load_flow_file(copy_flow(tmp_path, name, **renames))


def app_engine(*flows: Flow) -> FlowEngine:
    """An engine with the app's hooks serving ``flows`` (no database: for hook paths that
    decide where the call goes before they read anything)."""
    from app import build_hooks

    return FlowEngine({flow.name: flow for flow in flows}, build_hooks(),
                      VoiceSettings(base_url="https://hotline.example.test"))


def a_call(**state: str) -> CallContext:
    return CallContext(call_sid="CA" + "0" * 32, from_number="+8613800138000",
                       now=datetime(2026, 11, 24, 2, tzinfo=UTC), state=dict(state))
