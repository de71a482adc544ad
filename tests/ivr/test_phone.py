"""Whole calls through the terminal phone, signed like Twilio, into the real app."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from ivr.models import Call, Recording


def the_call(sid: str) -> Call:
    return db.session.scalars(select(Call).where(Call.call_sid == sid)).one()


def test_after_hours_voicemail_leaves_call_events_and_recording(phone, clock, voicemail_wav):
    clock.set_local("2026-11-27 03:00")
    outcome = phone.call(keys=["1", "5"], voicemail=voicemail_wav)
    call = the_call(outcome.call_sid)
    assert call.path == ["greeting", "caller_check", "main_menu", "factor_menu", "service_desk",
                         "after_hours", "voicemail", "voicemail_done"]
    assert (call.category, call.subcategory, call.status) == ("factor", "finance", "completed")
    assert [(e.kind, e.input) for e in call.events if e.kind == "input"] == [
        ("input", "1"), ("input", "5")]
    recording = db.session.scalars(select(Recording)).one()
    assert recording.recording_sid == outcome.recording_sid
    assert (recording.call_id, recording.status, recording.duration) == (call.id, "completed", 2)


def test_voicemail_caller_hears_the_closing_prompt(phone, clock, voicemail_wav):
    clock.set_local("2026-11-27 03:00")
    outcome = phone.call(keys=["4"], voicemail=voicemail_wav)
    assert "留言已收到" in outcome.heard[-1]
    assert outcome.reason == "hung up by the hotline"


def test_office_hours_reach_the_operator(phone, clock, desk):
    clock.set_local("2026-10-10 10:00")  # a Saturday that is a working day (调休)
    desk.operator("duty")
    outcome = phone.call(keys=["2"])
    call = the_call(outcome.call_sid)
    assert call.reached_operator
    assert "operator" in call.path


def test_holiday_morning_goes_to_voicemail(phone, clock):
    clock.set_local("2026-10-02 10:00")  # National Day holiday
    outcome = phone.call(keys=["2"])
    assert any("非工作时间" in line for line in outcome.heard)
    assert "operator" not in the_call(outcome.call_sid).path


def test_nobody_on_duty_falls_back_to_voicemail(phone, clock, voicemail_wav):
    clock.set_local("2026-11-24 10:00")
    outcome = phone.call(keys=["3"], voicemail=voicemail_wav)
    assert the_call(outcome.call_sid).path[-5:] == [
        "operator", "queue_unavailable", "queue_offer", "voicemail", "voicemail_done"]


def test_silent_caller_hears_the_menu_twice_then_voicemail(phone, clock):
    outcome = phone.call(keys=[])
    menus = [line for line in outcome.heard if line.startswith("要素保障问题")]
    assert len(menus) == 2
    assert "没有收到您的留言" in outcome.heard[-1]


def test_three_wrong_keys_lead_to_voicemail(phone):
    outcome = phone.call(keys=["7", "8", "0"])
    assert outcome.heard.count("您的输入有误。") == 3
    assert "voicemail" in the_call(outcome.call_sid).path


def test_call_command_walks_a_call_in_process(app, clock, caplog):
    caplog.set_level("INFO")
    result = app.test_cli_runner().invoke(args=["call", "--digits", "2", "--at",
                                                "2026-10-02 10:00"])
    assert result.exit_code == 0, result.output
    # The throwaway database is migrated quietly: what is printed is the call.
    assert not [r for r in caplog.records if r.name.startswith("alembic")]
    assert "非工作时间" in result.output
    assert "ended: hung up by the hotline" in result.output
    # A test call never lands in the configured database unless asked to.
    assert "临时数据库" in result.output
    db.session.remove()
    assert db.session.scalars(select(Call)).first() is None


def test_flask_call_prints_the_call_not_alembic(tmp_path):
    """The real command in a fresh process: its first line is the call's, no INFO noise."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "TEST_"))}
    env.update(HOTLINE_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(root))
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "call", "--digits", "2", "--at",
         "2026-10-02 10:00"], cwd=root, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "alembic" not in done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("试拨使用临时数据库")


def test_call_command_live_writes_into_the_configured_database(app, clock, voicemail_wav):
    from cases.case_models import Case

    result = app.test_cli_runner().invoke(args=[
        "call", "--digits", "4", "--at", "2026-10-02 10:00", "--voicemail", str(voicemail_wav),
        "--live"])
    assert result.exit_code == 0, result.output
    assert "正式数据库" in result.output
    db.session.remove()
    assert db.session.scalars(select(Call)).one().path[-1] == "voicemail_done"
    assert db.session.scalars(select(Case)).one() is not None


def test_call_command_refuses_live_with_url(app):
    result = app.test_cli_runner().invoke(args=["call", "--url", "http://127.0.0.1:9",
                                                "--live"])
    assert result.exit_code != 0
    assert "only works in-process" in result.output
