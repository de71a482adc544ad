"""Files the app creates (database, secrets, recordings, Redis data) are not world-readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.db import db


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A login shell's usual umask (022): what the app must not rely on."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def others_can_read(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH))


def test_fresh_installation_keeps_its_files_private(app_config: dict[str, Any], tmp_path: Path,
                                                    loose_umask: None) -> None:
    from app import create_app
    from migrations.runner import upgrade

    instance = tmp_path / "fresh-instance"
    database = instance / "hotline.db"
    config = {**app_config, "INSTANCE_PATH": str(instance),
              "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": None,
              "TWILIO_AUTH_TOKEN": None, "RECORDINGS_DIR": str(instance / "recordings")}
    from workers.embedded_redis import start

    # `make run` starts Redis before anything else.
    server, url = start(instance)
    try:
        from redis import Redis

        Redis.from_url(url).set("probe", "1")
    finally:
        server.shutdown()
    os.umask(0o022)
    try:
        create_app(config)
        upgrade(config["DATABASE_URL"])
        (instance / "recordings").mkdir(exist_ok=True)
        (instance / "recordings" / "RE1.wav").write_bytes(b"RIFF")
    finally:
        db.session.remove()
        db.dispose()
    created = [p for p in instance.rglob("*")] + [instance]
    assert database in created and (instance / "secret_key") in created
    assert any(p.name.endswith(".aof") or "appendonly" in p.name for p in created)
    assert [str(p) for p in created if others_can_read(p)] == []
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600


def test_an_existing_world_readable_instance_is_tightened(app_config: dict[str, Any],
                                                          tmp_path: Path,
                                                          loose_umask: None) -> None:
    from app import create_app

    instance = tmp_path / "old-instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    create_app({**app_config, "INSTANCE_PATH": str(instance)})
    assert not others_can_read(instance)
