"""Capacity of their own for Twilio's webhooks: a bulkhead in front of the web app.

A web process serves every request on the same few threads (gunicorn's ``gthread``). Twilio
waits 15 s for a webhook; a flood on a public endpoint, or console pages waiting on a slow
Redis or database, must not take every thread. So requests *outside* the reserved paths
(``/ivr/`` and the health check) may occupy at most ``slots`` threads of a process at once;
one more is refused at once with 503 and ``Retry-After`` instead of queueing on a thread.
A slot is held while the app computes the response (a streamed body is sent after it).
The remaining threads are always free for webhooks, which are never refused here.

``WEB_PUBLIC_SLOTS`` sets ``slots`` (default :data:`DEFAULT_SLOTS`, with
``workers.gunicorn_conf.threads`` threads per process: the rest are the webhooks' own).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

DEFAULT_SLOTS = 4
RESERVED_PREFIXES = ("/ivr/", "/healthz")
PATH_KEY = "PATH_INFO"  # the WSGI environ's request path
BUSY_BODY = "服务繁忙，请稍后再试。".encode()



class Bulkhead:
    """WSGI middleware: at most ``slots`` non-webhook requests in this process at once."""

    def __init__(self, app: WSGIApplication, slots: int = DEFAULT_SLOTS,
                 reserved: tuple[str, ...] = RESERVED_PREFIXES) -> None:
        self.app = app
        self.slots = slots
        self.reserved = reserved
        self._free = threading.BoundedSemaphore(slots)
        self.refused = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = str(environ.get(PATH_KEY) or "")
        if self.slots <= 0 or path.startswith(self.reserved):
            return self.app(environ, start_response)
        if not self._free.acquire(blocking=False):
            self.refused += 1
            start_response("503 Service Unavailable", [
                ("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "1"),
                ("Cache-Control", "no-store"), ("Content-Length", str(len(BUSY_BODY)))])
            return [BUSY_BODY]
        try:
            # The handler's work (what waits on Redis or the database) is done when the
            # app returns; sending a streamed body is paced by the client, not by us.
            return self.app(environ, start_response)
        finally:
            self._free.release()
