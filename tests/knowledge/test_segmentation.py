"""Segmentation with the hotline's user dictionary."""

from __future__ import annotations

import jieba

from knowledge import segmentation
from knowledge.segmentation import add_words, normalize, segment, segment_for_search, user_words


def test_notice_terms_stay_whole() -> None:
    words = segment("我想问一下奉化区企业最多跑一地综合服务中心的专班商办是怎么回事")
    assert "最多跑一地" in words
    assert "综合服务中心" in words
    assert "专班商办" in words
    assert "奉化区" in words


def test_plain_jieba_splits_what_the_user_dictionary_keeps() -> None:
    plain = jieba.Tokenizer()
    assert "专班商办" not in plain.lcut("专班商办")
    assert segment("专班商办") == ["专班商办"]


def test_routing_vocabulary_is_in_the_dictionary() -> None:
    words = user_words()
    assert {"小微企业园", "降本减负", "区金融发展服务中心", "热线自助", "专班商办"} <= words
    assert "甬企码" in segment("甬企码上面能不能提交诉求")


def test_stopwords_punctuation_and_spaces_are_dropped() -> None:
    assert segment("请问，厂房 租金 补贴 怎么 申请？？我们公司想要贷款融资。") == [
        "厂房", "租金", "补贴", "申请", "公司", "贷款", "融资",
    ]


def test_vosk_spaces_between_characters_are_rejoined() -> None:
    assert normalize("企 服 专 班 ABC Ｘ１") == "企服专班 abc x1"
    assert "企服专班" in segment("企 服 专班 怎么 联系")


def test_search_mode_also_gives_words_inside_long_terms() -> None:
    words = segment_for_search("综合服务中心")
    assert words[-1] == "综合服务中心"
    assert {"服务", "中心"} <= set(words)
    assert segment("综合服务中心") == ["综合服务中心"]


def test_added_words_are_kept_whole_and_counted_once() -> None:
    title = "企业诉求办理时限说明"
    assert title not in segment(title)
    assert add_words([title, "  ", "x"]) == 1
    assert add_words([title]) == 0
    assert segment(f"请问{title}") == [title]
    assert title in segmentation.user_words()


def test_terms_file_reader_ignores_comments_and_frequencies(tmp_path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("# comment\n即时办 100 n\n\n  流转办  # inline\n", encoding="utf-8")
    assert segmentation.read_terms_file(path) == ["即时办", "流转办"]
