"""The head-end's store: SQLite by default, PostgreSQL by URL, one schema for both.

``db`` opens either database; ``migrate`` creates and upgrades the schema from the ordered files
in ``migrations/``; ``store`` is what the collector writes through. Table names other tools
read are in DESIGN.md ("The store (head-end)") and docs/headend.md.
"""

from meterseal.headend.store.db import DEFAULT_URL, StoreError
from meterseal.headend.store.migrate import LATEST, upgrade
from meterseal.headend.store.store import Store

__all__ = ["DEFAULT_URL", "LATEST", "Store", "StoreError", "upgrade"]
