"""The survey's hooks (followup/survey_hooks.py) send the call by role, not by node id."""

from __future__ import annotations

from pathlib import Path

from tests.flow_copies import a_call, app_engine, renamed_flow


def test_a_rejected_rating_returns_to_the_renamed_rating_menu(tmp_path: Path):
    engine = app_engine(renamed_flow(tmp_path, "survey", rating_menu="score_menu"))
    result = engine.advance("survey", "rating_chosen", "enter", a_call(rating="7"))
    assert result.last_node == "score_menu"
