"""``flask api-tokens ...``: per-channel tokens for the intake API."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from api.tokens import create_token, list_tokens, revoke_token
from cases.errors import InvalidInput
from cases.vocab import CHANNEL_LABELS, Channel
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db

api_tokens_cli = AppGroup("api-tokens", help="接口令牌：创建、列出、吊销。")


@api_tokens_cli.command("create")
@click.argument("channel", type=click.Choice([c.value for c in Channel]))
@click.option("--name", default=None, help="who uses it (e.g. 公共服务平台)")
def create_command(channel: str, name: str | None) -> None:
    """Create a token for CHANNEL; the token is printed once and stored only hashed."""
    try:
        with db.transaction() as session:
            row, plaintext = create_token(session, channel, name or CHANNEL_LABELS[channel],
                                          now=clock_of(current_app.config)())
            token_id = row.id
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"token #{token_id} for {channel} ({CHANNEL_LABELS[channel]}):")
    click.echo(plaintext)
    click.echo("请妥善保存：令牌只显示这一次 (shown once; only its hash is stored).")


@api_tokens_cli.command("list")
def list_command() -> None:
    """List tokens (never the secrets); times are local (HOTLINE_TZ), as in the console."""
    tz = hotline_zone(current_app.config)
    for row in list_tokens(db.session()):
        revoked = row.revoked_at.astimezone(tz) if row.revoked_at else None
        state = f"revoked {revoked:%Y-%m-%d}" if revoked else "active"
        used = (f"{row.last_used_at.astimezone(tz):%Y-%m-%d %H:%M}" if row.last_used_at
                else "never")
        click.echo(f"#{row.id}  {row.channel:<18} {row.prefix}…  {row.name}  {state}  "
                   f"last used {used}")


@api_tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke token TOKEN_ID."""
    with db.transaction() as session:
        done = revoke_token(session, token_id, now=clock_of(current_app.config)())
    if not done:
        raise click.ClickException(f"no active token #{token_id}")
    click.echo(f"token #{token_id} revoked")
