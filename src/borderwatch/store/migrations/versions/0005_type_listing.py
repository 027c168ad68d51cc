"""Events of one type in the listing order, so a type-filtered page needs no sort of its matches.

Without it, SQLite found a type's events through ``ix_events_type`` and sorted all of them (about
5,500 of 100,000) for every page; with it, a page reads its rows in order and stops
(`bench/api_latency.py`: 22 to 11 ms for that statement). It starts with ``type``, so it serves
every lookup ``ix_events_type`` served, which is dropped. On PostgreSQL the date is DESC NULLS LAST,
as in the listing index (see 0004); SQLite's DESC already puts NULLs last.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    nulls_last = " NULLS LAST" if op.get_context().dialect.name == "postgresql" else ""
    op.drop_index("ix_events_type", table_name="events")
    op.create_index(
        "ix_events_type_listing",
        "events",
        ["type", sa.text(f"date_start DESC{nulls_last}"), "doc_id", "seq", "historical"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_type_listing", table_name="events")
    op.create_index("ix_events_type", "events", ["type"])
