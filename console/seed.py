"""Demo accounts, one per role, for ``flask seed --demo`` (and so for ``make run``).

Passwords are random per installation and kept in ``instance/demo_accounts.txt`` (mode 600)
so that every ``make run`` can show them again; nothing secret is in the repository. They are
printed only to a terminal, never into a redirected log. Demo usernames start with ``demo-``
so they stand out in the user list.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import ROLE_LABELS, User
from console.users import create_user
from core.cli import may_print_secrets
from core.db import utcnow
from core.files import write_private

ACCOUNTS_FILE = "demo_accounts.txt"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    department: str | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo-operator", "演示·中心工作人员", "operator"),
    DemoAccount("demo-jxj", "演示·区经信局联络员", "department", "区经信局"),
    DemoAccount("demo-jrzx", "演示·区金融发展服务中心联络员", "department", "区金融发展服务中心"),
    DemoAccount("demo-supervisor", "演示·企服专班", "supervisor"),
    DemoAccount("demo-admin", "演示·管理员", "admin"),
)


def _new_password() -> str:
    # Letters and digits only: easy to type from the terminal output.
    return "demo-" + secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")


def _read(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return {name: password for name, password in pairs}


def seed_demo_accounts(session: Session, instance_path: Path) -> None:
    """Create missing demo accounts and remember their passwords (owner-only file)."""
    path = instance_path / ACCOUNTS_FILE
    passwords = _read(path)
    for account in DEMO_ACCOUNTS:
        exists = session.scalar(select(User.id).where(User.username == account.username))
        if not exists:
            passwords[account.username] = _new_password()
            create_user(session, username=account.username, display_name=account.display_name,
                        role=account.role, password=passwords[account.username],
                        department=account.department, now=utcnow())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, "".join(f"{name}\t{pw}\n" for name, pw in passwords.items()))


def demo_logins(instance_path: Path, show_passwords: bool) -> str:
    """The demo logins, one per line, with passwords only when asked (a terminal)."""
    path = instance_path / ACCOUNTS_FILE
    passwords = _read(path)
    if not show_passwords:
        return (f"console demo logins (DEMO ONLY): {', '.join(a.username for a in DEMO_ACCOUNTS)}"
                f"; passwords in {path} (readable only by its owner)\n")
    lines = []
    for account in DEMO_ACCOUNTS:
        where = f"（{account.department}）" if account.department else ""
        password = passwords.get(account.username, "（已存在，密码未知：flask users set-password）")
        lines.append(f"  {ROLE_LABELS[account.role]}{where}: {account.username} / {password}\n")
    return "console demo logins (DEMO ONLY, random per installation):\n" + "".join(lines)


def seed_console(session: Session, demo: bool) -> str:
    """Seeder for ``flask seed``: demo accounts with ``--demo``, nothing otherwise.

    Passwords are shown only when the output is a terminal, or when asked (``make run`` asks
    when its own output is one, and shows them in its banner).
    """
    if not demo:
        return "console: no accounts seeded (create them with `flask users create`)"
    instance = Path(current_app.config["INSTANCE_PATH"])
    seed_demo_accounts(session, instance)
    return demo_logins(instance, show_passwords=may_print_secrets()).rstrip("\n")
