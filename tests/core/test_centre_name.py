"""The centre has one name, the notice's: 奉化区企业“最多跑一地”综合服务中心.

Pages, prompts, texts, exports, the API and the docs used to spell it three ways (企业服务中心,
奉化区“最多跑一地”企业综合服务中心, 综合服务中心). Every mention of a 服务中心 in the product's
code, templates, flows and docs is either that name (``core.centre.CENTRE_NAME``) or a
department's own name. How callers ask (knowledge-base questions and evaluation sets,
search dictionaries) is data about people's words and is not scanned.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.centre import CENTRE_NAME

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("*.py", "*.html", "*.yaml", "*.md")
SKIPPED_DIRS = {"tests", ".venv", "node_modules", "test-artifacts", "instance"}
# Caller phrasings and article content the knowledge base is searched with; the names a
# knowledge-base spreadsheet may write for the centre.
SKIPPED_FILES = {"knowledge/seed_articles.yaml", "knowledge/transfer.py"}
MENTION = re.compile(r"[\u4e00-\u9fff“”]*服务中心")
DEPARTMENTS = {"区金融发展服务中心"}


def mentions() -> list[tuple[str, str]]:
    found = []
    for pattern in SCANNED:
        for path in ROOT.rglob(pattern):
            relative = path.relative_to(ROOT)
            if set(relative.parts) & SKIPPED_DIRS or str(relative) in SKIPPED_FILES:
                continue
            for match in MENTION.finditer(path.read_text(encoding="utf-8")):
                if not match.group(0).startswith("“"):  # a word in quotes, not a name
                    found.append((str(relative), match.group(0)))
    return found


def test_the_centre_is_named_one_way_everywhere() -> None:
    wrong = [(path, text) for path, text in mentions()
             if not text.endswith(CENTRE_NAME) and text not in DEPARTMENTS]
    assert wrong == []


def test_the_scan_finds_the_name() -> None:
    assert ("core/centre.py", CENTRE_NAME) in mentions()
    assert any(path.startswith("call_flows/flows/") for path, _ in mentions())
