"""Operator commands: ``model install|status``, ``transcribe FILE|DIR``, ``jobs …``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from tqdm import tqdm

from core.db import db
from ivr.models import Recording
from transcription.engine import ModelNotFound, forget_engines, get_engine, model_problems
from transcription.model_setup import (
    OFFLINE_COMMAND,
    auto_install_source,
    availability,
    install_if_absent,
    wait_for_install,
)
from transcription.model_store import (
    ModelInstallError,
    install_from_url,
    install_from_zip,
    model_status,
)
from transcription.pipeline import PermanentFailure, decode_file, model_path
from transcription.statuses import TranscriptionStatus as S
from transcription.statuses import label

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".amr", ".webm",
                            ".au", ".aiff"})


def _redis() -> Any:
    from core.redis_conn import connect

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL 未设置 / REDIS_URL is not set")
    return connect(url)


# ---------------------------------------------------------------- model


@click.group("model", help="语音模型 / the Vosk speech model.")
def model_cli() -> None:
    pass


@model_cli.command("install")
@click.option("--url", help="Model zip URL (needs --sha256).")
@click.option("--sha256", help="Expected SHA-256 of the zip.")
@click.option("--zip", "zip_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A model zip copied here by hand.")
@click.option("--name", help="Folder name under the models directory (default: from the zip).")
@click.option("--overwrite", is_flag=True, help="Replace an installed model of that name.")
@with_appcontext
def model_install(url: str | None, sha256: str | None, zip_path: Path | None, name: str | None,
                  overwrite: bool) -> None:
    """Install a model (verified: checksum, then a real load), atomically."""
    if bool(url) == bool(zip_path):
        raise click.UsageError("give either --url URL --sha256 HEX or --zip FILE")
    if url and not sha256:
        raise click.UsageError("--url needs --sha256 (the published checksum)")
    active = model_path(current_app.config)
    models_dir = active.parent
    click.echo(f"安装模型 / installing into {models_dir} …")
    try:
        if url:
            with tqdm(unit="B", unit_scale=True, file=sys.stderr, disable=None) as bar:
                def progress(done: int, total: int | None) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                installed = install_from_url(url, models_dir, sha256=sha256 or "", name=name,
                                             overwrite=overwrite, progress=progress)
        else:
            assert zip_path is not None
            installed = install_from_zip(zip_path, models_dir, sha256=sha256, name=name,
                                         overwrite=overwrite)
    except ModelInstallError as exc:
        raise click.ClickException(f"安装失败 / install failed: {exc}") from exc
    forget_engines()
    if installed.resolve() != active.resolve():
        click.echo(f"已安装 / installed: {installed}\n"
                   f"当前启用的是 / the active model is {active}; "
                   f"set VOSK_MODEL_PATH={installed} to use this one.")
        return
    click.echo(f"已安装并启用 / installed and active: {installed}")
    _requeue_waiting()


def _requeue_waiting() -> None:
    """Recordings waiting for a model are transcribed now, without anyone re-queuing."""
    from transcription.recovery import requeue_awaiting_model

    try:
        with db.transaction() as session:
            jids = requeue_awaiting_model(session, _redis(), current_app.config)
    except Exception as exc:  # Redis down: workers and reconciliation pick them up later
        click.echo(f"等待模型的录音将由定时任务处理 / recordings awaiting the model will be "
                   f"picked up by the reconciliation ({exc})")
        return
    click.echo(f"{len(jids)} 条等待模型的录音已重新排队 / recording(s) awaiting the model "
               "re-enqueued")


@model_cli.command("ensure")
@with_appcontext
def model_ensure() -> None:
    """Install the active model if it is absent (what `make run` runs in the background).

    From VOSK_MODEL_URL + VOSK_MODEL_SHA256, or else the pinned Mandarin model; resumes an
    interrupted download. Exit 0 when the model is installed, 1 when it is not.
    """
    active = model_path(current_app.config)
    if not model_problems(active):
        click.echo(f"[model] 语音模型 / speech model: 已安装 ({active.name})")
        return
    source, _why = auto_install_source(current_app.config, active)
    if source is not None:
        click.echo(f"[model] 语音模型下载中 / downloading the speech model from {source.url} "
                   "(in the background; the hotline answers meanwhile)")

    def progress(percent: int) -> None:
        if percent % 25 == 0 and 0 < percent < 100:
            click.echo(f"[model] 语音模型 / speech model: 下载中 {percent}%")

    state = install_if_absent(current_app.config, active, on_progress=progress)
    if state.state == "downloading":  # another process (a worker node) is installing it
        state = wait_for_install(current_app.config, active, on_progress=progress)
    click.echo(f"[model] 语音模型 / speech model: {state.text}")
    if state.state == "installed":
        forget_engines()
        _requeue_waiting()
        return
    sys.exit(1)


def model_folders(models_dir: Path, active: Path) -> list[Path]:
    """Installed models beside the active one: folders that look like a Vosk model."""
    if not models_dir.is_dir():
        return []
    return sorted(p for p in models_dir.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p != active
                  and not model_problems(p))


@model_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def model_status_command(as_json: bool) -> None:
    """Which model is active, where, and whether it is usable (已安装 / 下载中 / 不可用)."""
    active = model_path(current_app.config)
    status = model_status(active)
    state = availability(current_app.config, active)
    others = model_folders(active.parent, active)
    waiting = _awaiting_model_count()
    if as_json:
        click.echo(json.dumps({**state.as_dict(), "path": str(active),
                               "others": [str(p) for p in others],
                               "awaiting_model": waiting}, ensure_ascii=False))
    else:
        mark = "✓" if status.looks_valid else "✗"
        click.echo(f"{mark} 语音模型 / speech model: {state.text}")
        click.echo(f"  当前模型 / active model: {status.message}")
        configured = current_app.config.get("VOSK_MODEL_PATH")
        click.echo(f"  来源 / from: {'VOSK_MODEL_PATH' if configured else 'default path'}")
        for other in others:
            click.echo(f"  其他 / also installed: {other}")
        if waiting is not None:
            click.echo(f"  {label(S.AWAITING_MODEL)} / awaiting the model: {waiting}")
        if not status.looks_valid:
            click.echo(f"  install one: {OFFLINE_COMMAND} (or --url URL --sha256 HEX)")
    if not status.looks_valid:
        sys.exit(1)


def _awaiting_model_count() -> int | None:
    try:
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(Recording).where(
                Recording.transcription_status == S.AWAITING_MODEL)) or 0
    except Exception:  # an unmigrated database must not hide the model status
        return None


# ---------------------------------------------------------------- transcribe


def _audio_files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        else:
            yield path


@click.command("transcribe")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file on stdout.")
@with_appcontext
def transcribe_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Transcribe audio files or folders (archived recordings) with the active model."""
    files = list(_audio_files(paths))
    try:
        engine = get_engine(model_path(current_app.config))
    except ModelNotFound as exc:
        click.echo(f"未安装语音模型 / {exc}", err=True)
        sys.exit(2)
    failed = 0
    with tqdm(files, unit="file", file=sys.stderr, disable=None if as_json else False) as bar:
        for path in bar:
            try:
                result, source_format = decode_file(path, engine)
            except (PermanentFailure, OSError) as exc:
                failed += 1
                reason = exc.reason if isinstance(exc, PermanentFailure) else str(exc)
                if as_json:
                    click.echo(json.dumps({"file": str(path), "ok": False, "error": reason},
                                          ensure_ascii=False))
                else:
                    bar.write(f"✗ {path}: {reason}")
                continue
            if as_json:
                click.echo(json.dumps({"file": str(path), "ok": True,
                                       "source_format": source_format, **result.to_dict()},
                                      ensure_ascii=False))
            else:
                text = result.text if not result.is_empty else "（无语音 / no speech）"
                bar.write(f"✓ {path} [{result.duration:.1f}s, conf {result.confidence:.2f}, "
                          f"rtf {result.rtf:.2f}] {text}")
    if not as_json:
        click.echo(f"{len(files) - failed}/{len(files)} 成功 / transcribed, {failed} 失败 / failed")
    if failed:
        sys.exit(1)


# ---------------------------------------------------------------- jobs


@click.group("jobs", help="队列任务 / queued jobs: list, failures, requeue.")
def jobs_cli() -> None:
    pass


@jobs_cli.command("list")
@with_appcontext
def jobs_list() -> None:
    """Queue sizes, and the recordings not yet transcribed."""
    from rq import Queue

    from core.queues import ALL_QUEUES

    connection = _redis()
    for name in ALL_QUEUES:
        q = Queue(name, connection=connection)
        click.echo(
            f"{name:14} queued {q.count:4}  started {q.started_job_registry.count:3}  "
            f"scheduled {q.scheduled_job_registry.count:3}  failed {q.failed_job_registry.count:3}"
        )
    from ivr.eventlog import DEAD_KEY, PENDING_KEY

    click.echo(f"{'call log':14} pending {connection.llen(PENDING_KEY):4}  "
               f"dead letters {connection.llen(DEAD_KEY)}"
               + ("  (flask --app app jobs dead-letters)" if connection.llen(DEAD_KEY) else ""))
    with db.transaction() as session:
        counts: dict[str, int] = {status: n for status, n in session.execute(
            select(Recording.transcription_status, func.count()).group_by(
                Recording.transcription_status))}
        click.echo("录音 / recordings: " + ", ".join(
            f"{label(s)} {s} {n}" for s, n in sorted(counts.items())))
        open_rows = session.scalars(
            select(Recording).where(Recording.transcription_status != S.DONE)
            .order_by(Recording.id).limit(100)).all()
        for recording in open_rows:
            click.echo(_recording_line(recording))


def _recording_line(recording: Recording) -> str:
    status = recording.transcription_status
    line = (f"  {recording.recording_sid}  {label(status)} ({status})  "
            f"attempts {recording.attempts}  job {recording.transcription_job_id or '-'}")
    if recording.transcription_error:
        line += f"\n      {recording.transcription_error}"
    return line


@jobs_cli.command("failed")
@with_appcontext
def jobs_failed() -> None:
    """Failed jobs (RQ) and failed recordings, with their reasons."""
    from transcription.recovery import failed_jobs

    jobs = failed_jobs(_redis())
    click.echo(f"失败任务 / failed jobs: {len(jobs)}")
    for job in jobs:
        when = job.ended_at.isoformat(timespec="seconds") if job.ended_at else "?"
        click.echo(f"  {job.id}  [{job.queue}] {job.func}{list(job.args)}  {when}\n"
                   f"      {job.error}")
    with db.transaction() as session:
        rows = session.scalars(select(Recording).where(
            Recording.transcription_status == S.FAILED).order_by(Recording.id)).all()
        click.echo(f"转写失败的录音 / failed recordings: {len(rows)}")
        for recording in rows:
            retry = (f"  auto-retry after {recording.transcription_retry_at:%Y-%m-%d %H:%M}Z"
                     if recording.transcription_retry_at else "  (needs requeue)")
            click.echo(_recording_line(recording) + retry)


@jobs_cli.command("requeue")
@click.argument("ident", required=False)
@click.option("--all", "all_", is_flag=True, help="Every failed job and failed recording.")
@click.option("--force", is_flag=True, help="Transcribe again even if already done.")
@with_appcontext
def jobs_requeue(ident: str | None, all_: bool, force: bool) -> None:
    """Requeue a job id, a RecordingSid (or recording id), or --all failures."""
    from transcription.dispatch import TranscriptionPolicy
    from transcription.recovery import failed_jobs, requeue_job, requeue_recording

    if bool(ident) == all_:
        raise click.UsageError("give a job id / RecordingSid, or --all")
    connection = _redis()
    config = current_app.config
    policy = TranscriptionPolicy.from_config(config)
    done: list[str] = []
    with db.transaction() as session:
        if all_:
            for job in failed_jobs(connection):
                jid = requeue_job(session, connection, job.id, config)
                done.extend([jid] if jid else [])
            failed = session.scalars(select(Recording).where(
                Recording.transcription_status == S.FAILED).order_by(Recording.id)).all()
            for recording in failed:
                jid = requeue_recording(session, connection, recording, policy=policy)
                done.extend([jid] if jid else [])
        else:
            assert ident is not None
            from rq.job import Job

            if Job.exists(ident, connection):
                jid = requeue_job(session, connection, ident, config)
            else:
                recording = _find_recording(session, ident)
                jid = requeue_recording(session, connection, recording, policy=policy,
                                        force=force)
            if jid is None:
                click.echo(f"{ident}: 已在处理或已完成 / a job is already live, or it is done "
                           "(use --force to transcribe again)")
            done.extend([jid] if jid else [])
    for jid in done:
        click.echo(f"已重新排队 / requeued: {jid}")
    click.echo(f"{len(done)} 个任务已重新排队 / job(s) requeued")


def _find_recording(session: Any, ident: str) -> Recording:
    query = select(Recording).where(Recording.recording_sid == ident)
    if ident.isdigit():
        query = select(Recording).where(Recording.id == int(ident))
    recording = session.scalars(query).one_or_none()
    if recording is None:
        raise click.ClickException(f"没有这个任务或录音 / no job or recording {ident!r}")
    return recording


@jobs_cli.command("dead-letters")
@click.option("--requeue", is_flag=True, help="Put them back for the next drain (after a fix).")
@click.option("--clear", is_flag=True, help="Drop them.")
@with_appcontext
def jobs_dead_letters(requeue: bool, clear: bool) -> None:
    """Call-log entries the drain could not write, with their errors."""
    from ivr.eventlog import clear_dead_letters, dead_letters, requeue_dead_letters

    if requeue and clear:
        raise click.UsageError("--requeue or --clear, not both")
    connection = _redis()
    if requeue:
        click.echo(f"重新排队 / requeued: {requeue_dead_letters(connection)}")
        return
    if clear:
        click.echo(f"已清除 / cleared: {clear_dead_letters(connection)}")
        return
    total, letters = dead_letters(connection)
    click.echo(f"未能写入的通话记录 / call-log dead letters: {total}")
    for letter in letters:
        click.echo(f"  {letter.at}  {letter.call_sid or '?'}  {letter.error}\n"
                   f"      {letter.entry[:300]}")
