"""Where voicemail audio lives: one small store interface, a local and an S3 backend.

See docs/deploy.md (multi-node) and docs/transcription.md (how recordings are stored).
"""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    """Refuse an unusable RECORDINGS_URL at start-up; show the store in ``/healthz``."""
    from urllib.parse import urlsplit

    from core.config import ConfigError
    from recordings.config import open_store, store_url

    url = store_url(app.config)
    parts = urlsplit(url)
    if parts.scheme not in ("file", "s3") or (parts.scheme == "s3" and not parts.netloc):
        raise ConfigError(f"RECORDINGS_URL must be s3://bucket/prefix or file:///dir, not {url!r}")

    def report() -> str:
        # Not a reason to take the node out of the balancer: webhooks and case work go on
        # without the object store; only playing and storing audio wait for it.
        try:
            open_store(app.config).head("healthz-probe")
        except Exception as exc:
            return f"error: {exc.__class__.__name__}"
        return "ok"

    app.extensions.setdefault("health_reports", {})["recordings"] = report
