"""``flask call``: a phone line in the terminal."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from core.clock import fixed_clock, parse_local


@click.command("call")
@click.option("--url", default=None, help="base URL of a running hotline (default: in-process)")
@click.option("--from", "from_number", default="+8613800138000", show_default=True)
@click.option("--to", "to_number", default="+8657488888718", show_default=True)
@click.option("--digits", default="", help="keys, comma-separated (e.g. 1,3 or 9,2611270001#)")
@click.option("--voicemail", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="audio file to leave as the voicemail")
@click.option("--at", "at_text", default=None, help='local time, e.g. "2026-10-10 10:00"')
@click.option("--operator-answers", is_flag=True, help="the operator picks up when dialled")
def call_command(url: str | None, from_number: str, to_number: str, digits: str,
                 voicemail: Path | None, at_text: str | None, operator_answers: bool) -> None:
    """Walk a call through the IVR like Twilio would and print what the caller hears."""
    from ivr.phone import HttpTransport, InProcessTransport, TerminalPhone, Transport

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if url:
        if at_text:
            raise click.UsageError("--at only works in-process (without --url)")
        transport: Transport = HttpTransport(url)
        base_url = url.rstrip("/")
    else:
        if at_text:
            clock = fixed_clock(parse_local(at_text, app.config["HOTLINE_TZ"]))
            app.extensions["ivr_runtime"].clock = clock
        transport = InProcessTransport(app)
        base_url = app.config["PUBLIC_BASE_URL"]
    phone = TerminalPhone(
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
