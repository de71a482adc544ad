"""The bulletin as printed: a government 简报 (GB/T 9704-2012), read back through its PDF.

The PDF comes from the product's own export (``flask reports bulletin --out X.pdf`` and the
console's 下载（PDF）); poppler reads it back: page size, where the text sits (margins, type
area), the masthead's colour, the page numbers.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reports.bulletin import SECTIONS
from tests.reports.month import NOW_TEXT, build_month
from tests.reports.pdf_text import PdfPages, read_pdf

MM = 72 / 25.4  # points per millimetre


def _mm(points: float) -> float:
    return points / MM


def _bulletin_pdf(app: Any, tmp_path: Path) -> bytes:
    out = tmp_path / "bulletin.pdf"
    result = app.test_cli_runner().invoke(args=["reports", "bulletin", "--month", "2026-11",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _red_rows(pdf: bytes, page: int = 1) -> list[int]:
    """Rows (pixels at 72 dpi, from the top) of page ``page`` that hold pure red ink."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "b.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "72", "-f", str(page), "-l", str(page),
                        str(source), str(Path(tmp) / "p")], check=True)
        image = next(Path(tmp).glob("p*.ppm")).read_bytes()
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", image)
    assert header is not None
    width, height = int(header.group(1)), int(header.group(2))
    pixels = image[header.end():]
    rows = []
    for y in range(height):
        line = pixels[y * width * 3:(y + 1) * width * 3]
        if any(line[x] > 200 and line[x + 1] < 60 and line[x + 2] < 60
               for x in range(0, len(line), 3)):
            rows.append(y)
    return rows


def _body_words(pdf: PdfPages) -> list[Any]:
    """Every word but the page numbers (which sit under the type area by design)."""
    return [w for w in pdf.words if not re.fullmatch(r"[—\-–\d\s]+", w.text)]


def test_the_bulletin_pdf_has_the_standard_page_masthead_and_numbers(
        app: Any, session: Session, clock: Any, tmp_path: Path) -> None:
    build_month(session)
    clock.set_local(NOW_TEXT)
    data = _bulletin_pdf(app, tmp_path)
    pdf = read_pdf(data)
    assert pdf.mm == (210.0, 297.0)  # A4 portrait
    assert pdf.pages >= 2
    first = pdf.text(1)
    assert first.startswith("企业服务工作简报") and "第1期" in first
    assert "奉化区企业服务专班" in first and "2026年12月8日" in first
    assert "2026年11月企业诉求办理情况通报" in first
    text = "".join(pdf.text(p) for p in range(1, pdf.pages + 1))
    for heading in SECTIONS:
        assert heading in text
    assert "报送：区委作风办，相关领导" in text and "抄送：企服成员单位" in text
    assert "2026年12月8日印发" in text
    # The type area: 28 mm from the left, 156 mm wide; 37 mm from the top, 225 mm high.
    words = _body_words(pdf)
    left = min(w.x_min for w in words)
    right = max(w.x_max for w in words)
    top = min(w.y_min for w in words if w.page == 1)
    bottom = max(w.y_max for w in words)
    assert 27.0 <= _mm(left) <= 30.0, _mm(left)
    assert _mm(right) <= 28 + 156 + 0.5, _mm(right)
    assert _mm(right) >= 28 + 156 - 8, _mm(right)  # justified text reaches the right edge
    assert 37.0 <= _mm(top) <= 52.0, _mm(top)
    assert _mm(bottom) <= 37 + 225 + 1, _mm(bottom)
    # Page numbers “— n —” under the type area, outside: right on odd, left on even pages.
    for page in range(1, pdf.pages + 1):
        numbers = [w for w in pdf.words if w.page == page and w.text == str(page)]
        assert numbers, page
        number = max(numbers, key=lambda w: w.y_min)
        assert _mm(number.y_min) > 37 + 225, (page, _mm(number.y_min))
        line = "".join(w.text for w in pdf.words
                       if w.page == page and abs(w.y_min - number.y_min) < 2)
        assert line == f"—{page}—", line
        if page % 2:
            assert _mm(number.x_max) > 28 + 156 - 25, (page, _mm(number.x_max))
        else:
            assert _mm(number.x_min) < 28 + 25, (page, _mm(number.x_min))
    # The masthead is red; its red rule runs under the editor and date line.
    red = _red_rows(data)
    assert red and _mm(min(red)) < 37 + 30
    rule = max(r for r in red if _mm(r) < 37 + 70)
    byline = next(w for w in pdf.words if w.page == 1 and w.text.startswith("奉化区企业服务专班"))
    assert rule > byline.y_max
