"""Node roles: the nodes code relies on are named in the flow file and checked at load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from call_flows.flow import FlowError, load_flow_file, load_flow_text, load_flows
from call_flows.hooks import default_registry
from call_flows.roles import REQUIRED_ROLES, Role
from call_flows.validator import missing_flows, validate_flow
from tests.flow_copies import copy_flow, renamed_flow, without_role


def errors(path: Path) -> list[str]:
    flow = load_flow_file(path)
    return [str(p) for p in validate_flow(flow, default_registry()) if p.severity == "error"]


def test_every_required_role_is_on_one_node_of_the_shipped_flows() -> None:
    flows = load_flows()
    for name, roles in REQUIRED_ROLES.items():
        for role in roles:
            assert len(flows[name].nodes_with(role)) == 1, (name, role)


def test_node_for_follows_a_renamed_node(tmp_path: Path) -> None:
    flow = renamed_flow(tmp_path, "hotline", main_menu="root_menu")
    assert flow.node_for(Role.MAIN_MENU).id == "root_menu"


def test_a_flow_with_role_bearing_nodes_renamed_is_valid(tmp_path: Path) -> None:
    path = copy_flow(tmp_path, "hotline", main_menu="root_menu", policy_menu="policy_areas",
                     service_desk="desk", operator="queue_in", voicemail="leave_message",
                     status_lookup="case_lookup")
    assert errors(path) == []


def test_removing_a_role_fails_validation_naming_the_role_and_the_file(
        tmp_path: Path) -> None:
    path = copy_flow(tmp_path, "hotline", edit=lambda text: without_role(text, "phone_faq"))
    found = errors(path)
    assert len(found) == 1
    assert found[0].startswith(f"error: hotline: no node has role 'phone_faq' ({path});")
    assert "knowledge/phone.py" in found[0]  # what relies on it


def test_a_role_on_two_nodes_fails_validation(tmp_path: Path) -> None:
    menu = "  factor_menu:\n    type: menu\n"
    path = copy_flow(tmp_path, "hotline", edit=lambda text: text.replace(
        menu, menu + "    role: main_menu\n"))
    assert errors(path) == [
        f"error: hotline: role 'main_menu' is on 2 nodes (main_menu, factor_menu) in {path};"
        " it must be on one"]


def test_a_survey_without_its_end_role_fails_validation(tmp_path: Path) -> None:
    path = copy_flow(tmp_path, "survey", edit=lambda text: without_role(text, "survey_end"))
    assert [e.split(" (")[0] for e in errors(path)] == [
        "error: survey: no node has role 'survey_end'"]


def test_an_unknown_role_is_refused_at_load() -> None:
    with pytest.raises(FlowError, match=re.escape("t.a: unknown role 'main' (known: main_menu, ")):
        load_flow_text("start: a\nnodes:\n  a: {type: hangup, role: main}\n", name="t")


def test_roles_are_required_only_of_the_flow_they_are_declared_for() -> None:
    flow = load_flow_text("start: a\nnodes:\n  a: {type: hangup, prompt: bye}\n", name="t")
    assert validate_flow(flow, default_registry()) == []


def test_node_for_a_missing_role_raises() -> None:
    flow = load_flow_text("start: a\nnodes:\n  a: {type: hangup}\n", name="t")
    with pytest.raises(FlowError, match="0 nodes with role 'main_menu'"):
        flow.node_for(Role.MAIN_MENU)


def test_nodes_before_stop_at_the_nodes_of_the_roles() -> None:
    flow = load_flow_text("""
start: a
nodes:
  a: {type: say, prompt: hi, next: b}
  b: {type: say, prompt: hi, next: c, role: voicemail}
  c: {type: hangup}
""", name="t")
    assert flow.nodes_before({Role.VOICEMAIL}) == {"a"}


def test_the_app_does_not_start_with_a_required_role_missing(app, tmp_path: Path,
                                                             monkeypatch) -> None:
    import app as app_module

    path = copy_flow(tmp_path, "hotline", edit=lambda text: without_role(text, "main_menu"))
    monkeypatch.setattr(app_module, "load_flows", lambda: {"hotline": load_flow_file(path)})
    with pytest.raises(FlowError, match="no node has role 'main_menu'"):
        app_module.build_flow_engine(app, app_module.build_hooks())


def test_a_role_no_flow_requires_is_still_on_one_node_at_most() -> None:
    flow = load_flow_text("""
start: a
nodes:
  a: {type: say, prompt: hi, next: b, role: voicemail}
  b: {type: hangup, role: voicemail}
""", name="t")
    assert [str(p) for p in validate_flow(flow, default_registry())] == [
        "error: t: role 'voicemail' is on 2 nodes (a, b) in flow 't'; it must be on one"]


def test_the_flows_code_starts_by_name_are_required() -> None:
    assert [str(p) for p in missing_flows(["hotline"])] == [
        "error: survey: flow 'survey' is missing (call_flows/flows/survey.yaml): "
        "code starts calls in it"]
    assert missing_flows(load_flows()) == []


def test_the_app_does_not_start_without_a_flow_code_starts(app_config, monkeypatch) -> None:
    import app as composition

    shipped = load_flows()
    monkeypatch.setattr(composition, "load_flows",
                        lambda: {"survey": shipped["survey"], "hotline_v2": shipped["hotline"]})
    with pytest.raises(FlowError, match="flow 'hotline' is missing"):
        composition.create_app(app_config)
