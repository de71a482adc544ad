"""The call's page: the live transcript as it arrives (SSE through Redis) and once kept."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from core.db import db
from ivr.models import Call
from live.bus import LiveBus, call_channel
from live.decoder import Utterance
from live.session import StreamResult, TrackLog
from live.store import save, transcripts_of_call

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def operator_call() -> Call:
    session = db.session()
    call = Call(call_sid="CA" + "9" * 32, from_number="+8613900000000", started_at=NOW,
                status="in-progress", duration=None, reached_operator=True)
    session.add(call)
    session.commit()
    return call


def test_the_kept_transcript_is_on_the_call_page(client: Any, accounts: Any, sign_in: Any
                                                 ) -> None:
    call = operator_call()
    session = db.session()
    result = StreamResult(call.call_sid, "MZ1", {
        "inbound": TrackLog([Utterance("inbound", "我们厂老是停电", True, 0.5, 2.1)]),
        "outbound": TrackLog([Utterance("outbound", "好的我记一下", True, 2.5, 3.4)])},
        complete=False, started_at=NOW, ended_at=NOW)
    save(session, result)
    save(session, result)  # the same stream again: one row per track still
    session.commit()
    rows = transcripts_of_call(session, call.call_sid)
    assert [(r.track, r.text, r.call_id, r.complete) for r in rows] == [
        ("inbound", "我们厂老是停电", call.id, False), ("outbound", "好的我记一下", call.id, False)]
    assert rows[0].segments == [{"text": "我们厂老是停电", "start": 0.5, "end": 2.1}]
    sign_in(accounts.operator)
    page = client.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "实时转写" in page and "我们厂老是停电" in page and "音频流中断" in page
    assert f'data-live="/console/calls/{call.id}/live"' in page
    assert 'id="file-case"' in page  # the form the live fields fill


def test_the_live_transcript_streams_to_the_page_through_redis(
        app: Any, client: Any, accounts: Any, sign_in: Any, redis_url: str) -> None:
    app.config["REDIS_URL"] = redis_url
    call = operator_call()
    sign_in(accounts.operator)
    publish = LiveBus(Redis.from_url(redis_url)).publish
    stop = threading.Event()
    message = {"type": "live_transcript", "stream": "MZ1", "kind": "final",
               "track": "inbound", "text": "我想咨询贷款"}

    def keep_publishing() -> None:  # until the page's subscription hears one
        while not stop.wait(0.2):
            publish(call_channel(call.call_sid), message)

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    publisher.start()
    try:
        response = client.get(f"/console/calls/{call.id}/live", buffered=False)
        assert response.mimetype == "text/event-stream"
        received = None
        for chunk in response.response:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            if text.startswith("data: "):
                received = json.loads(text[len("data: "):])
                break
        response.close()
    finally:
        stop.set()
        publisher.join(5)
    assert received == message


def test_without_redis_the_page_waits_for_the_kept_transcript(
        app: Any, client: Any, accounts: Any, sign_in: Any) -> None:
    app.config["REDIS_URL"] = None
    call = operator_call()
    sign_in(accounts.operator)
    assert client.get(f"/console/calls/{call.id}/live").status_code == 204
    assert client.get("/console/calls/999999/live").status_code == 404
