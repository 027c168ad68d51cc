"""An index in the event listing order, so a page of events needs no sort of every match.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_listing",
        "events",
        [sa.text("date_start DESC"), "doc_id", "seq", "historical"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_listing", table_name="events")
