"""Where Twilio is told to stream: behind the public host (wss) or locally on LIVE_PORT."""

from __future__ import annotations

from live.urls import live_stream_url, stream_url


def test_the_stream_url_follows_the_public_base_url() -> None:
    assert stream_url({"PUBLIC_BASE_URL": "https://hotline.example.cn"}) == \
        "wss://hotline.example.cn/live/stream"
    assert stream_url({"PUBLIC_BASE_URL": "http://127.0.0.1:5000", "LIVE_PORT": 5077}) == \
        "ws://127.0.0.1:5077/live/stream"
    assert stream_url({"PUBLIC_BASE_URL": "https://x", "LIVE_STREAM_URL": "wss://y/s"}) == \
        "wss://y/s"
    assert live_stream_url({"PUBLIC_BASE_URL": "https://x", "LIVE_STREAMS_MAX": 0}) is None
