"""The queue's hooks (callqueue/ivr_hooks.py) send the call by role, not by node id."""

from __future__ import annotations

from pathlib import Path

from tests.flow_copies import a_call, app_engine, renamed_flow


def test_a_callback_that_cannot_be_booked_goes_to_the_renamed_voicemail(tmp_path: Path):
    engine = app_engine(renamed_flow(tmp_path, "hotline", voicemail="leave_message"))
    result = engine.advance("hotline", "queue_offer", "gather", a_call(), digits="1")
    assert result.last_node == "leave_message"
