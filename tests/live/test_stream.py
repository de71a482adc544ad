"""The live endpoint driven as Twilio drives it: connected, start, media (μ-law from a WAV of
Korean speech, the test model), stop — and a stream cut mid-way, malformed messages, a
handshake without Twilio's signature, more calls than the cap.
"""

from __future__ import annotations

import asyncio
import audioop
import base64
import contextlib
import json
import threading
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from live.bus import call_channel, operator_channel
from live.server import STREAM_PATH, LiveServer, LiveSettings
from live.session import StreamResult
from tests.transcription.support import WORD, ko_model_dir, make_speech
from transcription.engine import get_engine

TOKEN = "live-test-token"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def twilio_frames(wav_path: Path) -> list[str]:
    """The WAV as Twilio sends it: 20 ms of μ-law per frame, base64."""
    with wave.open(str(wav_path), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    mulaw = audioop.lin2ulaw(pcm, 2)
    return [base64.b64encode(mulaw[i:i + 160]).decode() for i in range(0, len(mulaw), 160)]


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """About 4 s of speech: partial results, then a final one after the pause."""
    return twilio_frames(make_speech(tmp_path_factory.mktemp("live") / "speech.wav"))


@pytest.fixture(scope="module")
def a_word(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """One spoken word (about a second): enough for a stream to have heard something, where
    what matters is that the stream went on, not what the recogniser makes of a sentence."""
    return twilio_frames(make_speech(tmp_path_factory.mktemp("live") / "word.wav", WORD))


class Running:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.started.wait(30)
        self.url = f"ws://127.0.0.1:{self.port}{STREAM_PATH}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def go() -> None:
            self.ws_server = await self.server.serve("127.0.0.1", 0)
            self.port = next(iter(self.ws_server.sockets)).getsockname()[1]
            self.started.set()
            await self.ws_server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(go())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.ws_server.close)
        self.thread.join(30)


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Iterator[tuple[Running, list[Any], list[Any]]]:
    published: list[tuple[str, dict[str, Any]]] = []
    saved: list[StreamResult] = []
    cap = getattr(request, "param", 2)
    settings = LiveSettings(public_url="wss://hotline.example/live/stream", auth_token=TOKEN,
                            max_streams=cap)
    server = LiveServer(settings, model=get_engine(ko_model_dir()).model,
                        publish=lambda channel, payload: published.append((channel, payload)),
                        clock=lambda: NOW, save=saved.append)
    running = Running(server)
    yield running, published, saved
    running.stop()


def signed(url: str) -> ClientConnection:
    signature = RequestValidator(TOKEN).compute_signature("wss://hotline.example/live/stream", {})
    # No client keepalive: on a loaded machine a late pong made the keepalive thread close
    # the connection while the test's recv joined the same reader thread, and CPython 3.11's
    # Thread.join raced ("release unlocked lock"). The server's own behaviour is under test.
    return connect(url, additional_headers={"X-Twilio-Signature": signature}, open_timeout=10,
                   ping_interval=None)


def start(ws: ClientConnection, call_sid: str, stream_sid: str,
          parameters: dict[str, str] | None = None) -> None:
    ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
                        "start": {"accountSid": "AC" + "0" * 32, "streamSid": stream_sid,
                                  "callSid": call_sid, "tracks": ["inbound", "outbound"],
                                  "customParameters": parameters or {},
                                  "mediaFormat": {"encoding": "audio/x-mulaw",
                                                  "sampleRate": 8000, "channels": 1}}}))


def media(ws: ClientConnection, stream_sid: str, frames: list[str], track: str = "inbound"
          ) -> None:
    for n, payload in enumerate(frames):
        ws.send(json.dumps({"event": "media", "sequenceNumber": str(n + 2),
                            "streamSid": stream_sid,
                            "media": {"track": track, "chunk": str(n + 1),
                                      "timestamp": str(20 * n), "payload": payload}}))


def stop(ws: ClientConnection, call_sid: str, stream_sid: str) -> None:
    ws.send(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": stream_sid,
                        "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid}}))


def wait_until(condition: Any, seconds: float = 180) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def closed_with(ws: ClientConnection) -> int | None:
    try:
        while True:
            ws.recv(timeout=180)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


def test_a_call_streamed_as_twilio_does_is_told_and_kept(live: Any, frames: list[str]) -> None:
    running, published, saved = live
    with signed(running.url) as ws:
        start(ws, "CA1", "MZ1")
        media(ws, "MZ1", frames)
        media(ws, "MZ1", frames[: len(frames) // 2], track="outbound")
        stop(ws, "CA1", "MZ1")
        closed_with(ws)
    wait_until(lambda: saved)
    kinds = [p["kind"] for channel, p in published]
    assert {channel for channel, _ in published} == {call_channel("CA1")}
    assert kinds[0] == "started" and kinds[-1] == "ended" and "partial" in kinds
    finals = [p for _, p in published if p["kind"] == "final"]
    assert finals and all(p["text"] for p in finals)
    assert kinds.index("partial") < kinds.index("final")  # words appear before the pause
    (result,) = saved
    assert (result.call_sid, result.stream_sid, result.complete) == ("CA1", "MZ1", True)
    assert result.tracks["inbound"].text  # the caller's words, kept with the call
    assert set(result.tracks) == {"inbound", "outbound"}
    assert running.server.active == 0


def test_a_stream_cut_mid_way_keeps_what_arrived(live: Any, frames: list[str]) -> None:
    running, published, saved = live
    with signed(running.url) as ws:
        start(ws, "CA2", "MZ2")
        media(ws, "MZ2", frames[: len(frames) * 2 // 3])
    wait_until(lambda: saved)
    (result,) = saved
    assert result.complete is False and result.tracks["inbound"].text
    assert published[-1][1] == {"type": "live_transcript", "stream": "MZ2", "call_sid": "CA2",
                                "kind": "ended", "complete": False}
    assert running.server.active == 0


@pytest.mark.parametrize("bad", [
    "not json", json.dumps(["a list"]), json.dumps({"event": "media", "media": {}}),
    json.dumps({"event": "media", "media": {"track": "inbound", "payload": "%%%"}}),
    json.dumps({"event": "surprise"}),
    json.dumps({"event": "start", "streamSid": "MZ", "start": {
        "callSid": "CA", "mediaFormat": {"encoding": "audio/l16", "sampleRate": 16000}}}),
])
def test_malformed_messages_close_that_stream_only(live: Any, a_word: list[str],
                                                   bad: str, caplog: Any) -> None:
    running, _published, saved = live
    with signed(running.url) as good:
        start(good, "CA3", "MZ3")
        with signed(running.url) as ws:
            start(ws, "CA4", "MZ4")
            ws.send(bad)
            assert closed_with(ws) == 1008
        media(good, "MZ3", a_word)  # the other call is not affected
        stop(good, "CA3", "MZ3")
        closed_with(good)
    wait_until(lambda: any(r.call_sid == "CA3" for r in saved))
    assert "malformed message" in caplog.text
    good_result = next(r for r in saved if r.call_sid == "CA3")
    assert good_result.complete and good_result.tracks["inbound"].text
    assert running.server.active == 0


def test_a_handshake_without_twilios_signature_is_refused(live: Any) -> None:
    running, _published, _saved = live
    with pytest.raises(InvalidStatus) as refused:
        connect(running.url, open_timeout=10,
                additional_headers={"X-Twilio-Signature": "forged"})
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as missing:
        connect(running.url.replace(STREAM_PATH, "/elsewhere"), open_timeout=10)
    assert missing.value.response.status_code == 404


@pytest.mark.parametrize("live", [1], indirect=True)
def test_calls_beyond_the_cap_have_no_live_transcript(live: Any, a_word: list[str]) -> None:
    running, published, saved = live
    with signed(running.url) as first:
        start(first, "CA5", "MZ5")
        wait_until(lambda: running.server.active == 1)
        with signed(running.url) as second:
            start(second, "CA6", "MZ6")
            assert closed_with(second) == 1013
        media(first, "MZ5", a_word)
        stop(first, "CA5", "MZ5")
        closed_with(first)
    wait_until(lambda: saved)
    assert [r.call_sid for r in saved] == ["CA5"]
    assert running.server.refused == 1
    assert call_channel("CA6") not in {channel for channel, _ in published}


def test_an_operators_leg_is_told_as_the_callers_call_and_on_the_operators_screen(
        live: Any, frames: list[str]) -> None:
    running, published, saved = live
    with signed(running.url) as ws:
        # On the operator's leg Twilio's inbound track is the operator; outbound the caller.
        start(ws, "CAoperatorleg", "MZ7", {"caller_call_sid": "CAcaller", "leg": "operator",
                                          "agent_id": "12"})
        media(ws, "MZ7", frames, track="outbound")
        stop(ws, "CAoperatorleg", "MZ7")
        closed_with(ws)
    wait_until(lambda: saved)
    (result,) = saved
    assert result.call_sid == "CAcaller"
    assert result.tracks["inbound"].text and not result.tracks["outbound"].text
    assert {channel for channel, _ in published} == {call_channel("CAcaller"),
                                                     operator_channel(12)}
    finals = [p for _, p in published if p["kind"] == "final"]
    assert finals and {p["track"] for p in finals} == {"inbound"}
    assert all(p["call_sid"] == "CAcaller" for _, p in published)
