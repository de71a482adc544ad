"""Every console page, as every role, over a realistic day: no code names in what people read.

The walk starts from every parameterless page a role may open and follows every console link
it finds (a few variants of each page's query string), plus error pages. From each HTML page
it takes the text a person sees (text nodes, button and placeholder texts, titles, labels,
option texts, the values of visible inputs) and fails on any token with three or more
lowercase ASCII letters or underscores in a row (``office_hours``, ``no-answer``,
``merged_into_id``, ``RecordingSid``) unless the token is one of the things shown on purpose:
web addresses, Twilio SIDs, account names, device addresses (sip:…), the speech model's name,
the names of products an administrator deals with (Redis, Mermaid, Excel), and text marked as
technical
(``<code>``, ``<pre>``: a command to run, an error's technical detail, a flow file's node ids).
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import write_tone_wav
from tests.console.conftest import Accounts
from tests.console.world import World, build_world

ROLES = ("operator", "department", "supervisor", "admin")
CODE = re.compile(r"[a-z_]{3,}")
TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@\-]*")
# Shown on purpose: addresses, Twilio ids (CA…, RE…), the speech model of a transcript.
ALLOWED = [
    re.compile(r"^(https?://|www\.)\S*$"),
    re.compile(r"^[^@\s]+@[^@\s]+$"),
    re.compile(r"^(CA|RE|SM|AC|PN|MG)[0-9a-f]{32}$"),
    re.compile(r"^vosk-model-[a-z0-9.\-]+$"),
    # A guide the page refers to by its path in the repository.
    re.compile(r"^docs/[\w.-]+\.md$"),
    # Where an operator's phone rings, written as a device address (sip:…, client:…).
    re.compile(r"^(sip|client|tel):"),
]
SKIP_TAGS = {"script", "style", "template", "head", "title", "code", "pre", "kbd", "samp"}
PRODUCTS = {"Redis", "Mermaid", "Excel", "Word", "Twilio", "Vosk"}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label", "label")
PAGE_LIMIT = 400
VARIANTS_PER_PATH = 4
# Links that are files or actions, not pages.
NOT_PAGES = re.compile(r"/(audio|document|export|download)(/|$)|\.(docx|xlsx|csv|png|svg)$")


class VisibleText(HTMLParser):
    """The text of a page as a person sees it (and hears it through a screen reader)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SKIP_TAGS:
            self.skipping += 1
            return
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name] or "")
        kind = (values.get("type") or "text").lower()
        if tag == "input" and kind not in ("hidden", "password", "checkbox", "radio"):
            self.parts.append(values.get("value") or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in SKIP_TAGS:
            self.skipping -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def codes_in(text: str, allowed_words: set[str]) -> list[str]:
    found = []
    for raw in TOKEN.findall(text):
        if any(pattern.match(raw) for pattern in ALLOWED):
            continue
        token = raw.strip(".:-/")
        if not CODE.search(token) or token in allowed_words or token in PRODUCTS:
            continue
        if any(pattern.match(token) for pattern in ALLOWED):
            continue
        found.append(token)
    return found


def context(text: str, token: str) -> str:
    at = text.find(token)
    return " ".join(text[max(0, at - 40): at + len(token) + 40].split())


def start_pages(app: Any, role: str) -> list[str]:
    from console.views import ROUTE_ROLES

    pages = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()):
            continue
        if role in ROUTE_ROLES.get(rule.endpoint, ()) and not NOT_PAGES.search(rule.rule):
            pages.append(rule.rule)
    return sorted(pages)


def walk(client: Any, app: Any, role: str, world: World, allowed_words: set[str]
         ) -> tuple[dict[str, list[str]], int]:
    """Problems per page (``path`` → tokens with their context), and pages walked."""
    queue = [*start_pages(app, role),
             *(f"/console/cases/{case.id}" for case in world.cases.values()),
             "/console/no-such-page", "/console/cases/999999", "/no-such-page"]
    seen: set[str] = set()
    variants: dict[str, int] = defaultdict(int)
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < PAGE_LIMIT:
        target = queue.pop(0)
        parts = urlsplit(target)
        if target in seen or parts.netloc or NOT_PAGES.search(parts.path):
            continue
        if parts.query and variants[parts.path] >= VARIANTS_PER_PATH:
            continue
        seen.add(target)
        variants[parts.path] += 1
        response = client.get(target)
        if response.status_code in (301, 302, 303, 307, 308):
            queue.append(response.headers["Location"])
            continue
        if response.mimetype != "text/html":
            continue
        parser = VisibleText()
        parser.feed(response.get_data(as_text=True))
        text = " ".join(parser.parts)
        tokens = codes_in(text, allowed_words)
        if tokens:
            problems[target] = [f"{t!r} in “{context(text, t)}”" for t in dict.fromkeys(tokens)]
        for link in parser.links:
            link_parts = urlsplit(link)
            if not link_parts.netloc and link_parts.path.startswith("/console/") \
                    and "/logout" not in link_parts.path:
                queue.append(link_parts.path + (f"?{link_parts.query}" if link_parts.query
                                                 else ""))
    return problems, len(seen)


@pytest.fixture
def world(app: Any, clock: Any, phone: Any, accounts: Accounts, tmp_path: Path) -> World:
    return build_world(app, clock, phone, write_tone_wav(tmp_path / "message.wav"))


def test_no_code_names_on_any_page_for_any_role(client: Any, app: Any, sign_in: Any,
                                                 accounts: Accounts, world: World) -> None:
    usernames = {accounts.by_role(r).username for r in ROLES} | {accounts.dept_b.username}
    report = []
    walked = {}
    for role in ROLES:
        sign_in(accounts.by_role(role))
        problems, count = walk(client, app, role, world, usernames)
        walked[role] = count
        report += [f"[{role}] {path}: {'; '.join(found)}" for path, found in problems.items()]
    # The walk went deep: cases, calls, articles, reports, admin pages.
    assert walked["operator"] > 40 and walked["admin"] > walked["operator"], walked
    assert walked["department"] > 10, walked
    assert not report, f"code names shown to people (pages walked: {walked}):\n" + "\n".join(
        report)
