"""Recording audio is served only as audio: allow-listed types, attachments, a sandbox CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.db import db
from tests.console.conftest import Accounts, VoicemailCase


def _audio(client: Any, recording_id: int, **headers: str) -> Any:
    return client.get(f"/console/recordings/{recording_id}/audio", headers=headers)


def test_a_stored_page_is_never_served_inline(client: Any, accounts: Accounts, sign_in: Any,
                                              voicemail_case: VoicemailCase, app: Any) -> None:
    # Regression (stored script): a recording kept as .html (as the downloader used to name
    # octet-stream from an .html URL) was served inline as text/html from the console origin.
    recording = voicemail_case.recording
    page = Path(app.config["RECORDINGS_DIR"]) / f"{recording.recording_sid}.html"
    page.write_bytes(b"<script>fetch('/console/users')</script>")
    recording.audio_key = str(page)
    db.session.commit()
    sign_in(accounts.operator)

    response = _audio(client, recording.id)
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_audio_is_served_inline_with_an_allow_listed_type_and_a_sandbox(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.operator)
    response = _audio(client, voicemail_case.recording.id)
    assert (response.status_code, response.mimetype) == (200, "audio/wav")
    assert response.headers["Content-Disposition"].startswith("inline;")
    csp = response.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert response.headers["ETag"].strip('"') == voicemail_case.recording.sha256


def test_if_range_with_another_version_gets_the_whole_file(
        client: Any, accounts: Accounts, sign_in: Any, voicemail_case: VoicemailCase) -> None:
    sign_in(accounts.operator)
    recording = voicemail_case.recording
    whole = _audio(client, recording.id)
    same = _audio(client, recording.id, Range="bytes=0-9", **{"If-Range": whole.headers["ETag"]})
    other = _audio(client, recording.id, Range="bytes=0-9", **{"If-Range": '"other"'})
    assert (same.status_code, len(same.data)) == (206, 10)
    assert (other.status_code, other.data) == (200, whole.data)
