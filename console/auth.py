"""Signing in and out, the signed-in user, and the role check every console route declares.

The Flask session cookie holds the user id, the user's session version and a fingerprint of
the password hash. Logging out, a password change or disabling the account raises the
version on the server, so every cookie issued before (even a copied one) stops working at
its next request; the fingerprint also catches a hash changed behind the app's back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, session
from sqlalchemy.orm import Session

from console.models import User
from core.db import db

F = TypeVar("F", bound=Callable[..., Any])

CENTRE: frozenset[str] = frozenset({"operator", "supervisor", "admin"})
DEPARTMENT: frozenset[str] = frozenset({"department"})
SUPERVISORS: frozenset[str] = frozenset({"supervisor", "admin"})
ADMINS: frozenset[str] = frozenset({"admin"})
EVERYONE: frozenset[str] = frozenset({"operator", "department", "supervisor", "admin"})

SESSION_LIFETIME = timedelta(hours=12)
_CACHE_KEY = "hotline.console_user"


def _fingerprint(user: User) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (clearing the old one prevents fixation)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["fp"] = _fingerprint(user)
    session["sv"] = user.session_version
    request.environ[_CACHE_KEY] = user


def logout_user(db_session: Session) -> None:
    """End the signed-in user's sessions on the server, then clear this cookie."""
    user = current_user()
    if user is not None:
        user.end_sessions()
        db_session.commit()
    session.clear()
    request.environ[_CACHE_KEY] = None


def current_user() -> User | None:
    """The signed-in, active user of this request, or ``None``."""
    if not has_request_context():
        return None
    # Cached per request (not on ``g``: an app context may outlive one request).
    if _CACHE_KEY in request.environ:
        return request.environ[_CACHE_KEY]
    user = None
    uid = session.get("uid")
    if isinstance(uid, int):
        found = db.session.get(User, uid)
        if found is not None and found.active \
                and session.get("sv") == found.session_version \
                and hmac.compare_digest(session.get("fp", ""), _fingerprint(found)):
            user = found
    request.environ[_CACHE_KEY] = user
    return user


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path inside the console, else ``default`` (no open redirect).

    Control characters (CR/LF, NUL) are refused: they cannot go into a Location header.
    """
    if not target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") \
            or target.startswith("//") or "\\" in target:
        return default
    return target


def configure_session(app: Flask) -> None:
    """Cookie flags: HttpOnly, SameSite=Lax, Secure whenever the public URL is HTTPS."""
    secure = app.config.get("SESSION_COOKIE_SECURE_OVERRIDE")
    if secure is None:
        secure = str(app.config.get("PUBLIC_BASE_URL", "")).startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(secure),
        SESSION_COOKIE_NAME="hotline_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


def route_roles(roles: Collection[str]) -> frozenset[str]:
    """Validate a route's role set at import time (a typo would lock everyone out)."""
    unknown = set(roles) - EVERYONE
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")
    return frozenset(roles)
