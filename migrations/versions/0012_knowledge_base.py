"""knowledge base: articles, versions, synonyms, term statistics, search index

The search index is per dialect: an FTS5 table on SQLite; on PostgreSQL a table whose
generated tsvector columns (to_tsvector('simple', …) over the stored, pre-segmented tokens,
weighted per field; all fields, and title with phrasings only) have GIN indexes.

Revision ID: 0012
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("spoken_answer", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("subcategory", sa.String(length=16), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("source_document", sa.String(length=200), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.Boolean(), nullable=False),
        sa.Column("phone_order", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_kb_articles_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_department_id"), ["department_id"])
        batch_op.create_index("ix_kb_articles_state", ["state", "valid_until"])
        batch_op.create_index("ix_kb_articles_phone", ["phone", "phone_order"])

    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_kb_article_versions_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
    )
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_article_versions_article_id"), ["article_id"])

    op.create_table(
        "kb_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sa.String(length=500), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_synonyms")),
    )
    op.create_table(
        "kb_term_stats",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kb_term_stats")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE kb_search ("
            " article_id integer PRIMARY KEY REFERENCES kb_articles (id) ON DELETE CASCADE,"
            " title text NOT NULL, questions text NOT NULL, answer text NOT NULL,"
            " grams text NOT NULL,"
            # Copies of the article's filters, so candidates are chosen without a join.
            " published boolean NOT NULL DEFAULT false, phone boolean NOT NULL DEFAULT false,"
            " valid_from date, valid_until date,"
            " vector tsvector GENERATED ALWAYS AS ("
            "  setweight(to_tsvector('simple', title), 'A') ||"
            "  setweight(to_tsvector('simple', questions), 'B') ||"
            "  setweight(to_tsvector('simple', answer), 'C') ||"
            "  setweight(to_tsvector('simple', grams), 'D')) STORED,"
            # Title and phrasings only: candidates for queries made of common words.
            " head tsvector GENERATED ALWAYS AS ("
            "  setweight(to_tsvector('simple', title), 'A') ||"
            "  setweight(to_tsvector('simple', questions), 'B')) STORED)"
        )
        op.execute("CREATE INDEX ix_kb_search_vector ON kb_search USING gin (vector)")
        op.execute("CREATE INDEX ix_kb_search_head ON kb_search USING gin (head)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE kb_search USING fts5("
            "title, questions, answer, grams, tokenize = 'unicode61')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS kb_search")
    op.drop_table("kb_term_stats")
    op.drop_table("kb_synonyms")
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_versions_article_id"))
    op.drop_table("kb_article_versions")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_articles_phone")
        batch_op.drop_index("ix_kb_articles_state")
        batch_op.drop_index(batch_op.f("ix_kb_articles_department_id"))
    op.drop_table("kb_articles")
