"""The repository stands on its own: citations point at its own docs, and they exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".git", "node_modules", "instance", "test-artifacts"}


def repository_texts() -> list[Path]:
    return [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".yaml"}
            and not SKIP.intersection(p.relative_to(ROOT).parts)]


def test_no_citation_of_a_document_outside_the_repository() -> None:
    outside = [f"{p.relative_to(ROOT)}:{n}" for p in repository_texts()
               for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
               if re.search(r"DESIGN(\.md)? ?§", line)]
    assert outside == []


def test_every_decisions_citation_names_an_existing_section() -> None:
    sections = set(re.findall(r"^## (§\d+)", (ROOT / "docs" / "decisions.md").read_text(),
                              re.MULTILINE))
    cited = {(str(p.relative_to(ROOT)), s) for p in repository_texts()
             for s in re.findall(r"decisions\.md (§\d+)", p.read_text(errors="replace"))}
    assert len(cited) >= 10
    assert sorted(c for c in cited if c[1] not in sections) == []
