"""The paper venue's durable state: one SQLite file that a single venue owns at a time.

A real venue keeps its books whatever happens to the client; the paper venue lives inside the
engine's process, so without this file ``kill -9`` would take the venue's books with it and a
resumed engine would meet a venue that had never heard of its orders.  The file holds the
order records (by venue order id), the trades, and one row of small state (account, prices,
books, session id).  Each :meth:`VenueStore.commit` is one SQLite transaction in WAL mode with
``synchronous=NORMAL``: once it returns it survives the process being killed (not a power cut,
like the journal's default durability).

The connection takes SQLite's exclusive lock and keeps it until :meth:`VenueStore.close` (or the
process dies, when the operating system drops it), so a second venue on the same file is refused
instead of silently forking the books.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from autotrader.errors import ConfigError

__all__ = ["SCHEMA_VERSION", "StoredState", "VenueStore"]

SCHEMA_VERSION: Final = 1
_SCHEMA: Final = (
    "CREATE TABLE orders"
    " (venue_order_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, record TEXT NOT NULL)",
    "CREATE TABLE fills (seq INTEGER PRIMARY KEY, trade_id TEXT NOT NULL UNIQUE, fill TEXT NOT NULL)",
    "CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@attrs.frozen
class StoredState:
    """Everything the file holds, as plain data (the venue structures it)."""

    orders: list[dict[str, Any]]
    """Order records in arrival order."""
    fills: list[dict[str, Any]]
    """Fills in time order."""
    state: dict[str, Any] | None
    """The small state; ``None`` for a new file."""


class VenueStore:
    """Owns the state file while open; writes are whole transactions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN EXCLUSIVE")  # taken now, held until close
            self._migrate(self._db)
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._db.close()
            self._db = None
            if "locked" in str(exc):
                raise ConfigError(
                    "paper.state_file",
                    f"{self.path} is held by another paper venue (another autotrader process?); "
                    "one venue owns its state at a time",
                ) from None
            raise ConfigError("paper.state_file", f"{self.path}: {exc}") from None

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConfigError(
                "paper.state_file", f"{self.path} has schema {version}, newer than this plugin's"
            )
        if version == 0:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @property
    def closed(self) -> bool:
        return self._db is None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise ConfigError("paper.state_file", f"{self.path} is closed: connect the adapter again")
        return self._db

    def load(self) -> StoredState:
        db = self._connection()
        orders = [json.loads(r) for (r,) in db.execute("SELECT record FROM orders ORDER BY seq")]
        fills = [json.loads(f) for (f,) in db.execute("SELECT fill FROM fills ORDER BY seq")]
        row = db.execute("SELECT state FROM state WHERE id = 1").fetchone()
        return StoredState(orders, fills, json.loads(row[0]) if row else None)

    def commit(
        self,
        orders: Iterable[tuple[int, str, Mapping[str, Any]]],
        fills: Iterable[tuple[str, Mapping[str, Any]]],
        state: Mapping[str, Any],
    ) -> None:
        """Upsert ``orders`` (arrival seq, venue order id, record), append ``fills``, replace the state."""
        db = self._connection()
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO orders (venue_order_id, seq, record) VALUES (?, ?, ?) "
                "ON CONFLICT (venue_order_id) DO UPDATE SET record = excluded.record",
                [(venue_id, seq, _dumps(record)) for seq, venue_id, record in orders],
            )
            db.executemany(
                "INSERT INTO fills (trade_id, fill) VALUES (?, ?)",
                [(trade_id, _dumps(fill)) for trade_id, fill in fills],
            )
            db.execute("INSERT OR REPLACE INTO state (id, state) VALUES (1, ?)", (_dumps(state),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Release the file (and its lock)."""
        if self._db is not None:
            self._db.close()
            self._db = None
