"""The WebSocket endpoint Twilio streams operator calls to (``python -m workers.live``).

Its own process (``make run`` starts and supervises it; a role of its own in docs/deploy.md),
so decoding never delays a webhook nor a voicemail's transcription. The handshake must carry
Twilio's signature of the stream URL (``LIVE_STREAM_URL``); at most ``LIVE_STREAMS_MAX``
streams are decoded at once — a call beyond the cap simply has no live transcript. Decoding
runs in worker threads (Vosk releases the GIL), one message of a stream after the other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from core.clock import clock_of
from core.config import hotline_zone
from core.db import db
from core.redis_conn import connect_within
from core.twilio_signature import is_valid
from live.assist import make_assist
from live.bus import LiveBus, channels
from live.protocol import ProtocolError, Start, Stop, parse
from live.session import Assist, Clock, Publish, StreamResult, StreamSession
from live.store import save as save_result
from live.urls import STREAM_PATH, stream_url
from transcription.engine import preload
from transcription.pipeline import model_path

log = logging.getLogger(__name__)
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@dataclass
class LiveSettings:
    public_url: str  # the stream URL Twilio signs (LIVE_STREAM_URL)
    auth_token: str
    max_streams: int
    bypass_signature: bool = False


class LiveServer:
    def __init__(self, settings: LiveSettings, *, model: Any, publish: Publish, clock: Clock,
                 save: Callable[[StreamResult], object],
                 assist: Callable[[], Assist | None] = lambda: None) -> None:
        self.settings = settings
        self.model = model
        self.publish = publish
        self.clock = clock
        self.save = save
        self.assist = assist
        self.active = 0
        self.refused = 0
        self.sessions: list[StreamSession] = []  # ended ones too (the benchmark reads them)
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.max_streams),
                                       thread_name_prefix="live-decode")

    def check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse anything but a signed handshake for the stream path."""
        if urlsplit(request.path).path != STREAM_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if self.settings.bypass_signature:
            log.warning("TWILIO SIGNATURE CHECK BYPASSED for the live stream")
            return None
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid(self.settings.auth_token, self.settings.public_url, {}, signature):
            log.warning("live stream handshake refused: bad or missing Twilio signature")
            return connection.respond(HTTPStatus.FORBIDDEN, "forbidden\n")
        return None

    async def handle(self, websocket: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        session: StreamSession | None = None
        counted = False
        try:
            async for frame in websocket:
                received = time.perf_counter()
                try:
                    message = parse(frame)
                except ProtocolError as exc:
                    log.warning("live stream %s: malformed message (%s): closing it",
                                session.call_sid if session else "?", exc)
                    await websocket.close(POLICY_VIOLATION, "malformed message")
                    return
                if isinstance(message, Start):
                    if session is not None:
                        continue  # a second start on one stream is ignored
                    if self.active >= self.settings.max_streams:
                        self.refused += 1
                        log.info("live stream of %s not decoded: %d streams already (cap)",
                                 message.call_sid, self.active)
                        await websocket.close(TRY_AGAIN_LATER, "live transcription busy")
                        return
                    self.active += 1
                    counted = True
                    session = StreamSession(self.model, publish=self.publish,
                                            channels=channels, clock=self.clock,
                                            assist=self.assist())
                    self.sessions.append(session)
                if session is None:
                    continue  # connected (or media before start): nothing to decode yet
                await loop.run_in_executor(self.pool, session.handle, message, received)
                if isinstance(message, Stop):
                    break
        except ConnectionClosed:
            pass  # cut mid-way: what arrived is kept below
        finally:
            if session is not None:
                await self._finish(loop, session)
            if counted:
                self.active -= 1

    async def _finish(self, loop: asyncio.AbstractEventLoop, session: StreamSession) -> None:
        if not session.ended:
            await loop.run_in_executor(self.pool, lambda: session.end(complete=False))
        result = session.result
        if result is None:
            return
        try:
            await loop.run_in_executor(self.pool, self.save, result)
        except Exception:
            log.exception("live transcript of %s not stored", result.call_sid)
        if not result.complete:
            log.info("live stream of %s was cut: kept what arrived", result.call_sid)

    async def serve(self, host: str, port: int) -> Server:
        return await serve(self.handle, host, port, process_request=self.check_request,
                           max_size=2 ** 16, ping_interval=20, ping_timeout=20)


def build(app: Any) -> LiveServer:
    """The server for ``app``'s configuration: its model, Redis, database and clock."""
    config = app.config
    engine = preload(model_path(config))
    clock = clock_of(config)

    def save(result: StreamResult) -> None:
        with db.transaction() as session:
            save_result(session, result)

    zone = hotline_zone(config)

    def assist() -> Assist:
        return make_assist(db.transaction, lambda: clock().astimezone(zone).date())

    settings = LiveSettings(stream_url(config), str(config["TWILIO_AUTH_TOKEN"]),
                            int(config.get("LIVE_STREAMS_MAX") or 0),
                            bool(config.get("TWILIO_SIGNATURE_BYPASS")))
    # A slow Redis must not hold up decoding: half a second, then the utterance is dropped.
    redis = connect_within(config["REDIS_URL"], 0.5) if config.get("REDIS_URL") else None
    publisher = LiveBus(redis).publish
    return LiveServer(settings, model=engine.model if engine else None, publish=publisher,
                      clock=clock, save=save, assist=assist)


async def run(server: LiveServer, host: str, port: int) -> None:
    async with await server.serve(host, port) as running:
        log.info("live transcription listening on %s:%d%s (at most %d streams)", host, port,
                 STREAM_PATH, server.settings.max_streams)
        await running.serve_forever()
