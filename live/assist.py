"""Help while the caller speaks: knowledge-base articles and the case form's fields.

Both come from the packages that own them: ``knowledge.search.search`` ranks the articles,
``extraction.extract`` reads the fields (docs/extraction.md). Each inbound final utterance
asks again with everything the caller said so far.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from extraction.directory import Directory, load_directory
from extraction.extract import extract
from knowledge.search import search

ARTICLES = 3


def make_assist(session_scope: Callable[[], AbstractContextManager[Session]],
                today: Callable[[], date]) -> Callable[[str], dict[str, Any]]:
    """A function of the caller's words so far (one per stream: the directory is kept)."""
    directory: list[Directory] = []

    def assist(text: str) -> dict[str, Any]:
        with session_scope() as session:
            if not directory:
                directory.append(load_directory(session))
            hits = search(session, text, today=today(), limit=ARTICLES)
        articles = [{"id": h.article_id, "title": h.title, "matched": list(h.matched)}
                    for h in hits[:ARTICLES]]
        return {"articles": articles, "fields": extract(text, directory[0]).as_dict()}

    return assist
