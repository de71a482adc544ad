"""``flask flows`` commands."""

from __future__ import annotations


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_flows_check_passes_for_shipped_flows(app):
    result = run(app, "flows", "check")
    assert result.exit_code == 0
    assert "hotline: ok" in result.output


def test_flows_check_reports_a_broken_file(app, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("start: a\nnodes:\n  a: {type: say, prompt: hi, next: b}\n")
    result = run(app, "flows", "check", str(broken))
    assert result.exit_code == 1
    assert "unknown node 'b'" in result.output


def test_flows_show_prints_mermaid(app):
    result = run(app, "flows", "show", "hotline")
    assert result.output.startswith("flowchart TD\n")


def test_flows_check_fails_on_a_copy_without_a_required_role(app, tmp_path):
    from tests.flow_copies import copy_flow, without_role

    path = copy_flow(tmp_path, "hotline", edit=lambda text: without_role(text, "main_menu"))
    result = run(app, "flows", "check", str(path))
    assert result.exit_code == 1
    assert f"error: hotline: no node has role 'main_menu' ({path})" in result.output
