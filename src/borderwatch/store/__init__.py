"""The store stage: analyses saved to SQL (SQLite by default, PostgreSQL shared), events queried.

    store = open_store(url)          # creates and migrates the schema as needed
    store.save(analysis)             # one transaction per document
    store.query_events(country="BLR", since="2024-08-01")
"""

from borderwatch.store.database import Store, open_store, safe_url
from borderwatch.store.records import (
    Counts,
    SaveResult,
    StoredDocument,
    StoredEvent,
    event_id,
)

__all__ = [
    "Counts",
    "SaveResult",
    "Store",
    "StoredDocument",
    "StoredEvent",
    "event_id",
    "open_store",
    "safe_url",
]
