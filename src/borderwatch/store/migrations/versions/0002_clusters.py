"""Assessment tables: MinHash signatures, clusters and their members, claims, alerts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "minhashes",
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("copy_of", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["documents.id"],
            name="fk_minhashes_doc_id_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_id", name="pk_minhashes"),
    )
    op.create_index("ix_minhashes_copy_of", "minhashes", ["copy_of"])
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("first_reported", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("outlets", sa.JSON(), nullable=False),
        sa.Column("independent_outlets", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clusters"),
    )
    op.create_index("ix_clusters_type", "clusters", ["type"])
    op.create_table(
        "cluster_members",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("cluster_id", sa.String(64), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"],
            name="fk_cluster_members_event_id_events", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"],
            name="fk_cluster_members_cluster_id_clusters", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["documents.id"],
            name="fk_cluster_members_doc_id_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_cluster_members"),
    )
    op.create_index("ix_cluster_members_cluster_id", "cluster_members", ["cluster_id"])
    op.create_index("ix_cluster_members_doc_id", "cluster_members", ["doc_id"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("cluster_id", sa.String(64), nullable=True),
        sa.Column("claimant_code", sa.String(), nullable=True),
        sa.Column("stance", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"],
            name="fk_claims_event_id_events", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"],
            name="fk_claims_cluster_id_clusters", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claims"),
    )
    op.create_index("ix_claims_event_id", "claims", ["event_id"])
    op.create_index("ix_claims_cluster_id", "claims", ["cluster_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("as_of", sa.String(), nullable=False),
        sa.Column("border", sa.String(), nullable=True),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_rule", "alerts", ["rule"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("claims")
    op.drop_table("cluster_members")
    op.drop_table("clusters")
    op.drop_table("minhashes")
