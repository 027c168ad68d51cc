"""The words that set an event's status ("historical: In 2022", "future: will", "negated: never"),
so a reader can see why an event was set aside as background, forecast or denial.

Events stored before this revision have none (NULL, read as an empty list).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("status_cues", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "status_cues")
