"""Cookie sessions only where a browser uses them."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

# Twilio webhooks and the token API never carry a login cookie; skipping the session there
# saves building a signing serializer in every webhook request.
SESSIONLESS_PREFIXES = ("/ivr/", "/api/", "/healthz")


class BrowserSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, except on paths that machines call."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return None  # Flask then uses a null session and saves nothing
        return super().open_session(app, request)
