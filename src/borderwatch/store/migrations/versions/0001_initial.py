"""Initial schema: documents, their URLs, events and place mentions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("outlet", sa.Text(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("published", sa.String(), nullable=True),
        sa.Column("fetched_at", sa.String(), nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("clean_text", sa.Text(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
    )
    op.create_table(
        "document_urls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["documents.id"],
            name="fk_document_urls_doc_id_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_document_urls"),
        sa.UniqueConstraint("doc_id", "url", name="uq_document_urls_doc_id"),
    )
    op.create_index("ix_document_urls_doc_id", "document_urls", ["doc_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=True),
        sa.Column("context", sa.String(), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("actors", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("actor_codes", sa.Text(), nullable=False),
        sa.Column("recipient_codes", sa.Text(), nullable=False),
        sa.Column("place", sa.JSON(), nullable=True),
        sa.Column("place_lat", sa.Float(), nullable=True),
        sa.Column("place_lon", sa.Float(), nullable=True),
        sa.Column("place_country", sa.String(), nullable=True),
        sa.Column("place_admin1", sa.String(), nullable=True),
        sa.Column("date_start", sa.String(), nullable=True),
        sa.Column("date_end", sa.String(), nullable=True),
        sa.Column("granularity", sa.String(), nullable=False),
        sa.Column("historical", sa.Boolean(), nullable=False),
        sa.Column("future", sa.Boolean(), nullable=False),
        sa.Column("hypothetical", sa.Boolean(), nullable=False),
        sa.Column("negated", sa.Boolean(), nullable=False),
        sa.Column("claim", sa.JSON(), nullable=False),
        sa.Column("stance", sa.String(), nullable=False),
        sa.Column("claimant_code", sa.String(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("evidence_text", sa.Text(), nullable=False),
        sa.Column("proximity", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["documents.id"],
            name="fk_events_doc_id_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_doc_id", "events", ["doc_id"])
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_place_country", "events", ["place_country"])
    op.create_index("ix_events_date_start", "events", ["date_start"])
    op.create_table(
        "place_mentions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("start_char", sa.Integer(), nullable=False),
        sa.Column("end_char", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("place", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["documents.id"],
            name="fk_place_mentions_doc_id_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_place_mentions"),
    )
    op.create_index("ix_place_mentions_doc_id", "place_mentions", ["doc_id"])


def downgrade() -> None:
    op.drop_table("place_mentions")
    op.drop_table("events")
    op.drop_table("document_urls")
    op.drop_table("documents")
