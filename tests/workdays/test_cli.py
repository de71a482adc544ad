"""``flask workdays`` commands."""

from __future__ import annotations


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_check_national_day_is_off(app):
    result = run(app, "workdays", "check", "2026-10-02")
    assert result.output.startswith("2026-10-02 not a working day: 国庆节 [official]")


def test_check_shifted_saturday_is_working(app):
    assert "working day: 调休上班（国庆节）" in run(app, "workdays", "check", "2026-10-10").output


def test_due_into_2027_is_provisional_and_skips_new_year(app):
    assert run(app, "workdays", "due", "2026-12-30", "2").output == "2027-01-04 provisional\n"


def test_due_inside_official_data_is_not_provisional(app):
    assert run(app, "workdays", "due", "2026-09-30", "2").output == "2026-10-09\n"


def test_override_changes_the_answer(app):
    run(app, "workdays", "set", "2026-11-30", "--off", "--note", "台风停工")
    result = run(app, "workdays", "check", "2026-11-30")
    assert "not a working day: 管理员设定：台风停工 [override]" in result.output


def test_override_can_be_removed(app):
    run(app, "workdays", "set", "2026-11-30", "--off")
    run(app, "workdays", "unset", "2026-11-30")
    assert "working day: 工作日 [official]" in run(app, "workdays", "check", "2026-11-30").output


def test_bad_date_is_a_clear_error(app):
    result = run(app, "workdays", "check", "2026-13-01")
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_override_reaches_ivr_office_hours(app, phone, clock):
    run(app, "workdays", "set", "2026-11-24", "--off", "--note", "停电")
    clock.set_local("2026-11-24 10:00")
    outcome = phone.call(keys=["2"])
    assert any("非工作时间" in line for line in outcome.heard)
