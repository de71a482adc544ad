"""call queue: operators (agents), callers' places, offers, wrap-up outcomes

The office-hours queue (callqueue/, docs/queue.md): one row per operator with device,
skills and presence; one per caller who reached the queue (or was turned away, or asked
for a callback); one per attempt to give a caller to an operator; one per recorded outcome.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_lock")),
    )
    op.execute("INSERT INTO queue_lock (id, changes) VALUES (1, 0)")
    op.create_table(
        "queue_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=True),
        sa.Column("skills", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("idle_since", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("wrapup_until", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("last_entry_id", sa.Integer(), nullable=True),
        sa.Column("notice", sa.String(length=200), nullable=True),
        sa.Column("notice_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("seen_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_agents")),
        sa.UniqueConstraint("user_id", name=op.f("uq_queue_agents_user_id")),
        sa.UniqueConstraint("username", name=op.f("uq_queue_agents_username")),
    )
    op.create_table(
        "queue_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("subarea", sa.String(length=32), nullable=True),
        sa.Column("place_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.Column("wrapup_seconds", sa.Integer(), nullable=True),
        sa.Column("left_reason", sa.String(length=16), nullable=True),
        sa.Column("origin_id", sa.Integer(), nullable=True),
        sa.Column("deadline", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["queue_agents.id"],
                                name=op.f("fk_queue_entries_agent_id_queue_agents")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_queue_entries_call_id_calls")),
        sa.ForeignKeyConstraint(["origin_id"], ["queue_entries.id"],
                                name=op.f("fk_queue_entries_origin_id_queue_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_entries")),
        sa.UniqueConstraint("kind", "call_sid", name="uq_queue_entries_kind_call_sid"),
    )
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_entries_agent_id"), ["agent_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_queue_entries_call_id"), ["call_id"],
                              unique=False)
        batch_op.create_index("ix_queue_entries_enqueued_at", ["enqueued_at"], unique=False)
        batch_op.create_index("ix_queue_entries_open", ["status", "place_at"], unique=False)
    op.create_table(
        "queue_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("operator_call_sid", sa.String(length=64), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["queue_agents.id"],
                                name=op.f("fk_queue_offers_agent_id_queue_agents")),
        sa.ForeignKeyConstraint(["entry_id"], ["queue_entries.id"],
                                name=op.f("fk_queue_offers_entry_id_queue_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_offers")),
        sa.UniqueConstraint("operator_call_sid", name=op.f("uq_queue_offers_operator_call_sid")),
    )
    with op.batch_alter_table("queue_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_offers_agent_id"), ["agent_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_queue_offers_entry_id"), ["entry_id"],
                              unique=False)
    op.create_table(
        "call_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["queue_agents.id"],
                                name=op.f("fk_call_outcomes_agent_id_queue_agents")),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_call_outcomes_article_id_kb_articles")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_call_outcomes_call_id_calls")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_call_outcomes_case_id_cases")),
        sa.ForeignKeyConstraint(["entry_id"], ["queue_entries.id"],
                                name=op.f("fk_call_outcomes_entry_id_queue_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_outcomes")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_call_outcomes_entry_id")),
    )
    with op.batch_alter_table("call_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_outcomes_agent_id"), ["agent_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_call_outcomes_call_id"), ["call_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("call_outcomes")
    op.drop_table("queue_offers")
    op.drop_table("queue_entries")
    op.drop_table("queue_agents")
    op.drop_table("queue_lock")
