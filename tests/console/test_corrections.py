"""Transcript corrections: the machine transcript stays, every edit is a row."""

from __future__ import annotations

from typing import Any

import pytest

from cases.actors import Actor
from core.db import db
from tests.console.conftest import VoicemailCase
from transcription.corrections import (
    CorrectionError,
    correct_transcript,
    current_version,
)

EDITOR = Actor("operator", "小王")


def test_word_edits_keep_timings_and_chain(voicemail_case: VoicemailCase, clock: Any) -> None:
    session = db.session()
    transcript = voicemail_case.transcript
    first = correct_transcript(session, transcript.id, word_edits={4: "贷款"}, actor=EDITOR,
                               now=clock())
    assert first.previous_text == "我们公司想咨询带款融资的问题"
    assert first.text == "我们公司想咨询贷款融资的问题" and first.round == 1
    second = correct_transcript(session, transcript.id, word_edits={6: ""}, actor=EDITOR,
                                now=clock())
    assert second.text == "我们公司想咨询贷款融资问题" and second.round == 2
    assert [w["word"] for w in second.words][-2:] == ["融资", "问题"]
    version = current_version(session, transcript)
    assert version.corrected and version.text == second.text
    assert version.original_text == transcript.text == "我们公司想咨询带款融资的问题"
    assert (second.actor_kind, second.actor_name) == ("operator", "小王")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "二选一"),
    ({"new_text": "x", "word_edits": {0: "y"}}, "二选一"),
    ({"word_edits": {99: "y"}}, "第100个词不存在"),
    ({"word_edits": {0: "我们"}}, "没有修改任何词"),
    ({"new_text": "  "}, "不能为空"),
    ({"new_text": "字" * 5001}, "不能超过"),
])
def test_unusable_corrections_are_refused(voicemail_case: VoicemailCase, clock: Any,
                                          kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(CorrectionError, match=message):
        correct_transcript(db.session(), voicemail_case.transcript.id, actor=EDITOR,
                           now=clock(), **kwargs)


def test_unknown_transcript(app: Any, clock: Any) -> None:
    with pytest.raises(CorrectionError, match="转写记录不存在"):
        correct_transcript(db.session(), 12345, new_text="x", actor=EDITOR, now=clock())
