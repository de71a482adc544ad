"""Configuration read from the environment (docs/decisions.md §5).

Every setting is declared once in :mod:`core.settings` (name, type, default, README row),
with a sensible default for the embedded developer set-up so that ``make run`` works on a
fresh machine; production overrides them through the environment. Secrets have no defaults
in the repository.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core import settings
from core.files import private_directory, write_private
from core.settings import DEFAULT_TZ, parse_bool

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


__all__ = ["DEFAULT_TZ", "ConfigError", "finalize", "from_env", "hotline_zone", "parse_bool"]


def hotline_zone(config: Mapping[str, Any]) -> ZoneInfo:
    """The configured time zone (``HOTLINE_TZ``) as a ``ZoneInfo``; callers pass it down."""
    return ZoneInfo(str(config.get("HOTLINE_TZ") or DEFAULT_TZ))


def _instance_secret(instance_path: Path, name: str) -> str:
    """A random per-installation secret kept under ``instance/`` (never in the repo).

    Created with mode 600 from the start (no moment where it is readable by others).
    """
    private_directory(instance_path)
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_hex(32)
    write_private(path, value)
    return value


def _embedded_redis(instance: Path) -> str | None:
    from core.redis_conn import discover

    return discover(instance)


def from_env(
    environ: Mapping[str, str] | None = None, instance_path: Path | None = None
) -> dict[str, Any]:
    """Build the application config from environment variables (``core.settings``)."""
    env = os.environ if environ is None else environ
    config = settings.read(env)
    instance = Path(env.get("HOTLINE_INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE_PATH)
    # Derived from the instance folder and the port when not given.
    config.update({
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'hotline.db'}",
        # Unset: the embedded Redis of `make run` for this instance, when it is running.
        "REDIS_URL": env.get("REDIS_URL") or _embedded_redis(instance),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL")
                            or f"http://127.0.0.1:{config['PORT']}").rstrip("/"),
        "RECORDINGS_DIR": env.get("RECORDINGS_DIR") or str(instance / "recordings"),
    })
    return config


class ConfigError(Exception):
    """The configuration cannot work; the message says which setting to fix."""


def check_multi_node(config: dict[str, Any]) -> None:
    """Refuse per-machine state when HOTLINE_MULTI_NODE says there are several nodes.

    A generated SECRET_KEY differs per machine (sessions signed on one node are refused by
    the next), a generated Twilio token signs nothing Twilio sends, and recordings in an
    implicit local directory are invisible to the other nodes.
    """
    missing = [name for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN") if not config.get(name)]
    if not config.get("RECORDINGS_URL"):
        missing.append("RECORDINGS_URL")
    if missing:
        raise ConfigError(
            "HOTLINE_MULTI_NODE is on, so every node must get the same values from the "
            f"environment; set {', '.join(missing)} (see docs/deploy.md)")


def finalize(config: dict[str, Any]) -> dict[str, Any]:
    """Fill secrets that may be generated locally for the embedded set-up.

    ``TWILIO_SIGNATURE_BYPASS`` is switched off again when the public URL is https: that is
    a real deployment reachable by anyone, never the local set-up the bypass is for.
    """
    if config.get("TWILIO_SIGNATURE_BYPASS") and str(
            config.get("PUBLIC_BASE_URL", "")).startswith("https://"):
        config["TWILIO_SIGNATURE_BYPASS"] = False
        config["TWILIO_SIGNATURE_BYPASS_REFUSED"] = True
    if parse_bool(config.get("HOTLINE_MULTI_NODE")):
        check_multi_node(config)
    instance = Path(config["INSTANCE_PATH"])
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance, "secret_key")
    if not config.get("TWILIO_AUTH_TOKEN"):
        # A local token lets the terminal phone sign requests exactly as Twilio would;
        # signature checks stay on even without a Twilio account.
        config["TWILIO_AUTH_TOKEN"] = _instance_secret(instance, "local_twilio_auth_token")
        config["TWILIO_AUTH_TOKEN_IS_LOCAL"] = True
    return config
