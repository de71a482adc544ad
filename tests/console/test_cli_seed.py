"""``flask users ...`` and the demo accounts of ``flask seed --demo``."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select

from console.models import User
from console.passwords import verify_password
from console.seed import ACCOUNTS_FILE, DEMO_ACCOUNTS
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
    assert weak.exit_code != 0 and "密码至少8位" in weak.output


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


def test_seed_demo_prints_one_login_per_role_and_keeps_them(app: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--demo"])
    assert first.exit_code == 0, first.output
    assert "DEMO ONLY" in first.output
    roles = {account.role for account in DEMO_ACCOUNTS}
    assert roles == {"operator", "department", "supervisor", "admin"}
    passwords = {}
    for account in DEMO_ACCOUNTS:
        line = next(line for line in first.output.splitlines() if account.username in line)
        passwords[account.username] = line.rsplit(" / ", 1)[1]
        user = db.session.scalars(select(User).where(User.username == account.username)).one()
        assert verify_password(user.password_hash, passwords[account.username])
    again = runner.invoke(args=["seed", "--demo"])
    assert all(f"{name} / {pw}" in again.output for name, pw in passwords.items())
    secrets_file = Path(app.config["INSTANCE_PATH"]) / ACCOUNTS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_seed_without_demo_creates_no_accounts(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0
    assert db.session.scalars(select(User)).first() is None
