"""``flask users ...`` and the demo accounts of ``flask seed --demo``."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select

from console.models import User
from console.passwords import verify_password
from console.seed import ACCOUNTS_FILE, DEMO_ACCOUNTS, demo_logins
from core.db import db


def test_users_create_with_password_from_stdin(app: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "wang", "--role", "department",
                                 "--department", "区经信局", "--name", "王联络员",
                                 "--password-stdin"], input="Wang-pass-123\n")
    assert result.exit_code == 0, result.output
    assert "已创建用户 wang" in result.output
    user = db.session.scalars(select(User).where(User.username == "wang")).one()
    assert user.department is not None and user.department.name == "区经信局"
    assert verify_password(user.password_hash, "Wang-pass-123")


def test_users_create_refuses_bad_input(app: Any) -> None:
    runner = app.test_cli_runner()
    no_department = runner.invoke(args=["users", "create", "zhao", "--role", "department",
                                        "--password-stdin"], input="Zhao-pass-123\n")
    assert no_department.exit_code != 0 and "须指定所属单位" in no_department.output
    weak = runner.invoke(args=["users", "create", "zhao", "--role", "operator",
                               "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "密码至少10位" in weak.output


def test_set_password_disable_and_list(app: Any) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "qian", "--role", "supervisor", "--password-stdin"],
                  input="Qian-pass-123\n")
    reset = runner.invoke(args=["users", "set-password", "qian", "--password-stdin"],
                          input="Qian-pass-456\n")
    assert reset.exit_code == 0
    runner.invoke(args=["users", "disable", "qian"])
    listing = runner.invoke(args=["users", "list"])
    assert "qian" in listing.output and "已停用" in listing.output
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.username == "qian")).one()
    assert verify_password(user.password_hash, "Qian-pass-456") and not user.active


def test_seed_demo_keeps_passwords_out_of_redirected_output(app: Any) -> None:
    """Not a terminal (a log file, a pipe): usernames and where the passwords are, no more."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--demo"])
    assert first.exit_code == 0, first.output
    assert "DEMO ONLY" in first.output and ACCOUNTS_FILE in first.output
    roles = {account.role for account in DEMO_ACCOUNTS}
    assert roles == {"operator", "department", "supervisor", "admin"}
    secrets_file = Path(app.config["INSTANCE_PATH"]) / ACCOUNTS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    passwords = dict(line.split("\t") for line in secrets_file.read_text().splitlines())
    assert set(passwords) == {account.username for account in DEMO_ACCOUNTS}
    for account in DEMO_ACCOUNTS:
        assert account.username in first.output
        assert passwords[account.username] not in first.output
        user = db.session.scalars(select(User).where(User.username == account.username)).one()
        assert verify_password(user.password_hash, passwords[account.username])
    again = runner.invoke(args=["seed", "--demo"])
    assert dict(line.split("\t") for line in secrets_file.read_text().splitlines()) == passwords
    assert not any(pw in again.output for pw in passwords.values())


def test_demo_logins_for_a_terminal_show_each_password_once(app: Any) -> None:
    app.test_cli_runner().invoke(args=["seed", "--demo"])
    instance = Path(app.config["INSTANCE_PATH"])
    shown = demo_logins(instance, show_passwords=True)
    for line in (instance / ACCOUNTS_FILE).read_text().splitlines():
        name, password = line.split("\t")
        assert shown.count(f"{name} / {password}") == 1


def test_seed_without_demo_creates_no_accounts(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0
    assert db.session.scalars(select(User)).first() is None


def test_seed_shows_secrets_when_asked(app: Any) -> None:
    """`make run` asks (with --show-secrets) only when its own output is a terminal."""
    result = app.test_cli_runner().invoke(args=["seed", "--demo", "--show-secrets"])
    passwords = (Path(app.config["INSTANCE_PATH"]) / ACCOUNTS_FILE).read_text().splitlines()
    for line in passwords:
        name, password = line.split("\t")
        assert result.output.count(f"{name} / {password}") == 1
    assert "demo API token (web_platform, shown once): h8718_" in result.output


def test_make_run_shows_the_demo_logins_once(monkeypatch: Any, capsys: Any) -> None:
    from workers import stack

    seeded = ("departments: 42 seeded\nconsole demo logins (DEMO ONLY): demo-operator; "
              "passwords in instance/demo_accounts.txt (readable only by its owner)\n")
    asked: list[list[str]] = []

    def run(args: list[str], env: dict[str, str], echo: bool = True) -> str:
        asked.append(args)
        assert echo is False
        return seeded

    monkeypatch.setattr(stack, "_run", run)
    logins = stack._seed(["flask"], {})
    assert asked == [["flask", "seed", "--upgrade", "--demo"]]  # output is not a terminal
    assert logins.startswith("console demo logins") and "demo-operator" in logins
    assert capsys.readouterr().out == "departments: 42 seeded\n"


def test_seed_upgrade_migrates_a_fresh_database_first(app_config: dict[str, Any],
                                                      tmp_path: Any) -> None:
    """`make run` migrates and seeds in one process (`flask seed --upgrade --demo`)."""
    from app import create_app

    fresh = {**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    fresh_app = create_app(fresh)
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(args=["seed", "--upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("database at head\n")
    assert "departments: 44 new, 44 in all" in result.output
