"""Flow validation: every kind of broken flow gets a clear message."""

from __future__ import annotations

import pytest

from call_flows.flow import FlowError, load_flow_text, load_flows
from call_flows.hooks import default_registry
from call_flows.mermaid import to_mermaid
from call_flows.validator import validate_flow

MENU_TAIL = "no_input: {limit: 1, then: bye}\n    invalid: {limit: 3, then: bye}"


def problems(text: str) -> list[str]:
    flow = load_flow_text(text, name="t")
    return [str(p) for p in validate_flow(flow, default_registry()) if p.severity == "error"]


def test_shipped_flows_are_valid():
    for flow in load_flows().values():
        assert validate_flow(flow, default_registry()) == []


def test_unknown_target_is_reported():
    found = problems("""
start: a
nodes:
  a: {type: say, prompt: hi, next: nowhere}
  bye: {type: hangup}
""")
    assert any("unknown node 'nowhere'" in p for p in found)


def test_unreachable_node_is_reported():
    found = problems("""
start: a
nodes:
  a: {type: hangup, prompt: bye}
  orphan: {type: hangup, prompt: never}
""")
    assert found == ["error: t.orphan: unreachable from the start node"]


def test_duplicate_option_keys_are_refused_at_load():
    with pytest.raises(FlowError, match="duplicate key '1'"):
        load_flow_text("""
start: m
nodes:
  m:
    type: menu
    prompt: x
    options: {1: bye, "1": bye}
  bye: {type: hangup}
""", name="t")


def test_duplicate_node_ids_are_refused_at_load():
    with pytest.raises(FlowError, match="duplicate key 'a'"):
        load_flow_text("start: a\nnodes:\n  a: {type: hangup}\n  a: {type: hangup}\n", name="t")


def test_dead_end_is_reported():
    found = problems("""
start: a
nodes:
  a: {type: say, prompt: hi}
""")
    assert any("dead end" in p for p in found)


def test_missing_prompt_is_reported():
    found = problems(f"""
start: m
nodes:
  m:
    type: menu
    options: {{"1": bye}}
    {MENU_TAIL}
  bye: {{type: hangup}}
""")
    assert found == ["error: t.m: missing prompt (or audio)"]


def test_loop_without_exit_is_reported():
    found = problems("""
start: a
nodes:
  a: {type: say, prompt: one, next: b}
  b: {type: say, prompt: two, next: a}
  bye: {type: hangup}
""")
    assert "error: t.a: loop without an exit: no path to a hangup" in found
    assert "error: t.b: loop without an exit: no path to a hangup" in found


def test_unknown_condition_is_reported():
    found = problems("""
start: b
nodes:
  b: {type: branch, condition: full_moon, if_true: bye, if_false: bye}
  bye: {type: hangup}
""")
    assert found == ["error: t.b: unknown condition 'full_moon'"]


def test_menu_without_timeout_handling_is_reported():
    found = problems("""
start: m
nodes:
  m: {type: menu, prompt: x, options: {"1": bye}}
  bye: {type: hangup}
""")
    assert any("no_input" in p for p in found)


def test_non_keypad_option_key_is_reported():
    found = problems(f"""
start: m
nodes:
  m:
    type: menu
    prompt: x
    options: {{"12": bye}}
    {MENU_TAIL}
  bye: {{type: hangup}}
""")
    assert any("not a single keypad key" in p for p in found)


def test_unknown_field_is_refused_at_load():
    with pytest.raises(FlowError, match="unknown field"):
        load_flow_text("start: a\nnodes:\n  a: {type: hangup, promt: hi}\n", name="t")


def test_mermaid_has_a_labelled_edge_per_key():
    text = to_mermaid(load_flows()["hotline"])
    assert text.startswith("flowchart TD")
    assert 'main_menu -- "1" --> factor_menu' in text
    assert 'factor_menu -- "5 融资" --> service_desk' in text
