"""Cron process: enqueues the periodic jobs of :mod:`workers.periodic`."""

from __future__ import annotations

from core.queues import connect
from workers.periodic import build_scheduler


def main() -> None:
    from app import create_app

    app = create_app()
    if not app.config.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is not set")
    build_scheduler(connect(app.config["REDIS_URL"])).start()


if __name__ == "__main__":
    main()
