"""Text messages (SMS) to enterprises and liaisons: what they say, the outbox, sending.

- :mod:`messaging.texts` — the templates and how a body is rendered (at sending time);
- :mod:`messaging.outbox` — :func:`~messaging.outbox.send`, the one way to send a text: it
  queues the message in the caller's transaction and hands it to the sending job once that
  transaction commits; claiming, retries and delivery reports of queued messages;
- :mod:`messaging.receipts` — the texts about a case, built from plain values;
- :mod:`messaging.gateway` — Twilio Messaging;
- :mod:`messaging.jobs` — the sending job and the periodic catch-up;
- :mod:`messaging.routes` — Twilio's delivery status callback.

This package depends on ``core`` only: the case domain, follow-up and the IVR call it.
"""
