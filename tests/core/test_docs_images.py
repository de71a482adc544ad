"""Images in the docs are in the repository: a reader of docs/*.md or the README sees them.

The console guide once pointed at ``test-artifacts/`` (test output, ignored by git): every
image was broken for anyone reading the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def tracked() -> set[str]:
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(listing.splitlines())


def test_every_image_in_the_docs_is_in_the_repository() -> None:
    files = tracked()
    broken = []
    for document in documents():
        for target in IMAGE.findall(document.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            path = (document.parent / target).resolve()
            relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else None
            if relative is None or relative.startswith("test-artifacts/") \
                    or relative not in files:
                broken.append(f"{document.name}: {target}")
    assert broken == []


def test_the_console_guide_has_its_pictures() -> None:
    guide = (ROOT / "docs" / "console.md").read_text(encoding="utf-8")
    assert len(IMAGE.findall(guide)) >= 15
