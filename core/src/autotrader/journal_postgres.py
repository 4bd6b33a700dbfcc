"""The PostgreSQL journal backend, for several engines sharing one database.

Same records and the same batching guarantees as the SQLite journal; each engine writes its own
stream (``engine`` column, ``?engine=NAME`` in the URL) so that engines sharing a database do
not read each other's orders back on recovery.  Needs ``pip install 'autotrader[postgres]'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit, urlunsplit

from autotrader.journal import BufferedJournal

__all__ = ["PostgresJournal"]

SCHEMA_VERSION: Final = 2
_MIGRATIONS: Final = {
    1: [
        """CREATE TABLE IF NOT EXISTS autotrader_events (
               seq BIGSERIAL PRIMARY KEY,
               engine TEXT NOT NULL,
               ts DOUBLE PRECISION NOT NULL,
               kind TEXT NOT NULL,
               client_order_id TEXT,
               payload JSONB NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS autotrader_events_by_engine ON autotrader_events (engine, seq)",
        "CREATE INDEX IF NOT EXISTS autotrader_events_by_order ON autotrader_events (client_order_id)",
    ],
    # No table changes: an order's later changes are ``order_change`` records from here (see
    # the SQLite journal's version 3), which an older autotrader must not read as a whole log.
    2: [],
}


class PostgresJournal(BufferedJournal):
    def __init__(
        self,
        url: str,
        *,
        engine: str | None = None,
        max_delay: float = 0.05,
        max_buffer: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on what is installed
            raise ImportError(
                "the PostgreSQL journal needs psycopg: pip install 'autotrader[postgres]'"
            ) from exc
        super().__init__(max_delay=max_delay, max_buffer=max_buffer, clock=clock)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.engine = engine or query.pop("engine", ["default"])[0]
        dsn = urlunsplit(parts._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items())))
        self._db = psycopg.connect(dsn, autocommit=False)
        self._migrate()

    def _migrate(self) -> None:
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(7403274)")  # one migrator at a time
            self._db.execute("CREATE TABLE IF NOT EXISTS autotrader_schema (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT max(version) FROM autotrader_schema").fetchone()
            version = int(row[0]) if row and row[0] is not None else 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"journal schema {version} is newer than this autotrader ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    self._db.execute(statement)
                self._db.execute("INSERT INTO autotrader_schema (version) VALUES (%s)", (target,))

    @property
    def schema_version(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT max(version) FROM autotrader_schema").fetchone()
            self._db.commit()
        return int(row[0]) if row and row[0] is not None else 0

    def _write(self, rows: list[tuple[float, str, str | None, str]]) -> None:
        with self._db.transaction(), self._db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO autotrader_events (engine, ts, kind, client_order_id, payload) "
                "VALUES (%s, %s, %s, %s, %s::jsonb)",
                [(self.engine, *row) for row in rows],
            )

    def _read(
        self, since: int, kinds: tuple[str, ...] | None
    ) -> list[tuple[int, float, str, str | None, Any]]:
        query = "SELECT seq, ts, kind, client_order_id, payload FROM autotrader_events"
        query += " WHERE engine = %s AND seq > %s"
        params: list[Any] = [self.engine, since]
        if kinds:
            query += " AND kind = ANY(%s)"
            params.append(list(kinds))
        with self._db.transaction():
            return list(self._db.execute(query + " ORDER BY seq", params).fetchall())

    def _close(self) -> None:
        self._db.close()
