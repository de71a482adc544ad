"""The answers' simple rich text: paragraphs separated by blank lines, “- ” or “1. ” lists."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.、)])\s+")


def to_html(text: str) -> Markup:
    """Escaped HTML: ``<p>`` per paragraph, ``<ul>`` for consecutive list lines."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        items: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                items.append(f"<li>{escape(_BULLET.sub('', line, count=1))}</li>")
                continue
            if items:
                blocks.append("<ul>" + "".join(items) + "</ul>")
                items = []
            blocks.append(f"<p>{escape(line)}</p>")
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
    return Markup("".join(blocks))


