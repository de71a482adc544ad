"""Creating, checking and revoking API tokens.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to make a stolen table
useless (no dictionary to try) and keeps the lookup a single indexed equality; a slow
password hash would only add latency to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken
from cases.errors import InvalidInput
from cases.vocab import CHANNEL_CODES

TOKEN_PREFIX = "h8718_"
# Recording every use would turn each read into a write; a coarse timestamp is enough.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, channel: str, name: str, *, now: datetime
                 ) -> tuple[ApiToken, str]:
    """A new token for ``channel``; returns the row and the plaintext (shown once)."""
    if channel not in CHANNEL_CODES:
        raise InvalidInput({"channel": "未知的受理渠道"})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(channel=channel, name=(name or channel)[:100], token_hash=hash_token(plaintext),
                   prefix=plaintext[:12], created_at=now)
    session.add(row)
    session.flush()
    return row, plaintext


def authenticate(session: Session, plaintext: str | None, *, now: datetime) -> ApiToken | None:
    """The active token matching ``plaintext``, or ``None``."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(plaintext)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one_or_none()
    # The index lookup already matched; compare again in constant time for good measure.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash,
                                                                             digest):
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row


def revoke_token(session: Session, token_id: int, *, now: datetime) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
