"""Operators see why voicemails have no transcript while they wait for a speech model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.db import db
from ivr.models import Call, Recording
from transcription.statuses import TranscriptionStatus as S


def waiting_voicemail(now: Any) -> None:
    session = db.session()
    call = Call(call_sid="CA" + "7" * 32, from_number="+8613800138000", started_at=now,
                status="completed", duration=30)
    session.add(Recording(recording_sid="RE" + "7" * 32, call=call, status="completed",
                          duration=20, created_at=now,
                          transcription_status=S.AWAITING_MODEL))
    session.commit()


def test_operators_see_a_notice_while_voicemails_wait_for_a_model(
        app: Any, client: Any, clock: Any, accounts: Any, sign_in: Any, tmp_path: Path) -> None:
    app.config["VOSK_MODEL_PATH"] = str(tmp_path / "models" / "vosk-model-small-cn-0.22")
    sign_in(accounts.operator)
    assert "model-notice" not in client.get("/console/queue").get_data(as_text=True)

    waiting_voicemail(clock())
    page = client.get("/console/queue").get_data(as_text=True)
    assert "1 条留言等待语音模型" in page
    assert "不可用：未安装" in page and "flask --app app model install --zip FILE" in page

    sign_in(accounts.dept_a)  # not their business
    assert "model-notice" not in client.get("/console/department").get_data(as_text=True)
