"""The embedded Redis: durable, on a fixed socket that every command of the instance finds."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from core.config import from_env
from workers.embedded_redis import discover, socket_path, start


def test_it_is_durable_and_found_by_every_command_of_the_instance(tmp_path: Path):
    instance = tmp_path / "instance"
    assert from_env({"HOTLINE_INSTANCE_PATH": str(instance)})["REDIS_URL"] is None
    server, url = start(instance)
    try:
        assert url == f"unix://{instance.resolve() / 'redis.sock'}"
        config = Redis.from_url(url).config_get("append*")
        assert (config["appendonly"], config["appendfsync"]) == ("yes", "everysec")
        # A `flask` command in another shell: no REDIS_URL, same instance directory.
        assert from_env({"HOTLINE_INSTANCE_PATH": str(instance)})["REDIS_URL"] == url
        assert from_env({"HOTLINE_INSTANCE_PATH": str(instance),
                         "REDIS_URL": "redis://elsewhere:6379/0"})["REDIS_URL"] == (
            "redis://elsewhere:6379/0")
        Redis.from_url(url).set("kept", "1")
    finally:
        server.shutdown()
    assert discover(instance) is None
    server, url = start(instance)  # the same socket, the same data
    try:
        assert Redis.from_url(url).get("kept") == b"1"
    finally:
        server.shutdown()


def test_a_stale_socket_file_is_not_discovered(tmp_path: Path):
    import socket

    path = socket_path(tmp_path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens
    assert path.exists() and discover(tmp_path) is None


def test_a_long_instance_path_gets_a_short_socket(tmp_path: Path):
    deep = tmp_path / ("x" * 120)
    assert len(str(socket_path(deep))) < 100
    assert socket_path(deep) == socket_path(deep)
