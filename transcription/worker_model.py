"""The speech model in a worker process: loaded before forking, or as soon as one is installed.

A worker that finds a model (at start, or installed while it runs) re-enqueues the recordings
that waited for one (docs/decisions.md §4).
"""

from __future__ import annotations

import logging
from typing import Any

from core.db import db
from core.queues import connect
from transcription import pipeline
from transcription.engine import loaded_engine, model_problems, preload
from transcription.model_setup import ensure_configured_model
from transcription.recovery import requeue_awaiting_model

log = logging.getLogger(__name__)


def _requeue_waiting(app: Any) -> None:
    if not app.config.get("REDIS_URL"):
        return
    with app.app_context():
        session = db.session()
        try:
            jids = requeue_awaiting_model(session, connect(app.config["REDIS_URL"]), app.config)
            session.commit()
            if jids:
                log.info("model available: %d recording(s) awaiting it re-enqueued", len(jids))
        except Exception:  # the reconciliation catches them later
            session.rollback()
            log.exception("could not re-enqueue recordings awaiting the model")
        finally:
            db.session.remove()


def preload_speech_model(app: Any) -> None:
    """Worker PRELOADER: load the model before forking; say plainly if there is none."""
    path = pipeline.model_path(app.config)
    ensure_configured_model(app.config, path)  # VOSK_MODEL_URL: this node installs its own
    if preload(path) is None:
        log.warning(
            "未安装语音模型，留言录音将保存并标记为“等待模型” / no speech model at %s: "
            "voicemails are kept as awaiting_model until one is installed with "
            "`flask --app app model install --zip FILE` (or --url URL --sha256 HEX)", path,
        )
        return
    _requeue_waiting(app)


def ensure_speech_model(app: Any) -> None:
    """Before forking a transcription job: load a model installed since the worker started."""
    path = pipeline.model_path(app.config)
    if loaded_engine(path) is not None or model_problems(path):
        return
    if preload(path) is not None:
        log.info("speech model installed while running: loaded %s in the worker", path)
        _requeue_waiting(app)
