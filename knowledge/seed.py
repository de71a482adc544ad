"""Seeding the starter articles (``seed_articles.yaml``) and default synonyms; idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.models import Department
from core.db import utcnow
from knowledge import search
from knowledge.models import Article, SynonymGroup
from knowledge.service import ArticleInput, create_article, set_phone_menu

SEED_PATH = Path(__file__).with_name("seed_articles.yaml")
SYNONYMS_PATH = Path(__file__).with_name("synonyms.txt")
SEED_ACTOR = Actor("admin", "系统初始化")


def starter_articles() -> tuple[str, list[dict[str, Any]]]:
    data = yaml.safe_load(SEED_PATH.read_text(encoding="utf-8"))
    return data["source_document"], data["articles"]


def seed_synonyms(session: Session) -> int:
    """The shipped synonym groups, only when the administrator has none yet."""
    if session.scalar(select(SynonymGroup.id).limit(1)) is not None:
        return 0
    return search.replace_synonyms(session, SYNONYMS_PATH.read_text(encoding="utf-8"),
                                   utcnow())


def seed_articles(session: Session) -> int:
    """Publish the starter articles missing by title; set the phone menu if it is empty."""
    document, articles = starter_articles()
    units = dict(session.execute(select(Department.name, Department.id)).tuples().all())
    existing = set(session.scalars(select(Article.title)))
    now = utcnow()
    created = 0
    for raw in articles:
        if raw["title"] in existing:
            continue
        data = ArticleInput(
            title=raw["title"], answer=raw["answer"], questions=raw.get("questions", []),
            spoken_answer=raw.get("spoken_answer", ""), category=raw.get("category"),
            subcategory=raw.get("subcategory"),
            department_id=units.get(raw.get("department") or ""),
            source_document=document)
        create_article(session, data, actor=SEED_ACTOR, now=now, publish=True, action="imported")
        created += 1
    if created and session.scalar(select(Article.id).where(Article.phone.is_(True))) is None:
        by_title = {a.title: a.id for a in session.scalars(select(Article))}
        menu = sorted((a for a in articles if a.get("phone_order")),
                      key=lambda a: a["phone_order"])
        set_phone_menu(session, [by_title[a["title"]] for a in menu], actor=SEED_ACTOR, now=now)
    return created


def seed_knowledge(session: Session, demo: bool) -> str:
    """``flask seed`` entry: synonyms, then the starter articles."""
    del demo  # the starter set is reference content, seeded with or without demo data
    groups = seed_synonyms(session)
    created = seed_articles(session)
    return f"knowledge base: {created} starter articles new, {groups} synonym groups new"


__all__ = ["seed_knowledge"]
