"""A Word document laid out as a Chinese government document (GB/T 9704-2012, 党政机关公文格式).

What the standard fixes and this module follows:

- A4 paper; top margin (天头) 37 mm, left margin (订口) 28 mm, type area 156 × 225 mm — so
  26 mm on the right and 35 mm at the bottom.
- Body text in 3号 (16 pt) 仿宋 with a fixed line pitch that gives 22 lines of 28
  characters on a page (225 mm / 22 ≈ 28.95 pt); first-level headings in 3号 黑体
  (“一、”), second-level in 3号 楷体 (“（一）”); titles in 2号 小标宋.
- Page numbers in 4号 (14 pt) 宋体 Arabic digits with a dash on each side, “— 1 —”, about
  7 mm below the type area, on the outside edge: right on odd pages, left on even pages,
  one character in from the edge.
- The closing block (版记): 抄送/报送 and the issuing office with the date, between rules
  as wide as the type area — thick rules first and last, thin ones between.

A 简报 has its own masthead (版头): the bulletin's name in red 小标宋, its issue number, the
editing office on the left and the date on the right above a red rule.

Fonts are named as an office's computers have them (方正小标宋简体, 仿宋_GB2312, 黑体,
楷体_GB2312); where they are missing, ``reports/fonts.conf`` maps them to fonts Debian
packages for the PDF (:mod:`reports.pdf`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, LEFT = Mm(37), Mm(28)
TYPE_WIDTH, TYPE_HEIGHT = Mm(156), Mm(225)
RIGHT = Mm(210 - 28 - 156)
BOTTOM = Mm(297 - 37 - 225)
# The page number's baseline sits about 7 mm under the type area.
FOOTER_DISTANCE = Mm(297 - 37 - 225 - 7 - 5)
LINE_PITCH = Pt(28.95)  # 22 lines in the type area

XIAOBIAOSONG = "方正小标宋简体"
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"

SIZE_3 = Pt(16)  # 三号
SIZE_2 = Pt(22)  # 二号
SIZE_4 = Pt(14)  # 四号
SIZE_SMALL_4 = Pt(12)  # 小四
RED = RGBColor(0xFF, 0x00, 0x00)
INDENT = "\u3000"  # one character (a full-width space)


@dataclass(frozen=True)
class Masthead:
    """The 简报's 版头."""

    name: str  # e.g. 企业服务工作简报
    issue: str  # e.g. 第12期
    editor: str  # 编发单位
    date_text: str  # e.g. 2026年12月8日


@dataclass(frozen=True)
class Closing:
    """The 版记: who receives it, who prints it and when."""

    report_to: str  # 报送
    copy_to: str  # 抄送
    printer: str  # 印发单位
    printed_on: str  # e.g. 2026年12月8日


def _fonts(run: Any, east_asia: str, size: Any, *, bold: bool = False,
           color: RGBColor | None = None, latin: str = LATIN) -> None:
    run.font.name = latin
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    properties = run._element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _border(paragraph: Any, edge: str, *, size_eighths: int, color: str = "000000") -> None:
    """A rule along one edge of a paragraph (``size_eighths``: width in 1/8 pt)."""
    properties = paragraph._p.get_or_add_pPr()
    borders = properties.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        properties.append(borders)
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)


def _field(paragraph: Any, instruction: str, east_asia: str, size: Any) -> None:
    """A Word field (``PAGE``) whose result the word processor fills in."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None),
                       (None, "1"), ("end", None)):
        run = paragraph.add_run()
        _fonts(run, east_asia, size, latin=SONGTI)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == instruction:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = f" {instruction} "
            run._r.append(code)
        else:
            run.text = text or ""


class OfficialDocument:
    """Builds a document in the standard's layout; :meth:`bytes` gives the .docx."""

    def __init__(self) -> None:
        self.document = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.top_margin, section.bottom_margin = TOP, BOTTOM
        section.left_margin, section.right_margin = LEFT, RIGHT
        section.header_distance = Mm(15)
        section.footer_distance = FOOTER_DISTANCE
        section.start_type = WD_SECTION.NEW_PAGE
        normal = self.document.styles["Normal"]
        normal.font.name = LATIN
        normal.font.size = SIZE_3
        fonts = normal.element.get_or_add_rPr().find(qn("w:rFonts"))
        if fonts is not None:
            fonts.set(qn("w:eastAsia"), FANGSONG)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = LINE_PITCH
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.space_after = Pt(0)
        self._page_numbers(section)

    # -- page furniture --------------------------------------------------------------------

    def _page_numbers(self, section: Any) -> None:
        """“— n —” in 4号宋体, outside: right on odd pages, left on even pages."""
        self.document.settings.odd_and_even_pages_header_footer = True
        for footer, alignment in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                                  (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.alignment = alignment
            indent = "right_indent" if alignment == WD_ALIGN_PARAGRAPH.RIGHT else "left_indent"
            setattr(paragraph.paragraph_format, indent, SIZE_4)  # one character in
            paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _fonts(paragraph.add_run("— "), SONGTI, SIZE_4, latin=SONGTI)
            _field(paragraph, "PAGE", SONGTI, SIZE_4)
            _fonts(paragraph.add_run(" —"), SONGTI, SIZE_4, latin=SONGTI)

    def masthead(self, head: Masthead) -> None:
        """The 简报's 版头: red name, issue number, editor and date above a red rule."""
        name = self.document.add_paragraph()
        name.alignment = WD_ALIGN_PARAGRAPH.CENTER
        name.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        name.paragraph_format.space_before = Pt(12)
        name.paragraph_format.space_after = Pt(12)
        _fonts(name.add_run(head.name), XIAOBIAOSONG, Pt(42), color=RED)
        issue = self.document.add_paragraph()
        issue.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fonts(issue.add_run(head.issue), FANGSONG, SIZE_3)
        byline = self.document.add_paragraph()
        byline.paragraph_format.tab_stops.add_tab_stop(TYPE_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
        # One character in from each side (a full-width space).
        _fonts(byline.add_run(f"{INDENT}{head.editor}\t{head.date_text}{INDENT}"), FANGSONG,
               SIZE_3)
        _border(byline, "bottom", size_eighths=18, color="FF0000")
        self.document.add_paragraph()

    def title(self, text: str) -> None:
        """The document's title: 2号小标宋, centred."""
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing = Pt(35)
        _fonts(paragraph.add_run(text), XIAOBIAOSONG, SIZE_2)
        self.document.add_paragraph()

    # -- text ------------------------------------------------------------------------------

    def heading(self, text: str, level: int = 1) -> Any:
        """First level (“一、”) in 黑体, second level (“（一）”) in 楷体; both 3号."""
        paragraph = self.document.add_paragraph(style=f"Heading {level}")
        paragraph.paragraph_format.first_line_indent = SIZE_3 * 2
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        paragraph.paragraph_format.line_spacing = LINE_PITCH
        paragraph.paragraph_format.space_before = Pt(0)
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.keep_with_next = True
        _fonts(paragraph.add_run(text), HEITI if level == 1 else KAITI, SIZE_3,
               color=RGBColor(0, 0, 0))
        return paragraph

    def paragraph(self, text: str = "", *, indent: bool = True) -> Any:
        """Body text: 3号仿宋, first line indented two characters."""
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if indent:
            paragraph.paragraph_format.first_line_indent = SIZE_3 * 2
        if text:
            self.run(paragraph, text)
        return paragraph

    def run(self, paragraph: Any, text: str, *, bold: bool = False,
            east_asia: str = FANGSONG) -> Any:
        run = paragraph.add_run(text)
        _fonts(run, east_asia, SIZE_3, bold=bold)
        return run

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]],
              widths_mm: Sequence[float] | None = None) -> Any:
        """A ruled table in 小四仿宋 (header in 黑体), as wide as the type area."""
        table = self.document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cells, values, face in ((table.rows[0].cells, header, HEITI),
                                    *((None, row, FANGSONG) for row in rows)):
            cells = cells if cells is not None else table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                paragraph = cell.paragraphs[0]
                paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                paragraph.paragraph_format.first_line_indent = Pt(0)
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _fonts(paragraph.add_run(value), face, SIZE_SMALL_4)
        if widths_mm:
            for row in table.rows:
                for cell, width in zip(row.cells, widths_mm, strict=True):
                    cell.width = Mm(width)
        return table

    def picture(self, png: bytes, width_mm: float = 150) -> None:
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(width_mm))

    # -- closing block -------------------------------------------------------------------

    def closing(self, end: Closing) -> None:
        """版记: 报送 and 抄送 lines, then the printing office and date, between rules."""
        self.document.add_paragraph()
        lines = [(f"{INDENT}报送：{end.report_to}", 8), (f"{INDENT}抄送：{end.copy_to}", 4)]
        for text, size in lines:
            paragraph = self.document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(0)
            _border(paragraph, "top", size_eighths=size)
            _fonts(paragraph.add_run(text), FANGSONG, SIZE_4)
        printed = self.document.add_paragraph()
        printed.paragraph_format.first_line_indent = Pt(0)
        printed.paragraph_format.tab_stops.add_tab_stop(TYPE_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
        _border(printed, "top", size_eighths=4)
        _border(printed, "bottom", size_eighths=8)
        _fonts(printed.add_run(f"{INDENT}{end.printer}\t{end.printed_on}印发{INDENT}"),
               FANGSONG, SIZE_4)

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()
