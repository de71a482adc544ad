"""``flask users ...``: create console accounts, reset passwords, list, disable."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from cases.errors import CaseError
from console import throttle, users
from console.models import ROLE_LABELS, ROLES, User
from core.clock import clock_of
from core.db import db

users_cli = AppGroup("users", help="工作台用户：创建、重设密码、列出、停用。")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


def _now() -> datetime:
    return clock_of(current_app.config)()


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--department", default=None, help="所属单位名称（department 角色必填）")
@click.option("--name", "display_name", default="", help="姓名（默认同用户名）")
@click.option("--phone", default=None, help="手机号码（短信提醒用）")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行）")
def create_command(username: str, role: str, department: str | None, display_name: str,
                   phone: str | None, password_stdin: bool) -> None:
    """Create an account; the password is prompted for (or read from stdin)."""
    password = _password(password_stdin)
    try:
        with db.transaction() as session:
            user = users.create_user(session, username=username, display_name=display_name,
                                     role=role, password=password, department=department,
                                     phone=phone, now=_now())
            label = f"{user.username}（{ROLE_LABELS[user.role]}）"
    except CaseError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已创建用户 {label}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行）")
def set_password_command(username: str, password_stdin: bool) -> None:
    """Reset a password (existing sessions of that user end)."""
    password = _password(password_stdin)
    try:
        with db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            if user is None:
                raise click.ClickException(f"用户 {username} 不存在")
            users.set_password(session, user.id, password, now=_now())
    except CaseError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已重设 {username} 的密码")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account (it can no longer sign in; its sessions end)."""
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.ClickException(f"用户 {username} 不存在")
        user.active = False
        user.end_sessions()
    click.echo(f"已停用 {username}")


@users_cli.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Clear an account's sign-in failure counts at every address (console.throttle)."""
    with db.transaction() as session:
        cleared = throttle.unlock(session, username)
    click.echo(f"已解除 {username} 的登录限制（清除{cleared}条计数）")


@users_cli.command("list")
def list_command() -> None:
    """List accounts with role, department and state."""
    with db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.role, User.username)):
            department = user.department.name if user.department else ""
            state = "" if user.active else "（已停用）"
            click.echo(f"{user.username}\t{ROLE_LABELS[user.role]}\t{department}\t"
                       f"{user.display_name}{state}")
