"""Application factory: assembles config, database, flows, blueprints and CLI. No work at import."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Blueprint, Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

import api.models
import callqueue.models
import cases.case_models
import cases.lookup_guard
import cases.models
import cases.notice_models
import cases.notifications
import casesearch.models
import console
import console.models
import extraction.models
import followup.models
import ivr.models
import knowledge.models
import live.models
import messaging.models
import recordings
import reports.models
import transcription.corrections
import transcription.models
import workdays.models
from api import routes as api_routes
from api.cli import api_tokens_cli
from api.seed import seed_api_tokens
from call_flows.cli import flows_cli
from call_flows.engine import FlowEngine, VoiceSettings
from call_flows.flow import FlowError, load_flows
from call_flows.hooks import HookRegistry, HookServices, default_registry
from call_flows.validator import missing_flows, validate_flow
from callqueue import ivr_hooks as queue_hooks
from callqueue import webhooks as queue_webhooks
from callqueue.cli import queue_cli
from callqueue.jobs import end_wrapup_job, placement_job
from callqueue.live import LiveBus
from callqueue.placement import InlinePlacer, QueuedPlacer, thread_fallback
from callqueue.runtime import QueueRuntime, runtime_from_config
from cases.cli import cases_cli
from cases.deadlines import close_of_business
from cases.events import CaseAnswered, CaseTextArrived, RatingRecorded, RecordingTranscribed
from cases.seed import seed_reference_data
from cases.services import CaseServices
from casesearch.cli import case_search_cli
from console import views as console_views
from console.cli import users_cli
from console.operators_cli import operators_cli
from console.seed import seed_console
from console.users import liaison_phones
from core import config as config_module
from core import health
from core.bulkhead import Bulkhead
from core.cli import Seeder, db_cli, seed_command_for
from core.clock import clock_of
from core.db import db, set_write_intent
from core.files import private_directory, restrict_new_files
from core.queues import CALLS, DEFAULT, connect_fast
from core.security_headers import add_security_headers
from core.sessions import BrowserSessionInterface
from core.settings import setting
from extraction import listeners as extraction_listeners
from extraction.cli import speech_cli
from followup import jobs as followup_jobs
from followup import listeners as followup_listeners
from followup import routes as followup_routes
from followup import survey_hooks
from followup.cli import followups_cli
from followup.queries import is_survey_comment
from followup.survey_hooks import rating_options
from importing.cli import import_command
from ivr import case_hooks, operator_recordings
from ivr import routes as ivr_routes
from ivr.cli import call_command
from ivr.eventlog import CallLogQueue
from ivr.jobs import drain_call_log
from ivr.operator_recordings import is_operator_recording
from ivr.service import IvrRuntime
from ivr.voicemail_log import VoicemailCallLog
from knowledge import api as knowledge_api
from knowledge import phone as knowledge_phone
from knowledge.cli import kb_cli
from knowledge.phone import attach_phone_menu
from knowledge.seed import seed_knowledge
from live.urls import live_stream_url
from messaging import routes as messaging_routes
from recordings.cli import recordings_cli
from reports import web as reports_web
from reports.cli import reports_cli
from transcription.cli import jobs_cli, model_cli, transcribe_command
from transcription.dispatch import recording_dispatcher
from transcription.recovery import transcription_retrier
from workdays.calendar import WorkCalendar
from workdays.cli import workdays_cli
from workdays.office_hours import OfficeHours, parse_windows
from workdays.store import CalendarProvider

log = logging.getLogger("hotline")

# Every model module, imported so that ``Base.metadata`` is complete (Alembic, create_all).
MODEL_MODULES: tuple[ModuleType, ...] = (
    ivr.models, workdays.models, cases.models, cases.case_models, api.models,
    transcription.models, transcription.corrections, console.models, cases.notice_models,
    messaging.models, followup.models, cases.notifications, cases.lookup_guard,
    knowledge.models, reports.models, callqueue.models, extraction.models, live.models,
    casesearch.models,
)
# Everything else the app is made of, registered by importing the objects (a module renamed or
# removed fails at import, and mypy and the import-graph test see every edge).
BLUEPRINTS: tuple[Blueprint, ...] = (
    health.bp, ivr_routes.bp, api_routes.bp, console_views.bp, followup_routes.bp,
    messaging_routes.bp, knowledge_api.bp, queue_webhooks.bp,
)
# Blueprints authenticated otherwise than by a session cookie: no CSRF token to check.
CSRF_EXEMPT: tuple[Blueprint, ...] = (
    ivr_routes.bp,  # Twilio signatures
    api_routes.bp,  # bearer tokens
    followup_routes.bp,  # Twilio signatures (survey calls)
    messaging_routes.bp,  # Twilio signatures (delivery status)
    queue_webhooks.bp,  # Twilio signatures (the call queue)
)
# Each seeder takes (session, demo) and returns a line to print; idempotent.
SEEDERS: tuple[Seeder, ...] = (seed_reference_data, seed_api_tokens, seed_console,
                               seed_knowledge)
CLI_GROUPS: tuple[click.Command, ...] = (
    db_cli, seed_command_for(SEEDERS), workdays_cli, flows_cli, call_command,
    cases_cli(import_command),
    api_tokens_cli, model_cli, transcribe_command, jobs_cli, users_cli, followups_cli, kb_cli,
    recordings_cli, reports_cli, queue_cli, operators_cli, speech_cli, case_search_cli,
)
# ``init_app(app)`` hooks, run before blueprints are registered (session cookies, settings).
APP_HOOKS: tuple[Callable[[Flask], None], ...] = (
    console.init_app, followup_listeners.init_app, followup_jobs.init_app, recordings.init_app,
    reports_web.init_app,
)
# Who reacts to what happens to cases (cases.events), in this order; carried by every
# session of the app (cases.services).
CASE_LISTENERS: Mapping[type, tuple[Callable[[Any], Any], ...]] = {
    CaseAnswered: (followup_listeners.case_answered,),
    RatingRecorded: (followup_listeners.rating_recorded,),
    RecordingTranscribed: (followup_listeners.comment_transcribed,
                           operator_recordings.operator_transcribed),
    CaseTextArrived: (extraction_listeners.on_case_text,),
}
# Who adds IVR conditions and hooks to the flows' registry.
HOOK_PROVIDERS: tuple[Callable[[HookRegistry], None], ...] = (
    case_hooks.register, survey_hooks.register, knowledge_phone.register,
    queue_hooks.register,
)


def import_all_models() -> tuple[ModuleType, ...]:
    """The model modules (imported with this module): for scripts, tests and migrations."""
    return MODEL_MODULES


def build_hooks() -> HookRegistry:
    registry = default_registry()
    for register in HOOK_PROVIDERS:
        register(registry)
    return registry


def build_flow_engine(app: Flask, registry: HookRegistry) -> FlowEngine:
    """Load and validate every flow; an invalid flow stops the app from starting."""
    flows = load_flows()
    problems = [*missing_flows(flows),
                *(p for flow in flows.values() for p in validate_flow(flow, registry))]
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
        live_stream_url=live_stream_url(cfg),
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
    year = clock_of(app.config)().astimezone(tz).year
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
    return CallLogQueue(connect_fast(config["REDIS_URL"]), drain_queue=DEFAULT,
                        drain_job=drain_call_log)


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
    proxies = int(setting(app.config, "TRUSTED_PROXIES"))
    if proxies:
        # Client address (login throttle, logs) and scheme as the trusted proxies saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    add_security_headers(app)  # HSTS over https
    # Webhooks keep threads of their own whatever the public pages are waiting on.
    app.wsgi_app = Bulkhead(app.wsgi_app, int(app.config["WEB_PUBLIC_SLOTS"]))  # type: ignore[method-assign]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    services = CaseServices(
        tz=config_module.hotline_zone(settings), listeners=CASE_LISTENERS,
        liaison_phones=liaison_phones,
        closes_at=close_of_business(app.config["OFFICE_HOURS"]),
        call_log=VoicemailCallLog(not_voicemail=(is_survey_comment, is_operator_recording)))
    db.configure(app.config["DATABASE_URL"], session_info=services.session_info())
    app.teardown_appcontext(lambda _exc: db.session.remove())

    @app.before_request
    def _form_posts_take_the_write_lock_first() -> None:
        # SQLite: a console or API write waits for the lock instead of failing with
        # "database is locked" after its first read (core.db.write_intent). Webhooks read
        # mostly and take the lock where they write (ivr.service).
        set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS")
                         and not request.path.startswith("/ivr/"))

    # The flag lives in the thread's context: a request served in the caller's thread (the
    # test client, `flask call`) must not leave every later transaction there taking SQLite's
    # write lock — a test or CLI holding it would lock the web server out.
    app.teardown_request(lambda _exc: set_write_intent(False))

    tz = config_module.hotline_zone(app.config)
    calendars = CalendarProvider(db.session)
    windows = parse_windows(app.config["OFFICE_HOURS"])
    clock = clock_of(app.config)

    def office_open(at: datetime) -> bool:
        return OfficeHours(windows, calendars.get(), tz).is_open(at)

    registry = build_hooks()
    engine = build_flow_engine(app, registry)
    # The phone FAQ menu under 政策咨询 follows the knowledge base without a restart.
    attach_phone_menu(engine, registry, clock=clock, tz=tz,
                      ttl=float(setting(app.config, "KB_PHONE_MENU_TTL")))
    app.extensions["calendars"] = calendars
    # `flask call` builds a throwaway app of the same kind (ivr.cli).
    app.extensions["app_factory"] = create_app
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

    for init_app in APP_HOOKS:
        init_app(app)
    csrf = app.extensions["csrf"]
    for blueprint in CSRF_EXEMPT:
        csrf.exempt(blueprint)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for command in CLI_GROUPS:
        app.cli.add_command(command)

    if app.config.get("TWILIO_SIGNATURE_BYPASS_REFUSED"):
        log.error("TWILIO_SIGNATURE_BYPASS refused: PUBLIC_BASE_URL is https (a real deployment);"
                  " webhook signatures are checked")
    if app.config.get("TWILIO_SIGNATURE_BYPASS"):
        log.warning("TWILIO_SIGNATURE_BYPASS is ON: webhooks are NOT authenticated (local only)")
    return app
