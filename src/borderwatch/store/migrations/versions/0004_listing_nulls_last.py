"""On PostgreSQL, the listing index in the listing order: newest first, undated events last.

SQLite's DESC already puts NULLs last, so its index from 0003 serves `Store.query_events` as is.
PostgreSQL's DESC puts NULLs first, so there the 0003 index could not serve the query's
``date_start DESC NULLS LAST`` order and every page sorted all matches; it is rebuilt here.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _rebuild(date_start_order: str) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_index("ix_events_listing", table_name="events")
    op.create_index(
        "ix_events_listing",
        "events",
        [sa.text(f"date_start {date_start_order}"), "doc_id", "seq", "historical"],
    )


def upgrade() -> None:
    _rebuild("DESC NULLS LAST")


def downgrade() -> None:
    _rebuild("DESC")
