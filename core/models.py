"""Imports every model module so ``Base.metadata`` is complete (Alembic, create_all)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "ivr.models",
    "workdays.models",
    "cases.models",
    "cases.case_models",
    "api.models",
    "transcription.models",
    "transcription.corrections",
    "console.models",
    "cases.notice_models",
    "messaging.models",
    "followup.models",
    "cases.notifications",
    "cases.lookup_guard",
    "knowledge.models",
    "reports.models",
    "callqueue.models",
    "extraction.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
