"""Reading a PDF the way a person looks at it: pages, page size, text and where it sits.

Uses poppler-utils (``pdfinfo``, ``pdftotext``), installed by ``.ci/run``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class PdfPages:
    pages: int
    width: float  # points
    height: float
    words: list[Word]

    def text(self, page: int) -> str:
        """The page's text with no spaces (CJK words come out in pieces)."""
        return "".join(w.text for w in self.words if w.page == page)

    @property
    def mm(self) -> tuple[float, float]:
        return round(self.width / 72 * 25.4, 1), round(self.height / 72 * 25.4, 1)


def read_pdf(data: bytes) -> PdfPages:
    with tempfile.TemporaryDirectory(prefix="test-pdf-") as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
        assert size is not None
        html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    words: list[Word] = []
    page = 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">(.*)</word>', line)
        if found:
            x0, y0, x1, y1 = (float(found.group(i)) for i in range(1, 5))
            words.append(Word(page, unescape(found.group(5)), x0, y0, x1, y1))
    return PdfPages(pages, float(size.group(1)), float(size.group(2)), words)
