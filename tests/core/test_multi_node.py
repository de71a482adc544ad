"""HOTLINE_MULTI_NODE: secrets and the recording store must come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import config as config_module


def _settings(tmp_path: Path, **env: str) -> dict[str, object]:
    return config_module.from_env({"HOTLINE_INSTANCE_PATH": str(tmp_path), **env})


def test_single_node_generates_its_own_secrets(tmp_path: Path) -> None:
    settings = config_module.finalize(_settings(tmp_path))
    assert settings["SECRET_KEY"] and (tmp_path / "secret_key").is_file()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TWILIO_AUTH_TOKEN", "RECORDINGS_URL"])
def test_multi_node_refuses_per_machine_state(tmp_path: Path, missing: str) -> None:
    env = {"HOTLINE_MULTI_NODE": "true", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
           "RECORDINGS_URL": "s3://hotline/recordings"}
    del env[missing]
    with pytest.raises(config_module.ConfigError, match=missing):
        config_module.finalize(_settings(tmp_path, **env))
    assert not (tmp_path / "secret_key").exists()  # nothing generated on the way


def test_multi_node_with_everything_set_starts(tmp_path: Path) -> None:
    settings = config_module.finalize(_settings(
        tmp_path, HOTLINE_MULTI_NODE="1", SECRET_KEY="s" * 32, TWILIO_AUTH_TOKEN="t" * 32,
        RECORDINGS_URL="s3://hotline/recordings"))
    assert settings["SECRET_KEY"] == "s" * 32 and not settings.get("TWILIO_AUTH_TOKEN_IS_LOCAL")


@pytest.mark.parametrize("url", ["http://minio:9000/bucket", "s3:///no-bucket", "bucket/prefix"])
def test_an_unusable_recordings_url_stops_the_start(app_config: dict[str, object],
                                                    url: str) -> None:
    from app import create_app

    with pytest.raises(config_module.ConfigError, match="RECORDINGS_URL"):
        create_app({**app_config, "RECORDINGS_URL": url})
