"""Chinese post-processing of Vosk results (pure)."""

from __future__ import annotations

import json

import pytest

from transcription.chinese import (
    TranscriptFormatError,
    TranscriptResult,
    Word,
    build_transcript,
    join_words,
)


def vosk_result(*words: tuple[str, float, float, float]) -> dict:
    """A Vosk Result() dict as json.loads returns it."""
    return {
        "result": [{"conf": c, "end": e, "start": s, "word": w} for w, s, e, c in words],
        "text": " ".join(w for w, *_ in words),
    }


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["我们", "有", "3", "个", "问题"], "我们有3个问题"),
        (["ABC", "公司"], "ABC公司"),
        (["hello", "world"], "hello world"),
        (["下午", "3", "点", "30", "分"], "下午3点30分"),
        (["iPhone", "15", "坏", "了"], "iPhone 15坏了"),
        (["电话", "0574", "88888718"], "电话0574 88888718"),
        (["안녕하세요", "회사"], "안녕하세요 회사"),
        (["我们", "", "  ", "好"], "我们好"),
        ([], ""),
    ],
)
def test_join_words(words: list[str], expected: str) -> None:
    assert join_words(words) == expected


def test_build_transcript_joins_words_across_results() -> None:
    results = [
        vosk_result(("我们", 0.0, 0.3, 0.9), ("有", 0.3, 0.5, 0.8)),
        vosk_result(("3", 0.6, 0.8, 0.5), ("个", 0.8, 0.9, 1.0), ("问题", 0.9, 1.4, 0.8)),
        {"text": ""},  # FinalResult() after an utterance boundary is often empty
    ]
    transcript = build_transcript(results, duration=2.0, model_name="m", decode_seconds=0.6)
    assert transcript.text == "我们有3个问题"
    assert [w.word for w in transcript.words] == ["我们", "有", "3", "个", "问题"]


def test_build_transcript_keeps_word_timings() -> None:
    results = [vosk_result(("工厂", 0.12, 0.48, 0.75))]
    transcript = build_transcript(results, duration=1.0, model_name="m", decode_seconds=0.1)
    assert transcript.words == [Word(word="工厂", start=0.12, end=0.48, conf=0.75)]


def test_confidence_is_the_mean_word_confidence() -> None:
    results = [vosk_result(("一", 0, 0.1, 0.5), ("二", 0.1, 0.2, 1.0))]
    transcript = build_transcript(results, duration=1.0, model_name="m", decode_seconds=0.1)
    assert transcript.confidence == pytest.approx(0.75)


def test_rtf_is_decode_time_over_duration() -> None:
    results = [vosk_result(("一", 0, 0.1, 0.5))]
    transcript = build_transcript(results, duration=4.0, model_name="m", decode_seconds=1.0)
    assert transcript.rtf == pytest.approx(0.25)
    assert transcript.duration == 4.0
    assert transcript.model_name == "m"


def test_empty_results_give_an_empty_transcript() -> None:
    transcript = build_transcript([{"text": ""}], duration=2.0, model_name="m", decode_seconds=0.5)
    assert transcript.is_empty
    assert transcript.text == ""
    assert transcript.confidence == 0.0


def test_zero_duration_gives_zero_rtf() -> None:
    transcript = build_transcript([], duration=0.0, model_name="m", decode_seconds=0.01)
    assert transcript.rtf == 0.0


def test_results_without_word_detail_keep_their_text() -> None:
    transcript = build_transcript(
        [{"text": "我们 有 问题"}], duration=1.0, model_name="m", decode_seconds=0.1
    )
    assert transcript.text == "我们有问题"
    assert not transcript.is_empty


def test_malformed_vosk_result_is_a_format_error() -> None:
    with pytest.raises(TranscriptFormatError):
        build_transcript(
            [{"result": [{"word": "我们"}]}], duration=1.0, model_name="m", decode_seconds=0.1
        )


def test_to_dict_round_trips_through_json() -> None:
    results = [vosk_result(("我们", 0.0, 0.3, 0.9), ("ABC", 0.3, 0.5, 0.4))]
    transcript = build_transcript(results, duration=2.0, model_name="m", decode_seconds=0.6)
    restored = TranscriptResult.from_dict(json.loads(json.dumps(transcript.to_dict())))
    assert restored == transcript


def test_from_dict_rejects_something_else() -> None:
    with pytest.raises(TranscriptFormatError):
        TranscriptResult.from_dict({"words": [{"word": "x"}]})
