"""``flask recordings migrate --to s3://…``: move stored recordings to another store."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from core.db import db
from recordings.config import open_store, store_url
from recordings.migrate import migrate


@click.group("recordings", help="录音存储 / where voicemail audio is stored.")
def recordings_cli() -> None:
    pass


@recordings_cli.command("migrate")
@click.option("--to", "target_url", required=True, help="s3://bucket/prefix or file:///dir")
@click.option("--from", "source_url", default=None,
              help="Default: this node's store (RECORDINGS_URL or RECORDINGS_DIR).")
@click.option("--quiet", is_flag=True, help="Only the summary.")
@with_appcontext
def migrate_command(target_url: str, source_url: str | None, quiet: bool) -> None:
    """Copy every recording, checked by SHA-256; safe to interrupt and run again."""
    config = current_app.config
    source_url = source_url or store_url(config)
    if source_url.rstrip("/") == target_url.rstrip("/"):
        raise click.UsageError("--to names the store the recordings are already in")
    try:
        source, target = open_store(config, source_url), open_store(config, target_url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    def progress(sid: str, outcome: str) -> None:
        if not quiet or outcome == "failed":
            click.echo(f"  {sid}: {outcome}")

    click.echo(f"迁移录音 / migrating recordings: {source.url} → {target.url}")
    report = migrate(db.session(), source, target, Path(config["RECORDINGS_DIR"]),
                     progress=progress)
    click.echo(f"已复制 / copied {report.copied}, 已存在 / already there "
               f"{report.already_there}, 源中没有 / not in the source {len(report.missing)}, "
               f"失败 / failed {len(report.failed)}")
    for sid, reason in report.failed:
        click.echo(f"  ✗ {sid}: {reason}", err=True)
    if report.missing:
        click.echo("源中没有的录音可能在其他节点的磁盘上：在那些节点上再运行一次 / recordings "
                   "not in the source may be on another node's disk: run this there too")
    if not report.ok:
        raise SystemExit(1)
