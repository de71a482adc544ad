"""``flask model …``, ``flask transcribe …`` and ``flask jobs …`` as an operator runs them."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result

from core.db import db, utcnow
from core.queues import DEFAULT, TRANSCRIPTION
from ivr.calllog import upsert_recording
from tests.transcription.support import configure
from transcription.statuses import TranscriptionStatus as S


@pytest.fixture
def app_config(app_config: dict[str, Any], ko_model_dir: Path, redis_url: str
               ) -> dict[str, Any]:
    return configure(app_config, redis_url=redis_url, model=ko_model_dir)


def invoke(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_transcribe_files_and_folders_as_json(app, ko_engine, word, tmp_path) -> None:
    folder = tmp_path / "archive"
    (folder / "2026-11").mkdir(parents=True)
    shutil.copy(word.mp3, folder / "2026-11" / "a.mp3")
    (folder / "2026-11" / "broken.wav").write_bytes(b"RIFF????WAVEnot really")
    (folder / "notes.txt").write_text("not audio")

    result = invoke(app, "transcribe", str(word.pcm8k), str(folder), "--json")

    assert result.exit_code == 1  # one file failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(Path(r["file"]).name, r["ok"]) for r in lines] == [
        ("pcm8k.wav", True), ("a.mp3", True), ("broken.wav", False)]
    good = lines[0]
    assert good["text"] and good["words"] and not good["is_empty"]
    assert good["duration"] == pytest.approx(word.duration, abs=0.05)
    assert good["source_format"] == "wav-pcm" and lines[1]["source_format"] == "mp3"
    assert "unreadable audio" in lines[2]["error"]


def test_transcribe_prints_one_line_per_file_and_a_summary(app, ko_engine, word) -> None:
    result = invoke(app, "transcribe", str(word.pcm8k), str(word.mulaw8k))
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 2
    assert "2/2 成功 / transcribed, 0 失败 / failed" in result.output


def test_transcribe_without_a_model_says_so(app, word, tmp_path) -> None:
    app.config["VOSK_MODEL_PATH"] = str(tmp_path / "nothing-here")
    result = invoke(app, "transcribe", str(word.pcm8k))
    assert result.exit_code == 2
    assert "未安装语音模型" in result.output


def test_model_status_names_the_active_model(app, ko_model_dir) -> None:
    result = invoke(app, "model", "status")
    assert result.exit_code == 0, result.output
    assert "✓ 语音模型 / speech model: 已安装" in result.output
    assert f"当前模型 / active model: model: installed at {ko_model_dir}" in result.output
    assert "等待模型 / awaiting the model: 0" in result.output


def test_model_status_without_a_model_explains_how_to_install(app, tmp_path) -> None:
    app.config["VOSK_MODEL_PATH"] = str(tmp_path / "models" / "vosk-model-small-cn-0.22")
    result = invoke(app, "model", "status")
    assert result.exit_code == 1
    assert "✗ 语音模型 / speech model: 不可用：未安装" in result.output
    assert "the directory does not exist" in result.output
    assert "flask --app app model install --zip FILE" in result.output


def test_model_status_lists_only_sibling_folders_that_are_models(app, tmp_path) -> None:
    models = tmp_path / "models"
    app.config["VOSK_MODEL_PATH"] = str(models / "vosk-model-small-cn-0.22")
    other = models / "vosk-model-cn-0.22"
    for name in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"):
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_bytes(b"x")
    (models / "backups").mkdir()
    (models / "vosk-model-half").mkdir()
    (models / "vosk-model-half" / "README").write_text("unpacked by hand, half")
    (models / ".installing-x-1").mkdir()
    result = invoke(app, "model", "status")
    assert result.output.count("其他 / also installed") == 1
    assert f"其他 / also installed: {other}" in result.output
    listed = json.loads(invoke(app, "model", "status", "--json").stdout)
    assert listed["others"] == [str(other)] and listed["state"] == "unavailable"


def test_model_install_needs_exactly_one_source(app, tmp_path) -> None:
    assert invoke(app, "model", "install").exit_code == 2
    assert invoke(app, "model", "install", "--url", "https://x.test/m.zip").exit_code == 2


def test_model_install_refuses_a_broken_model_and_changes_nothing(app, tmp_path) -> None:
    app.config["VOSK_MODEL_PATH"] = str(tmp_path / "models" / "m")
    broken = tmp_path / "m.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("m/README", "no model here")
    result = invoke(app, "model", "install", "--zip", str(broken))
    assert result.exit_code == 1
    assert "安装失败 / install failed" in result.output
    assert not (tmp_path / "models" / "m").exists()


def add_failed_recording(sid: str, reason: str) -> int:
    with db.transaction() as session:
        recording = upsert_recording(session, sid, now=utcnow(), url="https://api.twilio.com/x",
                                     status="completed").recording
        recording.transcription_status = S.FAILED
        recording.transcription_error = reason
        session.flush()
        return recording.id


def fail_job(redis_conn: Any, queue_name: str, func: str, *args: Any, jid: str) -> None:
    job = Queue(queue_name, connection=redis_conn).enqueue(func, *args, job_id=jid)
    Queue(queue_name, connection=redis_conn).remove(job)
    job.set_status("failed")
    error = "Traceback …\nRuntimeError: database went away"
    Result.create_failure(job, ttl=3600, exc_string=error, worker_name="w1")
    FailedJobRegistry(queue_name, connection=redis_conn).add(job, exc_string=error)


def test_jobs_failed_lists_reasons_and_requeue_all_sends_them_back(app, redis_conn) -> None:
    first = add_failed_recording("RE1", "HTTP 503 from Twilio")
    add_failed_recording("RE2", "音频无法读取 / unreadable audio: not a recognised audio format")
    fail_job(redis_conn, TRANSCRIPTION, "transcription.jobs.transcribe_recording", first,
             jid="transcribe-RE1")
    fail_job(redis_conn, DEFAULT, "cases.jobs.sweep_overdue_job", jid="sweep-1")

    listing = invoke(app, "jobs", "failed")
    assert listing.exit_code == 0, listing.output
    assert "失败任务 / failed jobs: 2" in listing.output
    assert "RuntimeError: database went away" in listing.output
    assert "转写失败的录音 / failed recordings: 2" in listing.output
    assert "失败 (failed)" in listing.output and "unreadable audio" in listing.output

    requeued = invoke(app, "jobs", "requeue", "--all")
    assert requeued.exit_code == 0, requeued.output
    assert Queue(TRANSCRIPTION, connection=redis_conn).job_ids == [
        "transcribe-RE1-r1", "transcribe-RE2"]
    assert Queue(DEFAULT, connection=redis_conn).job_ids == ["sweep-1"]
    assert FailedJobRegistry(TRANSCRIPTION, connection=redis_conn).count == 0

    status = invoke(app, "jobs", "list")
    assert "transcription  queued    2" in status.output
    assert "排队中 queued 2" in status.output


def test_jobs_requeue_one_recording_by_sid(app, redis_conn) -> None:
    add_failed_recording("RE1", "HTTP 503")
    result = invoke(app, "jobs", "requeue", "RE1")
    assert result.exit_code == 0, result.output
    assert Job.exists("transcribe-RE1", redis_conn)
    again = invoke(app, "jobs", "requeue", "RE1")  # its job is live: nothing new
    assert "已在处理或已完成" in again.output
    assert invoke(app, "jobs", "requeue", "REnope").exit_code == 1


def test_model_install_from_a_url_checks_the_sha256_first(app, tmp_path, http_server) -> None:
    app.config["VOSK_MODEL_PATH"] = str(tmp_path / "models" / "m")
    url = http_server.script("/m.zip", http_server.reply(body=b"PK\x05\x06" + b"\0" * 18))
    result = invoke(app, "model", "install", "--url", url, "--sha256", "0" * 64)
    assert result.exit_code == 1
    assert "SHA-256 mismatch" in result.output
    assert not (tmp_path / "models" / "m").exists()
