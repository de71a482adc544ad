"""Ringing operators' devices through Twilio's REST API, after the offer was committed.

``calls.create`` rings the device for ``QUEUE_RING_SECONDS``; Twilio then requests the
offer's answer URL (the operator picked up) or reports ``no-answer`` / ``busy`` / ``failed``
on its status callback. A REST error (Twilio's 5xx, the network, a bad number) never reaches
the caller: the offer fails, the operator is 空闲 again, and the caller goes to the next one.

Where placement runs is chosen by the app factory: an RQ job on the ``calls`` queue (any
worker node), falling back to a thread of the web process while Redis is away; in-process
(tests, the terminal phone) it runs in the request after the commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callqueue import offers
from callqueue.models import Offer, OfferStatus
from callqueue.runtime import Changes, QueueRuntime
from ivr.outbound import STATUS_EVENTS

log = logging.getLogger(__name__)


def rest_client(runtime: QueueRuntime) -> Client:
    """The REST client; its HTTP client is the one tests inject (``TWILIO_HTTP_CLIENT``)."""
    config = runtime.config
    http = config.get("TWILIO_HTTP_CLIENT") or TwilioHttpClient(
        timeout=runtime.settings.rest_timeout)
    return Client(config.get("TWILIO_ACCOUNT_SID") or None, config.get("TWILIO_AUTH_TOKEN"),
                  http_client=http)


def ring_request(runtime: QueueRuntime, offer: Offer) -> dict[str, Any]:
    """The ``calls.create`` arguments that ring the operator's device for ``offer``."""
    settings = runtime.settings
    return {
        "to": offer.agent.device,
        "from_": settings.caller_id or "+8657488888718",
        "url": settings.url(f"offer/{offer.id}/answer"),
        "method": "POST",
        "status_callback": settings.url(f"offer/{offer.id}/status"),
        "status_callback_event": STATUS_EVENTS,
        "status_callback_method": "POST",
        "timeout": settings.ring_seconds,
    }


def place_offer(session: Session, runtime: QueueRuntime, client: Client, offer_id: int
                ) -> Changes:
    """Ring the device of one offer still being placed; commits. Returns what follows."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PLACING:
        session.commit()
        return Changes()
    request = ring_request(runtime, offer)
    session.commit()  # no transaction (and no lock) held during the REST request
    try:
        call = client.calls.create(**request)
        sid = str(call.sid or "")
        if not sid:
            raise RuntimeError("Twilio returned no CallSid")
    except Exception as exc:  # a REST or network error: the next operator is tried
        log.warning("ringing the device of offer %s failed: %s", offer_id, exc)
        changes = offers.place_failed(session, runtime, offer_id, f"{type(exc).__name__}: {exc}",
                                      runtime.now())
    else:
        changes = offers.placed(session, runtime, offer_id, sid, runtime.now())
    session.commit()
    return changes


def cancel_call(client: Client, call_sid: str) -> None:
    """Stop an operator's leg: cancel it while ringing, hang it up once answered."""
    try:
        client.calls(call_sid).update(status="canceled")
    except Exception:
        try:
            client.calls(call_sid).update(status="completed")
        except Exception as exc:
            log.warning("could not stop the operator's call %s: %s", call_sid, exc)


class InlinePlacer:
    """Places offers in the calling thread, with that thread's session (after the commit).

    Offers that follow from a placement (a failed REST request offers the caller to the next
    operator) are placed by the same loop, not recursively.
    """

    def __init__(self, runtime: QueueRuntime, session: Callable[[], Session]) -> None:
        self.runtime = runtime
        self.session = session
        self._local = threading.local()

    def place(self, offer_ids: list[int]) -> None:
        pending: list[int] | None = getattr(self._local, "pending", None)
        if pending is not None:  # placing already, further up this thread's stack
            pending.extend(offer_ids)
            return
        self._local.pending = pending = list(offer_ids)
        try:
            client = rest_client(self.runtime)
            while pending:
                changes = place_offer(self.session(), self.runtime, client, pending.pop(0))
                self.runtime.after_commit(changes, placer=self)
        finally:
            self._local.pending = None

    def cancel(self, call_sids: list[str]) -> None:
        client = rest_client(self.runtime)
        for sid in call_sids:
            cancel_call(client, sid)


class QueuedPlacer:
    """Places offers through a job (``enqueue``); in a thread while Redis is unreachable."""

    def __init__(self, enqueue: Callable[[str, list[Any]], None],
                 fallback: Callable[[str, list[Any]], None]) -> None:
        self.enqueue = enqueue
        self.fallback = fallback

    def _send(self, what: str, items: list[Any]) -> None:
        try:
            self.enqueue(what, items)
        except RedisError as exc:
            log.warning("job queue unavailable (%s): %s in a thread of this process", exc, what)
            self.fallback(what, items)

    def place(self, offer_ids: list[int]) -> None:
        self._send("place", offer_ids)

    def cancel(self, call_sids: list[str]) -> None:
        self._send("cancel", call_sids)


def run_placement(runtime: QueueRuntime, session: Callable[[], Session], what: str,
                  items: list[Any]) -> None:
    """What a placement job (or the fallback thread) does: ``place`` offers or ``cancel``
    operators' calls, here and now."""
    placer = InlinePlacer(runtime, session)
    if what == "place":
        placer.place([int(i) for i in items])
    else:
        placer.cancel([str(i) for i in items])


def thread_fallback(app: Any, runtime: QueueRuntime) -> Callable[[str, list[Any]], None]:
    """Run a placement in a thread of this web process (Redis away: no job can carry it).
    An offer the process dies before placing is failed and given to the next operator by
    the next tick (docs/queue.md)."""
    from core.db import db

    def run(what: str, items: list[Any]) -> None:
        def work() -> None:
            with app.app_context():
                try:
                    run_placement(runtime, db.session, what, items)
                except Exception:
                    log.exception("queue placement (%s %s) failed in its thread", what, items)
                finally:
                    db.session.remove()

        threading.Thread(target=work, name="queue-placement", daemon=True).start()

    return run
