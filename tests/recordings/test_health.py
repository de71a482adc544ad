"""``/healthz`` reports the recording store; console pages may play from it."""

from __future__ import annotations

from typing import Any


def test_health_reports_the_local_store(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["recordings"] == "ok"


def test_health_with_an_unreachable_store(app: Any, app_config: dict[str, Any]) -> None:
    from app import create_app

    broken = create_app({**app_config, "RECORDINGS_URL": "s3://hotline/recordings",
                         "RECORDINGS_S3_ENDPOINT": "http://127.0.0.1:1",  # nothing listens
                         "RECORDINGS_S3_TIMEOUT": 0.5, "RECORDINGS_S3_ACCESS_KEY": "k",
                         "RECORDINGS_S3_SECRET_KEY": "s"})
    response = broken.test_client().get("/healthz")
    # Webhooks and cases work without the object store: still 200, the problem is shown.
    assert response.status_code == 200
    assert response.json["recordings"].startswith("error")


def test_console_pages_allow_the_object_store_as_media_source_only_when_presigning() -> None:
    from recordings.http import media_sources

    assert media_sources({}) == "'self'"
    assert media_sources({"RECORDINGS_PRESIGNED_SECONDS": 60,
                          "RECORDINGS_S3_ENDPOINT": "https://oss.example.cn:9000/"}
                         ) == "'self' https://oss.example.cn:9000"
    assert "amazonaws.com" in media_sources({"RECORDINGS_PRESIGNED_SECONDS": 60})
