"""Headers every answer gets: HSTS when the request came over https.

``request.is_secure`` is the client's scheme: behind trusted proxies (``TRUSTED_PROXIES``)
``ProxyFix`` has applied their ``X-Forwarded-Proto``, so a deployment that terminates TLS at
nginx sends HSTS, and a plain-http local ``make run`` does not (browsers ignore it over
http anyway, and it must never pin ``127.0.0.1`` to https).
"""

from __future__ import annotations

from flask import Flask, Response, request

# One year, the value the HSTS preload list asks for; no includeSubDomains: the hotline
# does not own its parent domain's other hosts.
HSTS = "max-age=31536000"


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
