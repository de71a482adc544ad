"""Chinese word segmentation with the hotline's own vocabulary (jieba).

One shared ``jieba.Tokenizer`` (not jieba's module-level default, so other users of jieba in
the process are unaffected) whose user dictionary holds the notice's terms
(``notice_terms.txt``), the routing vocabulary (keywords of ``routing/rules.yaml`` and
the category, sub-area, mode and channel labels), the unit names of the leading group, and any
words added later — the knowledge base adds its article titles. Without them jieba splits
“最多跑一地” or “专班商办” into pieces and a query never meets the article that uses the term.

``segment`` gives content words (precise mode: each character belongs to one word) for counting
topics; ``segment_for_search`` also gives the shorter words inside long ones (jieba's search
mode), so “综合服务中心” in an article is found by “服务中心” in a query.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import jieba

NOTICE_TERMS_PATH = Path(__file__).with_name("notice_terms.txt")
# How callers say things → the words articles use (read by the knowledge-base search; its
# article words are dictionary words here, so every process segments them alike).
COLLOQUIAL_PATH = Path(__file__).with_name("colloquial.txt")
# Filler and function words that say nothing about the topic: particles, pronouns, greetings,
# question words and the hesitations of a spoken message.
STOPWORDS_PATH = Path(__file__).with_name("stopwords.txt")
# Bump when a change of this module's code changes the words it gives for the same text (the
# dictionaries' own contents are hashed: knowledge.index_state). Stored tokens of the search
# indexes are then rebuilt in the background.
VERSION = 1

_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_WORDLIKE = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_user_words: set[str] = set()


def _read_stopwords() -> frozenset[str]:
    lines = STOPWORDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if not line.startswith("#") for w in line.split())


STOPWORDS: frozenset[str] = _read_stopwords()


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, and no spaces between Chinese characters.

    Vosk transcripts come as space-separated words; removing those spaces lets the user
    dictionary rejoin words the speech model split differently.
    """
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _SPACE_BETWEEN_CJK.sub("", text)


def read_terms_file(path: str | Path) -> list[str]:
    """Words of a dictionary file: one per line, ``#`` comments and blank lines ignored.

    A line may carry jieba's optional frequency and tag after the word; only the word is kept.
    """
    words: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line.split()[0])
    return words


def routing_vocabulary() -> list[str]:
    """Routing keywords, category / sub-area / mode / channel labels and unit names."""
    from cases.departments import DEPARTMENTS
    from cases.vocab import CHANNEL_LABELS, MODE_LABELS
    from routing.rules import CATEGORIES, SUBCATEGORIES, load_rules

    words: list[str] = [kw for rule in load_rules() for kw in rule.keywords]
    words += list(CATEGORIES.values())
    words += [label for subs in SUBCATEGORIES.values() for label in subs.values()]
    words += list(MODE_LABELS.values()) + list(CHANNEL_LABELS.values())
    words += [unit.name for unit in DEPARTMENTS]
    return words


def parse_colloquial(text: str) -> dict[str, tuple[str, ...]]:
    """``caller words => article words`` lines → caller word → article words."""
    mapping: dict[str, list[str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        keys = [normalize(w) for w in left.split()]
        targets = [normalize(w) for w in right.split()]
        if not arrow or not keys or not targets:
            raise ValueError(f"{COLLOQUIAL_PATH.name} line {number}: “{raw}”")
        for key in keys:
            known = mapping.setdefault(key, [])
            known += [t for t in targets if t != key and t not in known]
    return {key: tuple(targets) for key, targets in mapping.items()}


@lru_cache(maxsize=1)
def colloquial() -> dict[str, tuple[str, ...]]:
    """The shipped colloquial dictionary (a file of the release, read once per process)."""
    return parse_colloquial(COLLOQUIAL_PATH.read_text(encoding="utf-8"))


def default_user_words() -> list[str]:
    """The user dictionary every process starts with (article titles come on top).

    The colloquial dictionary's article words are in it, its caller words are not: “怎么样了”
    must stay filler words for everyone else (hot topics), the search finds it in the text.
    """
    targets = [t for ts in colloquial().values() for t in ts]
    return read_terms_file(NOTICE_TERMS_PATH) + routing_vocabulary() + targets


def _add(tokenizer: jieba.Tokenizer, words: Iterable[str]) -> int:
    added = 0
    for raw in words:
        word = normalize(raw).replace(" ", "")
        if len(word) < 2 or word in _user_words:
            continue
        tokenizer.add_word(word)  # frequency suggested by jieba so the word stays whole
        _user_words.add(word)
        added += 1
    return added


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer, built on first use with the default user dictionary."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                built = jieba.Tokenizer()
                built.initialize()
                _add(built, default_user_words())
                _tokenizer = built
    return _tokenizer


def add_words(words: Iterable[str]) -> int:
    """Add words (e.g. article titles) to the user dictionary; returns how many were new."""
    shared = tokenizer()
    with _lock:
        return _add(shared, words)


def user_words() -> frozenset[str]:
    """Words currently in the user dictionary (normalised)."""
    tokenizer()
    return frozenset(_user_words)


def _content(words: Iterable[str]) -> Iterator[str]:
    for word in words:
        word = word.strip()
        if word and word not in STOPWORDS and _WORDLIKE.search(word):
            yield word


def segment(text: str) -> list[str]:
    """Content words of ``text`` in order, precise mode: no stop words, punctuation or spaces."""
    return list(_content(tokenizer().cut(normalize(text), HMM=True)))


def words_as_said(text: str) -> list[str]:
    """Every word of ``text`` as the dictionary cuts it, fillers included (no HMM guesses).

    The colloquial dictionary's words count only where they stand as whole words: jieba's HMM
    would glue “证跑” together, 结婚证 is a word of its own, and 招人 is not in “招人才”.
    """
    return [w for w in (w.strip() for w in tokenizer().cut(normalize(text), HMM=False)) if w]


def _inner_words(word: str, known: dict[str, int]) -> Iterator[str]:
    """Dictionary words of two or more characters inside ``word`` (not ``word`` itself)."""
    size = len(word)
    for length in range(2, size):
        for start in range(size - length + 1):
            piece = word[start:start + length]
            if known.get(piece):
                yield piece


def segment_with_parts(text: str) -> list[tuple[str, list[str]]]:
    """Content words of ``text`` (precise mode), each with the dictionary words inside it."""
    shared = tokenizer()
    return [(word, [w for w in _inner_words(word, shared.FREQ) if w not in STOPWORDS]
             if len(word) > 2 else [])
            for word in _content(shared.cut(normalize(text), HMM=True))]


def segment_for_search(text: str) -> list[str]:
    """Like :func:`segment`, plus every dictionary word inside a longer word.

    jieba's own search mode only looks at two- and three-character pieces; here “查询办理进度”
    also gives “办理进度”, so a word added to the dictionary (an article title) never hides
    the words inside it from a process that has not loaded it.
    """
    return [w for word, parts in segment_with_parts(text) for w in (*parts, word)]
