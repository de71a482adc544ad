"""``flask call``: a phone line in the terminal."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from core.clock import fixed_clock, parse_local
from core.db import db


@click.command("call")
@click.option("--url", default=None, help="base URL of a running hotline (default: in-process)")
@click.option("--from", "from_number", default="+8613800138000", show_default=True)
@click.option("--to", "to_number", default="+8657488888718", show_default=True)
@click.option("--digits", default="", help="keys, comma-separated (e.g. 1,3 or 9,2611270001#)")
@click.option("--voicemail", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="audio file to leave as the voicemail")
@click.option("--at", "at_text", default=None,
              help='local time of the call, e.g. "2026-10-10 10:00" (with --url: a local '
                   'server only)')
@click.option("--operator-answers", is_flag=True, help="the operator picks up when dialled")
@click.option("--live", is_flag=True,
              help="in-process: write into the configured database (default: a throwaway one)")
def call_command(url: str | None, from_number: str, to_number: str, digits: str,
                 voicemail: Path | None, at_text: str | None, operator_answers: bool,
                 live: bool) -> None:
    """Walk a call through the IVR like Twilio would and print what the caller hears."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if url:
        if live:
            raise click.UsageError("--live only works in-process (without --url)")
        _call(app, url, from_number, to_number, digits, voicemail, at_text, operator_answers)
        return
    if live:
        click.echo(f"试拨写入正式数据库 / writing into the live database: "
                   f"{_shown(app.config['DATABASE_URL'])}")
        _call(app, None, from_number, to_number, digits, voicemail, at_text, operator_answers)
        return
    live_url = app.config["DATABASE_URL"]
    with tempfile.TemporaryDirectory(prefix="hotline-call-") as scratch:
        scratch_url = f"sqlite:///{scratch}/call.db"
        click.echo(f"试拨使用临时数据库，不写入正式数据库 / a throwaway database: {scratch_url} "
                   "(--live writes into the configured one)")
        try:
            _call(_scratch_app(app, scratch_url, Path(scratch)), None, from_number, to_number,
                  digits, voicemail, at_text, operator_answers)
        finally:
            db.configure(live_url)  # this process's database is the configured one again


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _scratch_app(app: Flask, url: str, scratch: Path) -> Flask:
    """The app on a migrated, seeded throwaway SQLite database, with no queues."""
    from app import create_app
    from cases.seed import seed_departments
    from migrations.runner import upgrade

    upgrade(url, quiet=True)  # the caller came to hear the menu, not the migrations
    config = {key: app.config[key] for key in app.config if key.isupper()}
    config.update(DATABASE_URL=url, REDIS_URL=None, RECORDINGS_DIR=str(scratch / "recordings"),
                  ON_RECORDING_COMPLETED=lambda _recording: None)
    scratch_app = create_app(config)
    scratch_app.extensions["ivr_runtime"].clock = app.extensions["ivr_runtime"].clock
    with db.transaction() as session:
        seed_departments(session)
    return scratch_app


def _call(app: Flask, url: str | None, from_number: str, to_number: str, digits: str,
          voicemail: Path | None, at_text: str | None, operator_answers: bool) -> None:
    from ivr.phone import HttpTransport, InProcessTransport, TerminalPhone, Transport

    transport: Transport
    at = parse_local(at_text, app.config["HOTLINE_TZ"]) if at_text else None
    if url:
        transport = HttpTransport(url)
        base_url = url.rstrip("/")
        if at is not None:
            click.echo(f"试拨时间 / simulated time: {at:%Y-%m-%d %H:%M} (honoured only by a "
                       "local server: loopback, http, no proxy)")
    else:
        if at is not None:
            app.extensions["ivr_runtime"].clock = fixed_clock(at)
        transport = InProcessTransport(app)
        base_url = app.config["PUBLIC_BASE_URL"]
    phone = TerminalPhone(
        simulated_at=at if url else None,
        transport=transport,
        base_url=base_url,
        auth_token=app.config["TWILIO_AUTH_TOKEN"],
        account_sid=app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        echo=click.echo,
    )
    keys = [k.strip() for k in digits.split(",") if k.strip()]
    outcome = phone.call(
        from_number=from_number, to_number=to_number, keys=keys, voicemail=voicemail,
        operator_answers=operator_answers,
        # A worker fetches the file after the call; keep serving it until then.
        wait_for_fetch=120.0 if voicemail and app.config.get("REDIS_URL") else 0.0,
    )
    click.echo(f"— call {outcome.call_sid} ended: {outcome.reason}")
