"""``flask seed --demo``: a demo API token (the API owns its tokens, cases knows none)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken
from api.tokens import create_token
from cases.vocab import Channel
from core.cli import may_print_secrets
from core.db import utcnow
from core.files import write_private

DEMO_TOKEN_NAME = "演示令牌（公共服务平台）"
# Where the token is kept when it may not be printed (owner-only, under instance/).
TOKEN_FILE = "demo_api_token.txt"


def seed_demo_api_token(session: Session) -> str:
    """A demo API token for the web platform; its plaintext can be shown only when created."""
    exists = session.scalar(select(ApiToken.id).where(ApiToken.name == DEMO_TOKEN_NAME,
                                                      ApiToken.revoked_at.is_(None)))
    if exists:
        return "demo API token: exists (shown only when created; `flask api-tokens create`)"
    _row, plaintext = create_token(session, Channel.WEB_PLATFORM, DEMO_TOKEN_NAME, now=utcnow())
    if may_print_secrets():
        return f"demo API token (web_platform, shown once): {plaintext}"
    # Not a terminal (a log file): the plaintext goes to a file only its owner can read.
    path = Path(current_app.config["INSTANCE_PATH"]) / TOKEN_FILE
    write_private(path, plaintext + "\n")
    return f"demo API token (web_platform): in {path} (readable only by its owner)"


def seed_api_tokens(session: Session, demo: bool) -> str:
    """Seeder (``SEEDERS`` in app.py): the demo token with ``--demo``, nothing otherwise."""
    return seed_demo_api_token(session) if demo else ""
