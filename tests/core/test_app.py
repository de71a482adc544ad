"""The app factory, migrations and health."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import Base, db
from migrations.runner import include_name


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_app_starts_against_an_existing_database(app_config):
    from app import create_app

    first = create_app(app_config)
    second = create_app(app_config)
    assert first.extensions["ivr_runtime"] is not second.extensions["ivr_runtime"]


def test_sqlite_upgrade_from_empty_then_downgrade(tmp_path):
    from sqlalchemy import create_engine, inspect

    from migrations.runner import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert "calls" in inspect(create_engine(url)).get_table_names()
    downgrade(url, "base")
    assert "calls" not in inspect(create_engine(url)).get_table_names()


def test_invalid_flow_stops_the_app(app_config, monkeypatch, tmp_path):
    import app as app_module
    from call_flows import flow as flow_module

    (tmp_path / "hotline.yaml").write_text("start: a\nnodes:\n  a: {type: say, prompt: x}\n")
    monkeypatch.setattr(flow_module, "FLOWS_DIR", tmp_path)
    monkeypatch.setattr(app_module, "load_flows", lambda: flow_module.load_flows(tmp_path))
    with pytest.raises(flow_module.FlowError, match="dead end"):
        app_module.create_app(app_config)


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_config_comes_from_the_environment(monkeypatch, tmp_path):
    from core.config import from_env

    config = from_env({"PORT": "5055", "RECORDING_HOSTS": "api.twilio.com, 127.0.0.1",
                       "HOTLINE_TZ": "Asia/Shanghai"}, tmp_path)
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5055"
    assert config["RECORDING_HOSTS"] == ["api.twilio.com", "127.0.0.1"]
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'hotline.db'}"


def test_no_secret_defaults_in_config(tmp_path):
    from core.config import finalize, from_env

    first = finalize(from_env({}, tmp_path))
    assert len(first["SECRET_KEY"]) == 64
    assert finalize(from_env({}, tmp_path))["SECRET_KEY"] == first["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_webhooks_neither_read_nor_set_a_session_cookie(app, client, twilio_post):
    from flask.sessions import SecureCookieSessionInterface

    # A valid, permanent login cookie: a browser session refreshes it on every response.
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    cookie = serializer.dumps({"_permanent": True, "uid": 1})
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert "Set-Cookie" in client.get("/console/login").headers  # the cookie is live
    response = twilio_post("/ivr/voice", {"CallSid": "CA1", "From": "+8613800138000",
                                          "To": "+8657488888718", "CallStatus": "ringing"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_gunicorn_workers_freeze_start_up_objects():
    import gc

    from workers.gunicorn_conf import post_worker_init

    try:
        post_worker_init(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
