"""Configuration read from the environment (docs/decisions.md §5).

Every setting has a sensible default for the embedded developer set-up so that
``make run`` works on a fresh machine; production overrides them through the
environment. Secrets have no defaults in the repository.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.files import private_directory, write_private

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


# The hotline's time zone unless HOTLINE_TZ says otherwise; written here only.
DEFAULT_TZ = "Asia/Shanghai"


def parse_bool(value: object, default: bool = False) -> bool:
    """A yes/no setting: ``1/true/yes/on`` (any case) is yes; unset or blank is ``default``."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


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


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def from_env(
    environ: Mapping[str, str] | None = None, instance_path: Path | None = None
) -> dict[str, Any]:
    """Build the application config from environment variables."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("HOTLINE_INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE_PATH)
    port = int(env.get("PORT", "5000"))
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'hotline.db'}",
        # Unset: the embedded Redis of `make run` for this instance, when it is running.
        "REDIS_URL": env.get("REDIS_URL") or _embedded_redis(instance),
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_CALLER_ID": env.get("TWILIO_CALLER_ID", "+8657488888718"),
        # Loudly logged on every request when on; never switched on by debug mode.
        "TWILIO_SIGNATURE_BYPASS": parse_bool(env.get("TWILIO_SIGNATURE_BYPASS")),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        "VOSK_MODEL_PATH": env.get("VOSK_MODEL_PATH") or None,
        "HOTLINE_TZ": env.get("HOTLINE_TZ") or DEFAULT_TZ,
        "RECORDING_HOSTS": [
            h.strip().lower()
            for h in env.get("RECORDING_HOSTS", "api.twilio.com").split(",")
            if h.strip()
        ],
        "RECORDINGS_DIR": env.get("RECORDINGS_DIR") or str(instance / "recordings"),
        # Recording store (docs/deploy.md): s3://bucket/prefix, or unset for RECORDINGS_DIR.
        "RECORDINGS_URL": env.get("RECORDINGS_URL", ""),
        "RECORDINGS_S3_ENDPOINT": env.get("RECORDINGS_S3_ENDPOINT", ""),
        "RECORDINGS_S3_REGION": env.get("RECORDINGS_S3_REGION", ""),
        "RECORDINGS_S3_ACCESS_KEY": env.get("RECORDINGS_S3_ACCESS_KEY", ""),
        "RECORDINGS_S3_SECRET_KEY": env.get("RECORDINGS_S3_SECRET_KEY", ""),
        "RECORDINGS_S3_ADDRESSING": env.get("RECORDINGS_S3_ADDRESSING", ""),
        "RECORDINGS_S3_TIMEOUT": float(env.get("RECORDINGS_S3_TIMEOUT") or 5),
        "RECORDINGS_S3_CHECKSUMS": parse_bool(env.get("RECORDINGS_S3_CHECKSUMS"), default=True),
        # > 0: the console redirects the player to a presigned URL valid this many seconds.
        "RECORDINGS_PRESIGNED_SECONDS": int(env.get("RECORDINGS_PRESIGNED_SECONDS") or 0),
        # Several web/worker nodes: no per-machine generated secrets (docs/deploy.md).
        "HOTLINE_MULTI_NODE": parse_bool(env.get("HOTLINE_MULTI_NODE")),
        # Workers install the speech model themselves from here (https:// or s3://).
        "VOSK_MODEL_URL": env.get("VOSK_MODEL_URL", ""),
        "VOSK_MODEL_SHA256": env.get("VOSK_MODEL_SHA256", ""),
        # `make run` downloads the pinned Mandarin model into an empty default model folder.
        "VOSK_MODEL_AUTO_INSTALL": parse_bool(env.get("VOSK_MODEL_AUTO_INSTALL"), default=True),
        "PORT": port,
        # Live transcript of operator calls (docs/live.md): the WebSocket process's port, the
        # URL Twilio streams to (default: from PUBLIC_BASE_URL), and how many streams at once.
        "LIVE_PORT": int(env.get("LIVE_PORT", "5001")),
        "LIVE_STREAM_URL": env.get("LIVE_STREAM_URL", ""),
        "LIVE_STREAMS_MAX": int(env.get("LIVE_STREAMS_MAX", "2")),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed
        # (0: none; the login throttle then counts the socket's address).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Threads of a web process that requests other than webhooks may hold at once
        # (core.bulkhead); the others are kept for Twilio. 0 switches the bulkhead off.
        "WEB_PUBLIC_SLOTS": int(env.get("WEB_PUBLIC_SLOTS", "4")),
        "OFFICE_HOURS": env.get("OFFICE_HOURS", "08:30-12:00,13:30-17:30"),
        "OPERATOR_NUMBER": env.get("OPERATOR_NUMBER", "sip:operators@hotline.invalid"),
        "OPERATOR_DIAL_TIMEOUT": int(env.get("OPERATOR_DIAL_TIMEOUT", "20")),
        # The office-hours queue (docs/queue.md).
        "QUEUE_MAX_WAIT_SECONDS": int(env.get("QUEUE_MAX_WAIT_SECONDS", "180")),
        "QUEUE_RING_SECONDS": int(env.get("QUEUE_RING_SECONDS", "15")),
        "QUEUE_WRAPUP_SECONDS": int(env.get("QUEUE_WRAPUP_SECONDS", "30")),
        "QUEUE_CALLBACK_DEADLINE_MINUTES": int(env.get("QUEUE_CALLBACK_DEADLINE_MINUTES", "60")),
        "QUEUE_CALLBACK_RETRY_MINUTES": int(env.get("QUEUE_CALLBACK_RETRY_MINUTES", "10")),
        "QUEUE_CALLBACK_MAX_ATTEMPTS": int(env.get("QUEUE_CALLBACK_MAX_ATTEMPTS", "3")),
        "QUEUE_HEARTBEAT_SECONDS": int(env.get("QUEUE_HEARTBEAT_SECONDS", "90")),
        "QUEUE_SERVICE_LEVEL_SECONDS": int(env.get("QUEUE_SERVICE_LEVEL_SECONDS", "20")),
        "QUEUE_SHORT_ABANDON_SECONDS": int(env.get("QUEUE_SHORT_ABANDON_SECONDS", "5")),
        # The browser softphone (Twilio Voice JavaScript SDK): an API key and a TwiML app.
        "TWILIO_API_KEY": env.get("TWILIO_API_KEY", ""),
        "TWILIO_API_SECRET": env.get("TWILIO_API_SECRET", ""),
        "TWILIO_TWIML_APP_SID": env.get("TWILIO_TWIML_APP_SID", ""),
        "TWILIO_VOICE_SDK_URL": env.get("TWILIO_VOICE_SDK_URL", ""),
        # Live console streams (screen pop, wallboard) a web process serves at once.
        "LIVE_STREAMS_PER_PROCESS": int(env.get("LIVE_STREAMS_PER_PROCESS", "12")),
        # Knowledge base: public API requests per minute and address; how often (seconds)
        # the phone menu looks for changed articles.
        "KB_API_RATE_LIMIT": int(env.get("KB_API_RATE_LIMIT", "60")),
        "KB_PHONE_MENU_TTL": float(env.get("KB_PHONE_MENU_TTL", "10")),
        "TTS_VOICE": env.get("TTS_VOICE", "Polly.Zhiyu"),
        "TTS_LANGUAGE": env.get("TTS_LANGUAGE", "cmn-CN"),
        "VOICEMAIL_MAX_SECONDS": int(env.get("VOICEMAIL_MAX_SECONDS", "120")),
        # Transcription (docs/transcription.md).
        "RECORDINGS_DELETE_FROM_TWILIO": parse_bool(env.get("RECORDINGS_DELETE_FROM_TWILIO")),
        "RECORDING_MAX_BYTES": int(env.get("RECORDING_MAX_BYTES", str(50 * 1024 * 1024))),
        "TRANSCRIPTION_STUCK_MINUTES": int(env.get("TRANSCRIPTION_STUCK_MINUTES", "5")),
        "TRANSCRIPTION_MAX_ATTEMPTS": int(env.get("TRANSCRIPTION_MAX_ATTEMPTS", "8")),
        # Seconds between RQ retries of a failed download (Twilio publishes recordings late).
        "TRANSCRIPTION_RETRY_INTERVALS": [
            int(s) for s in env.get("TRANSCRIPTION_RETRY_INTERVALS", "30,120,600").split(",")
            if s.strip()
        ],
        # List Twilio's recordings during reconciliation (needs a real account).
        "TWILIO_RECONCILE": parse_bool(env.get("TWILIO_RECONCILE"), default=True),
        # Follow-through: survey callbacks, texts, reminders (docs/followup.md).
        # Unset: automatic calls only with a real Twilio account (else operators call).
        "FOLLOWUP_AUTO_CALLS": (parse_bool(env["FOLLOWUP_AUTO_CALLS"])
                                if env.get("FOLLOWUP_AUTO_CALLS") else None),
        "FOLLOWUP_DELAY": env.get("FOLLOWUP_DELAY", "next-working-day 09:30"),
        "FOLLOWUP_WINDOWS": env.get("FOLLOWUP_WINDOWS", "09:00-12:00,14:00-20:00"),
        "FOLLOWUP_MAX_ATTEMPTS": int(env.get("FOLLOWUP_MAX_ATTEMPTS", "3")),
        "FOLLOWUP_SPAN_WORKING_DAYS": int(env.get("FOLLOWUP_SPAN_WORKING_DAYS", "2")),
        # Minutes after a failed attempt before the next (moved into the calling window).
        "FOLLOWUP_RETRY_DELAYS": _ints(env.get("FOLLOWUP_RETRY_DELAYS", "240,1440")),
        # Seconds between retries of a failed REST request (429, 5xx, network).
        "FOLLOWUP_REST_RETRY_DELAYS": _ints(env.get("FOLLOWUP_REST_RETRY_DELAYS", "15,60,300")),
        # "" dials the E.164 number; e.g. sip:{number}@trunk.example.cn for a domestic trunk.
        "FOLLOWUP_DIAL_TEMPLATE": env.get("FOLLOWUP_DIAL_TEMPLATE", ""),
        "FOLLOWUP_CALLER_ID": env.get("FOLLOWUP_CALLER_ID") or None,
        "FOLLOWUP_CALLS_PER_SECOND": float(env.get("FOLLOWUP_CALLS_PER_SECOND", "1")),
        "FOLLOWUP_RING_SECONDS": int(env.get("FOLLOWUP_RING_SECONDS", "30")),
        "FOLLOWUP_RATING_ORDER": env.get("FOLLOWUP_RATING_ORDER", "ascending"),
        "FOLLOWUP_UNREACHABLE_RULE": env.get("FOLLOWUP_UNREACHABLE_RULE", "settle"),
        "ESCALATION_DECISION_DAYS": int(env.get("ESCALATION_DECISION_DAYS", "5")),
        "SMS_SENDER": env.get("SMS_SENDER", ""),
        "SMS_MESSAGING_SERVICE_SID": env.get("SMS_MESSAGING_SERVICE_SID", ""),
        "SMS_SIGNATURE": env.get("SMS_SIGNATURE", "【奉化8718】"),
        "HOTLINE_DISPLAY_NUMBER": env.get("HOTLINE_DISPLAY_NUMBER", "0574-88888718"),
        "REMINDER_ESCALATE_AFTER_DAYS": int(env.get("REMINDER_ESCALATE_AFTER_DAYS", "2")),
    }


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
