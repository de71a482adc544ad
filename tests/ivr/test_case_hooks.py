"""The look-up hooks of key 9 (ivr/case_hooks.py) send the call by role, not by node id."""

from __future__ import annotations

from pathlib import Path

from tests.flow_copies import a_call, app_engine, renamed_flow


def test_star_at_the_lookup_returns_to_the_main_menu_under_its_new_name(tmp_path: Path):
    engine = app_engine(renamed_flow(tmp_path, "hotline", main_menu="root_menu",
                                     status_lookup="case_lookup"))
    result = engine.advance("hotline", "case_lookup", "gather", a_call(), digits="*")
    assert result.last_node == "root_menu"
