"""Alembic environment for the Borderwatch store.

The store runs migrations itself (``borderwatch.store.migrate``) and hands over an open
connection; offline mode renders the SQL for a URL instead, for review before a PostgreSQL
deployment is upgraded by hand.
"""

from alembic import context

from borderwatch.store.schema import Base

config = context.config


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """The watcher's bookkeeping table lives beside the schema, outside alembic's care."""
    return not (type_ == "table" and name == "watch_seen")


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
        include_name=include_name,
    )
else:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )

with context.begin_transaction():
    context.run_migrations()
