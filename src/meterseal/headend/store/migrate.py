"""The store's schema, created and upgraded only by ordered migration files.

Owns: finding the migrations (``migrations/NNNN_name.sql``, applied in number order, each in
its own transaction with its row in ``schema_version``), upgrading a store to the newest one this
meterseal knows, and refusing a store whose schema is newer than that.

Must not know: what the tables hold (the files say), how rows get there (store.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from meterseal.headend.store.db import Db, StoreError

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self, db: Db) -> list[str]:
        """The file's statements in the store's dialect (comments dropped, split at ';')."""
        lines = [ln.split("--", 1)[0] for ln in self.path.read_text(encoding="utf-8").splitlines()]
        text = db.dialect.render("\n".join(lines))
        return [s.strip() for s in text.split(";") if s.strip()]


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.fullmatch(path.name)
        if m is None:
            raise RuntimeError(f"{path.name}: a migration is named NNNN_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1, 2, 3, … without gaps: {numbers}")
    return found


LATEST: Final = len(migrations())


def current_version(db: Db) -> int:
    with db.transaction():
        db.execute(VERSION_TABLE)
    rows = db.query("SELECT max(version) FROM schema_version")
    return int(rows[0][0] or 0)


def upgrade(db: Db, target: int | None = None) -> int:
    """Apply every migration above the store's version up to ``target`` (default: the latest);
    the version the store is at afterwards. A store newer than this meterseal is refused."""
    known = migrations()
    goal = len(known) if target is None else target
    have = current_version(db)
    if have > len(known):
        raise StoreError(
            f"the store at {db.where} has schema version {have}, newer than this meterseal's"
            f" {len(known)}: upgrade meterseal to use it"
        )
    for mig in known[have:goal]:
        with db.transaction():
            db.lock_for_migration()
            # Another head-end may have applied it while we waited for the lock.
            done = db.query("SELECT 1 FROM schema_version WHERE version = ?", (mig.version,))
            if done:
                continue
            for stmt in mig.statements(db):
                db.execute(stmt)
            db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (mig.version, mig.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
    return max(have, goal)
