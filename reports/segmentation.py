"""Chinese word segmentation for hot topics (jieba), with the hotline's own vocabulary.

A private ``jieba.Tokenizer`` (jieba's module default stays untouched) whose user dictionary
holds the notice's terms and the routing vocabulary (keywords of ``cases/routing_rules.yaml``
and the area and sub-area labels), so “最多跑一地” or “用电增容” stay one word.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

import jieba

from cases.routing import load_rules
from cases.vocab import CATEGORY_LABELS, CHANNEL_LABELS, MODE_LABELS, SUBCATEGORY_LABELS

jieba.setLogLevel(logging.WARNING)

NOTICE_TERMS = (
    "最多跑一地", "综合服务中心", "企业服务专班", "领导小组", "要素保障", "政策咨询", "专项服务",
    "即时办", "流转办", "专班商办", "研判上报", "督查问责", "土地厂房", "水电气", "道路排污",
    "用电增容", "小微企业园", "人才公寓", "留抵退税", "污水纳管", "融资担保", "驻企专员",
    "企业家座谈会", "技术开发", "品牌管理", "会计事务", "法律法务", "降本减负",
)
# Words that say nothing about the topic: particles, pronouns, greetings, filler.
_STOPWORD_TEXT = """
的 了 是 在 我 我们 你 你们 他 她 它 公司 企业 这个 那个 这 那 有 和 与 及 就 都 也 还 又 想 要
需要 希望 咨询 问题 请问 一下 一个 怎么 如何 什么 哪里 能否 是否 可以 能不能 没有 不 吗 呢 吧 啊
您好 你好 谢谢 麻烦 关于 情况 反映 办理 相关 进行 目前 现在 已经 因为 所以 但是 如果 那么 一些
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[\u3400-\u9fffA-Za-z]")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def vocabulary() -> list[str]:
    words = list(NOTICE_TERMS)
    words += [k for rule in load_rules() for k in rule.keywords]
    words += list(CATEGORY_LABELS.values()) + list(MODE_LABELS.values())
    words += list(CHANNEL_LABELS.values())
    words += [label for subs in SUBCATEGORY_LABELS.values() for label in subs.values()]
    return list(dict.fromkeys(w for w in words if len(w) >= 2))


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer, built once (jieba loads its dictionary lazily, ~1 s)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            built = jieba.Tokenizer()
            for word in vocabulary():
                built.add_word(word, freq=20000)
            _tokenizer = built
    return _tokenizer


@lru_cache(maxsize=65536)
def _segment(text: str) -> tuple[str, ...]:
    words = tokenizer().lcut(text)
    return tuple(w for w in words
                 if len(w) >= 2 and w not in STOPWORDS and _WORD.search(w))


def segment(text: str) -> list[str]:
    """Content words of ``text`` (two characters or more, no stopwords)."""
    return list(_segment(unicodedata.normalize("NFKC", text or "").strip().lower()))
