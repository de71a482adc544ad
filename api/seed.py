"""``flask seed --demo``: a demo API token (the API owns its tokens, cases knows none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken
from api.tokens import create_token
from cases.vocab import Channel
from core.db import utcnow

DEMO_TOKEN_NAME = "演示令牌（公共服务平台）"


def seed_demo_api_token(session: Session) -> str:
    """A demo API token for the web platform; its plaintext can be shown only when created."""
    exists = session.scalar(select(ApiToken.id).where(ApiToken.name == DEMO_TOKEN_NAME,
                                                      ApiToken.revoked_at.is_(None)))
    if exists:
        return "demo API token: exists (shown only when created; `flask api-tokens create`)"
    _row, plaintext = create_token(session, Channel.WEB_PLATFORM, DEMO_TOKEN_NAME, now=utcnow())
    return f"demo API token (web_platform, shown once): {plaintext}"


def seed_api_tokens(session: Session, demo: bool) -> str:
    """Seeder (``core.cli.SEEDERS``): the demo token with ``--demo``, nothing otherwise."""
    return seed_demo_api_token(session) if demo else ""
