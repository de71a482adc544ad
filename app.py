"""Application factory: assembles config, database, flows, blueprints and CLI. No work at import."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from call_flows.engine import FlowEngine, VoiceSettings
from call_flows.flow import FlowError, load_flows
from call_flows.hooks import HookRegistry, HookServices, default_registry
from call_flows.validator import validate_flow
from callqueue import ivr_hooks as queue_hooks
from callqueue.cli import queue_cli
from callqueue.jobs import end_wrapup_job, placement_job
from callqueue.live import LiveBus
from callqueue.placement import InlinePlacer, QueuedPlacer, thread_fallback
from callqueue.runtime import QueueRuntime, runtime_from_config
from callqueue.webhooks import bp as queue_webhooks
from cases.call_log import use_call_log
from cases.deadlines import use_office_hours
from console.operators_cli import operators_cli
from core import config as config_module
from core.bulkhead import Bulkhead
from core.clock import system_clock
from core.db import db
from core.files import private_directory, restrict_new_files
from core.models import import_all_models
from core.queues import CALLS, DEFAULT, connect_fast
from core.security_headers import add_security_headers
from core.sessions import BrowserSessionInterface
from extraction.cli import speech_cli
from extraction.listeners import subscribe_listeners
from followup.queries import is_survey_comment
from followup.survey_hooks import rating_options
from ivr.eventlog import CallLogQueue
from ivr.operator_recordings import is_operator_recording
from ivr.service import IvrRuntime
from ivr.voicemail_log import VoicemailCallLog
from knowledge.phone import attach_phone_menu
from transcription.dispatch import recording_dispatcher
from transcription.recovery import transcription_retrier
from workdays.calendar import WorkCalendar
from workdays.office_hours import OfficeHours, parse_windows
from workdays.store import CalendarProvider

log = logging.getLogger("hotline")

BLUEPRINTS = ("core.health:bp", "ivr.routes:bp", "api.routes:bp", "console.views:bp",
              "followup.routes:bp", "messaging.routes:bp", "knowledge.api:bp")
CLI_GROUPS = ("core.cli:db_cli", "core.cli:seed_command", "workdays.cli:workdays_cli",
              "call_flows.cli:flows_cli", "ivr.cli:call_command",
              "cases.cli:cases_cli", "api.cli:api_tokens_cli",
              "transcription.cli:model_cli", "transcription.cli:transcribe_command",
              "transcription.cli:jobs_cli", "console.cli:users_cli",
              "followup.cli:followups_cli", "knowledge.cli:kb_cli",
              "recordings.cli:recordings_cli", "reports.cli:reports_cli")
# ``init_app(app)`` hooks run before blueprints are registered (CSRF, session cookies).
APP_HOOKS: tuple[str, ...] = ("console:init_app", "followup.listeners:init_app",
                              "followup.jobs:init_app", "recordings:init_app",
                              "reports.web:init_app", "ivr.operator_recordings:init_app")
# Modules exposing ``register(registry)`` to add their IVR conditions and hooks.
HOOK_PROVIDERS: tuple[str, ...] = ("cases.ivr_hooks", "followup.survey_hooks",
                                   "knowledge.phone")


def _load(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_hooks() -> HookRegistry:
    registry = default_registry()
    for name in HOOK_PROVIDERS:
        importlib.import_module(name).register(registry)
    queue_hooks.register(registry)
    return registry


def build_flow_engine(app: Flask, registry: HookRegistry) -> FlowEngine:
    """Load and validate every flow; an invalid flow stops the app from starting."""
    flows = load_flows()
    problems = [p for flow in flows.values() for p in validate_flow(flow, registry)]
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        log.warning("%s", problem)
    if errors:
        raise FlowError("invalid call flow(s):\n" + "\n".join(str(p) for p in errors))
    cfg = app.config
    windows = parse_windows(cfg["OFFICE_HOURS"])
    hours_text = "、".join(f"{a:%H:%M}至{b:%H:%M}" for a, b in windows)
    settings = VoiceSettings(
        base_url=cfg["PUBLIC_BASE_URL"],
        voice=cfg["TTS_VOICE"],
        language=cfg["TTS_LANGUAGE"],
        operator_targets=tuple(t.strip() for t in cfg["OPERATOR_NUMBER"].split(",") if t.strip()),
        dial_timeout=cfg["OPERATOR_DIAL_TIMEOUT"],
        caller_id=cfg.get("TWILIO_CALLER_ID") or None,
        voicemail_max_seconds=cfg["VOICEMAIL_MAX_SECONDS"],
        variables={"office_hours": hours_text,
                   "rating_options": rating_options(cfg["FOLLOWUP_RATING_ORDER"])},
    )
    return FlowEngine(flows, registry, settings)


def warn_about_calendar(app: Flask) -> None:
    """Log once when this or next year has no official working-day schedule.

    Called by the web server once per start (``workers.gunicorn_conf``), not by every CLI
    command or worker that builds an app.
    """
    tz = ZoneInfo(app.config["HOTLINE_TZ"])
    try:
        calendar = app.extensions["calendars"].get()
    except Exception:  # the database may not be migrated yet
        db.session.rollback()
        calendar = WorkCalendar()
    finally:
        # Never hold a connection (or an SQLite lock) past start-up.
        db.session.remove()
    year = datetime.now(tz).year
    missing = calendar.years_without_data([year, year + 1])
    if missing:
        log.warning(
            "working-day calendar: no official data for %s; using the provisional Mon–Fri "
            "fallback minus statutory holidays. Add the State Council's schedule with "
            "`flask --app app workdays set` or upgrade chinesecalendar.",
            ", ".join(map(str, missing)),
        )


def _call_log_queue(config: Mapping[str, Any]) -> CallLogQueue | None:
    """Menu steps are logged through Redis when it is configured (see ivr.eventlog)."""
    if not config.get("REDIS_URL") or not config.get("CALL_LOG_ASYNC", True):
        return None
    return CallLogQueue(connect_fast(config["REDIS_URL"]), drain_queue=DEFAULT)


class _RqWrapUpTimer:
    """Ends an operator's wrap-up on time: a job scheduled for that moment."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def end_at(self, agent_id: int, at: datetime) -> None:
        from redis.exceptions import RedisError
        from rq import Queue

        try:
            Queue(CALLS, connection=self.connection).enqueue_at(
                at, end_wrapup_job, agent_id, result_ttl=0, failure_ttl=86400)
        except RedisError as exc:  # the periodic tick and every dispatch end it too
            log.warning("could not schedule the end of a wrap-up (%s)", exc)


def build_queue_runtime(app: Flask, clock: Any, office_hours: Any) -> QueueRuntime:
    """The call queue's runtime: live events through Redis pub/sub, devices rung by jobs on
    the ``calls`` queue (a thread while Redis is away), or in the request without Redis."""
    url = app.config.get("REDIS_URL")
    connection = connect_fast(url) if url else None
    runtime = runtime_from_config(app.config, clock=clock, bus=LiveBus(connection),
                                  office_hours=office_hours)
    if connection is None:
        runtime.placer = InlinePlacer(runtime, db.session)
        return runtime

    def enqueue(what: str, items: list[Any]) -> None:
        from rq import Queue

        Queue(CALLS, connection=connection).enqueue(placement_job, what, items, result_ttl=0,
                                                    failure_ttl=7 * 86400)

    runtime.placer = QueuedPlacer(enqueue, thread_fallback(app, runtime))
    runtime.wrapup_timer = _RqWrapUpTimer(connection)
    return runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the hotline app; ``config`` overrides values read from the environment."""
    settings = config_module.from_env()
    settings.update(config or {})
    config_module.finalize(settings)

    restrict_new_files()
    private_directory(Path(settings["INSTANCE_PATH"]))
    if settings.get("RECORDINGS_DIR"):
        private_directory(Path(settings["RECORDINGS_DIR"]))
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    app.session_interface = BrowserSessionInterface()
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Client address (login throttle, logs) and scheme as the trusted proxies saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    add_security_headers(app)  # HSTS over https
    # Webhooks keep threads of their own whatever the public pages are waiting on.
    app.wsgi_app = Bulkhead(app.wsgi_app, int(app.config["WEB_PUBLIC_SLOTS"]))  # type: ignore[method-assign]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import_all_models()
    db.configure(app.config["DATABASE_URL"])
    app.teardown_appcontext(lambda _exc: db.session.remove())

    tz = config_module.hotline_zone(app.config)
    use_office_hours(app.config["OFFICE_HOURS"])
    calendars = CalendarProvider(db.session)
    windows = parse_windows(app.config["OFFICE_HOURS"])
    clock = app.config.get("CLOCK") or system_clock

    def office_open(at: datetime) -> bool:
        return OfficeHours(windows, calendars.get(), tz).is_open(at)

    use_call_log(VoicemailCallLog(not_voicemail=(is_survey_comment, is_operator_recording)))
    registry = build_hooks()
    engine = build_flow_engine(app, registry)
    # The phone FAQ menu under 政策咨询 follows the knowledge base without a restart.
    attach_phone_menu(engine, registry, clock=clock, tz=tz,
                      ttl=float(app.config.get("KB_PHONE_MENU_TTL", 10)))
    app.extensions["calendars"] = calendars
    queue_runtime = build_queue_runtime(
        app, clock, lambda: OfficeHours(windows, calendars.get(), tz))
    app.extensions["queue_runtime"] = queue_runtime
    # The console's "retry" button (the console does not import the workers package).
    app.extensions["transcription_retry"] = transcription_retrier(app.config)
    app.extensions["ivr_runtime"] = IvrRuntime(
        engine=engine,
        clock=clock,
        services=HookServices(office_open=office_open, calendars=calendars, tz=tz,
                              queue=queue_runtime),
        on_recording_completed=app.config.get("ON_RECORDING_COMPLETED")
        or recording_dispatcher(app.config),
        call_log=_call_log_queue(app.config),
    )

    for spec in APP_HOOKS:
        _load(spec)(app)
    for spec in BLUEPRINTS:
        app.register_blueprint(_load(spec))
    app.register_blueprint(queue_webhooks)
    for spec in CLI_GROUPS:
        app.cli.add_command(_load(spec))
    app.cli.add_command(queue_cli)
    app.cli.add_command(operators_cli)
    # Case fields read from what callers said (extraction/).
    subscribe_listeners()
    app.cli.add_command(speech_cli)

    if app.config.get("TWILIO_SIGNATURE_BYPASS_REFUSED"):
        log.error("TWILIO_SIGNATURE_BYPASS refused: PUBLIC_BASE_URL is https (a real deployment);"
                  " webhook signatures are checked")
    if app.config.get("TWILIO_SIGNATURE_BYPASS"):
        log.warning("TWILIO_SIGNATURE_BYPASS is ON: webhooks are NOT authenticated (local only)")
    return app
