"""Alembic environment for the Borderwatch store.

The store runs migrations itself (``borderwatch.store.migrate``) and hands over an open
connection; offline mode renders the SQL for a URL instead, for review before a PostgreSQL
deployment is upgraded by hand.
"""

from alembic import context

from borderwatch.store.schema import Base

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
else:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )

with context.begin_transaction():
    context.run_migrations()
