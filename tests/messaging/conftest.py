"""Texts are sent by jobs run in-process against the fake Twilio REST API of follow-up's tests."""

from __future__ import annotations

from tests.followup.conftest import app_config, jobs, session, twilio_http

__all__ = ["app_config", "jobs", "session", "twilio_http"]
