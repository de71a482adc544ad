"""The centre has one name, the notice's: 奉化区企业“最多跑一地”综合服务中心.

Pages, prompts, texts, exports and the API used to spell it three ways (企业服务中心,
奉化区“最多跑一地”企业综合服务中心, 综合服务中心). Every text a person reads or hears — string
literals in the code (not docstrings or comments, where 服务中心 may be discussed as a word),
templates and call flows — names a 服务中心 only as ``core.centre.CENTRE_NAME`` or as a
department's own name. How callers ask (knowledge-base and evaluation data) is not scanned.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from core.centre import CENTRE_NAME

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"tests", ".venv", "node_modules", "test-artifacts", "instance", "evaluation",
                "docs"}
# What a knowledge-base spreadsheet may write for the centre (accepted on import).
SKIPPED_FILES = {"knowledge/transfer.py"}
MENTION = re.compile(r"[\u4e00-\u9fff“”]*服务中心")
DEPARTMENTS = {"区金融发展服务中心"}


def _texts(path: Path) -> Iterator[str]:
    """What a person may read or hear from ``path``: a template's or flow's text, or the
    string literals of a module other than its docstrings."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        yield source
        return
    tree = ast.parse(source)
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            yield node.value


@functools.cache  # the files do not change during a run
def mentions() -> tuple[tuple[str, str], ...]:
    found = []
    for pattern in ("*.py", "*.html", "call_flows/flows/*.yaml"):
        for path in ROOT.glob(pattern) if "/" in pattern else ROOT.rglob(pattern):
            relative = path.relative_to(ROOT)
            if set(relative.parts) & SKIPPED_DIRS or str(relative) in SKIPPED_FILES:
                continue
            for text in _texts(path):
                found += [(str(relative), m) for m in MENTION.findall(text)]
    return tuple(found)


def test_the_centre_is_named_one_way_everywhere() -> None:
    wrong = [(path, text) for path, text in mentions()
             if not text.endswith(CENTRE_NAME) and text not in DEPARTMENTS]
    assert wrong == []


def test_the_scan_finds_the_name() -> None:
    found = mentions()
    assert ("core/centre.py", CENTRE_NAME) in found
    assert any(path.startswith("call_flows/flows/") for path, _ in found)
    assert ("messaging/texts.py", "企业服务中心") not in found  # was the texts' spelling
