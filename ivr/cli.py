"""``flask call``: a phone line in the terminal."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from core.clock import clock_of, parse_local
from core.db import db
from ivr.switchboard import CallerScript, OperatorPolicy, Switchboard, VirtualClock


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
@click.option("--operator-answers", is_flag=True,
              help="a flow's dial node: the operator group picks up when dialled")
@click.option("--wait-keys", default="",
              help='in the queue: keys pressed after so many seconds of waiting, e.g. "40:1"')
@click.option("--hang-up-after", type=float, default=None,
              help="in the queue: the caller hangs up after this many seconds of waiting")
@click.option("--operator", "operators", multiple=True,
              help="in-process: a simulated operator on duty, NAME[:ANSWER_AFTER[:TALK]] "
                   "seconds (ANSWER_AFTER 'none': never answers); repeatable")
@click.option("--live", is_flag=True,
              help="in-process: write into the configured database (default: a throwaway one)")
def call_command(url: str | None, from_number: str, to_number: str, digits: str,
                 voicemail: Path | None, at_text: str | None, operator_answers: bool,
                 wait_keys: str, hang_up_after: float | None, operators: tuple[str, ...],
                 live: bool) -> None:
    """Walk a call through the IVR like Twilio would and print what the caller hears."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    call = Call(from_number=from_number, to_number=to_number, digits=digits,
                voicemail=voicemail, at_text=at_text, operator_answers=operator_answers,
                script=_script(wait_keys, hang_up_after), operators=operators)
    if url:
        if live:
            raise click.UsageError("--live only works in-process (without --url)")
        if operators:
            raise click.UsageError("--operator only works in-process: a running server rings "
                                   "real devices through Twilio")
        _call(app, url, call)
        return
    if live:
        click.echo(f"试拨写入正式数据库 / writing into the live database: "
                   f"{_shown(app.config['DATABASE_URL'])}")
        _call(app, None, call)
        return
    live_url = app.config["DATABASE_URL"]
    with tempfile.TemporaryDirectory(prefix="hotline-call-") as scratch:
        scratch_url = f"sqlite:///{scratch}/call.db"
        click.echo(f"试拨使用临时数据库，不写入正式数据库 / a throwaway database: {scratch_url} "
                   "(--live writes into the configured one)")
        try:
            _call(_scratch_app(app, scratch_url, Path(scratch)), None, call)
        finally:
            db.configure(live_url)  # this process's database is the configured one again


@dataclass(frozen=True)
class Call:
    from_number: str
    to_number: str
    digits: str
    voicemail: Path | None
    at_text: str | None
    operator_answers: bool
    script: CallerScript
    operators: tuple[str, ...]


def _script(wait_keys: str, hang_up_after: float | None) -> CallerScript:
    keys: list[tuple[float, str]] = []
    for part in (p.strip() for p in wait_keys.split(",") if p.strip()):
        seconds, _, key = part.partition(":")
        try:
            keys.append((float(seconds), key.strip()))
        except ValueError:
            raise click.BadParameter(f"{part!r}: SECONDS:KEY, e.g. 40:1",
                                     param_hint="--wait-keys") from None
    return CallerScript(wait_keys=keys, hang_up_after=hang_up_after)


def _operator(spec: str) -> tuple[str, OperatorPolicy]:
    name, *numbers = spec.split(":")
    try:
        answer = None if numbers and numbers[0] == "none" else float(
            numbers[0]) if numbers else 3.0
        talk = float(numbers[1]) if len(numbers) > 1 else 60.0
    except ValueError:
        raise click.BadParameter(f"{spec!r}: NAME[:ANSWER_AFTER[:TALK]]",
                                 param_hint="--operator") from None
    return name.strip(), OperatorPolicy(answer_after=answer, talk_seconds=talk)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _scratch_app(app: Flask, url: str, scratch: Path) -> Flask:
    """The app on a migrated, seeded throwaway SQLite database, with no queues.

    Built by the factory that built ``app`` (``app.extensions["app_factory"]``).
    """
    from cases.seed import seed_departments
    from migrations.runner import upgrade

    upgrade(url, quiet=True)  # the caller came to hear the menu, not the migrations
    config = {key: app.config[key] for key in app.config if key.isupper()}
    config.update(DATABASE_URL=url, REDIS_URL=None, RECORDINGS_DIR=str(scratch / "recordings"),
                  ON_RECORDING_COMPLETED=lambda _recording: None)
    scratch_app = app.extensions["app_factory"](config)
    scratch_app.extensions["ivr_runtime"].clock = app.extensions["ivr_runtime"].clock
    scratch_app.extensions["queue_runtime"].clock = app.extensions["queue_runtime"].clock
    with db.transaction() as session:
        seed_departments(session)
    return scratch_app


def _call(app: Flask, url: str | None, call: Call) -> None:
    from ivr.phone import HttpTransport, InProcessTransport, TerminalPhone, Transport

    transport: Transport
    at = parse_local(call.at_text, app.config["HOTLINE_TZ"]) if call.at_text else None
    account_sid = app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    clock: VirtualClock | None = None
    if url:
        transport = HttpTransport(url)
        base_url = url.rstrip("/")
        if at is not None:
            click.echo(f"试拨时间 / simulated time: {at:%Y-%m-%d %H:%M} (honoured only by a "
                       "local server: loopback, http, no proxy)")
    else:
        # In-process, the call's time is the switchboard's: it moves while callers wait.
        clock = VirtualClock(at or clock_of(app.config)())
        app.extensions["ivr_runtime"].clock = clock
        app.extensions["queue_runtime"].clock = clock
        transport = InProcessTransport(app)
        base_url = app.config["PUBLIC_BASE_URL"]
    phone = TerminalPhone(
        simulated_at=at if url else None,
        transport=transport,
        base_url=base_url,
        auth_token=app.config["TWILIO_AUTH_TOKEN"],
        account_sid=account_sid,
        echo=click.echo,
    )
    if clock is not None:
        phone.switchboard = Switchboard(clock, phone.signed_post, account_sid=account_sid,
                                        echo=click.echo)
        if call.operators:
            _on_duty(app, phone.switchboard, [_operator(spec) for spec in call.operators])
    keys = [k.strip() for k in call.digits.split(",") if k.strip()]
    outcome = phone.call(
        from_number=call.from_number, to_number=call.to_number, keys=keys,
        voicemail=call.voicemail, operator_answers=call.operator_answers, queue=call.script,
        # A worker fetches the file after the call; keep serving it until then.
        wait_for_fetch=120.0 if call.voicemail and app.config.get("REDIS_URL") else 0.0,
    )
    if clock is not None:
        phone.switchboard.run()  # what follows the caller's hang-up (the operator's side)
    click.echo(f"— call {outcome.call_sid} ended: {outcome.reason}")


def _on_duty(app: Flask, board: Switchboard, operators: list[tuple[str, OperatorPolicy]]
             ) -> None:
    """Simulated operators on duty (``app.extensions["simulated_operators"]``, given by the
    console, which owns accounts): their devices are the switchboard's."""
    sign_in = app.extensions["simulated_operators"]
    devices = sign_in(app, board.http_client, [name for name, _policy in operators])
    for device, (name, policy) in zip(devices, operators, strict=True):
        board.operators[device] = policy
        click.echo(f"模拟坐席 {name} 空闲（设备 {device}）")
