"""The durable event journal: every order intent before it is sent, every change as it happens.

The default backend is one SQLite file in WAL mode.  A *durable* append (an order intent, a local
reject, an unknown outcome, a dead letter, a kill switch) is committed before it returns, together
with every record buffered before it, so it survives ``kill -9`` (``durability="process"``, SQLite
``synchronous=NORMAL``; ``durability="power"`` also fsyncs each commit, ``synchronous=FULL``).
Other records (acks, fills, positions) are buffered and committed with the next durable one, or
once the oldest is ``max_delay`` old (checked on every append and by :meth:`SqliteJournal.flush`,
which the engine calls on a short timer): batching the writes, not the guarantees.  A crash that
loses buffered records loses nothing, because recovery reconciles every order the journal left
open with the venue, by client order id, and pulls its fills from there.  The orders of one
cycle share one commit (:meth:`JournalPlugin.committed_together`, used by
``ExecutionEngine.execute_decisions``): all their intents are on disk before the first is sent.

Records hold the plain data of model objects (the :data:`autotrader.model.converter`) as compact
JSON, never a credential.  An order is written whole when it is created (and when a modify changes
its terms); each later change is an ``order_change`` record of the fields a change can touch
(:class:`OrderChange`), which :func:`load_state` lays over the order's last state.  The schema is
versioned (``PRAGMA user_version``) and migrated forward on open.  WAL checkpoints run in a
background thread rather than inside a commit.

:class:`JournalPlugin` connects a journal to an engine through the OMS, resiliency and engine
hooks; :func:`load_state` reads a journal back for recovery.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol

import attrs
import orjson

from autotrader.hookspecs import hookimpl
from autotrader.model import Fill, Order, OrderStatus, Position, converter
from autotrader.resiliency import DeadLetter

__all__ = [
    "BufferedJournal",
    "Journal",
    "JournalPlugin",
    "JournalRecord",
    "OrderChange",
    "RecoveredState",
    "SqliteJournal",
    "load_state",
    "open_journal",
]

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 3
_MIGRATIONS: Final[Mapping[int, str]] = {
    1: """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            client_order_id TEXT,
            payload TEXT NOT NULL
        );
        CREATE INDEX events_by_order ON events (client_order_id);
        CREATE INDEX events_by_kind ON events (kind, seq);
    """,
    # Every commit paid for two indexes nothing reads (recovery scans the log in seq order)
    # and for AUTOINCREMENT's sqlite_sequence row: three more pages written per commit, about
    # half the commit's cost.  An append-only table's rowid is max + 1 anyway, so seq keeps
    # its meaning; the table is rebuilt because AUTOINCREMENT cannot be dropped in place.
    2: """
        CREATE TABLE events_v2 (
            seq INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            client_order_id TEXT,
            payload TEXT NOT NULL
        );
        INSERT INTO events_v2 (seq, ts, kind, client_order_id, payload)
            SELECT seq, ts, kind, client_order_id, payload FROM events ORDER BY seq;
        DROP TABLE events;
        ALTER TABLE events_v2 RENAME TO events;
    """,
    # No table changes: from here an order's later changes are ``order_change`` records, which
    # an older autotrader would skip, taking every order for still PENDING.  The version stops
    # it opening such a journal.
    3: "",
}


@attrs.frozen
class JournalRecord:
    seq: int
    timestamp: float
    kind: str
    client_order_id: str | None
    payload: dict[str, Any]


@attrs.frozen
class OrderChange:
    """What an ``order_change`` record holds: the fields of :class:`Order` a change can touch.

    The rest are the order's terms, fixed at creation (a modify that changes the quantity or a
    price writes the order whole instead).  Half of a full record's fields, and built from the
    order without the converter's generic walk: 392k instructions an order with the journal on,
    against 434k for whole records (callgrind, ``benchmarks/instructions_per_order.py``).
    """

    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    venue_order_id: str | None
    reason: str | None
    commission: Decimal
    updated_at: float


_CHANGING: Final = tuple(field.name for field in attrs.fields(OrderChange))


def order_change(order: Order) -> dict[str, Any]:
    """The payload of ``order``'s ``order_change`` record, as the converter would write it."""
    average = order.average_fill_price
    return {
        "status": order.status._value_,
        "filled_quantity": str(order.filled_quantity),
        "average_fill_price": None if average is None else str(average),
        "venue_order_id": order.venue_order_id,
        "reason": order.reason,
        "commission": str(order.commission),
        "updated_at": order.updated_at,
    }


class Journal(Protocol):
    """What the engine needs from a journal backend."""

    def append(
        self,
        kind: str,
        payload: Mapping[str, Any],
        client_order_id: str | None = None,
        *,
        durable: bool = True,
    ) -> None: ...

    def flush(self) -> None: ...

    def records(self, since: int = 0, kinds: tuple[str, ...] | None = None) -> Iterator[JournalRecord]: ...

    def close(self) -> None: ...


def _encode(payload: Mapping[str, Any]) -> str:
    """Compact JSON (orjson; what ``json.loads`` reads back), anything unknown as its ``str``.

    The standard library's encoder cost 58k instructions for one order's record (callgrind),
    more than the rest of the order path's journal work together; orjson's, about a tenth.
    """
    return orjson.dumps(payload, default=str).decode()


class BufferedJournal(abc.ABC):
    """The batching policy every backend shares; backends write and read rows."""

    def __init__(
        self, *, max_delay: float = 0.05, max_buffer: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_delay = max_delay
        self.max_buffer = max_buffer
        self._clock = clock
        self._lock = threading.Lock()
        self._buffer: list[tuple[float, str, str | None, str]] = []
        self._oldest = 0.0

    def append(
        self,
        kind: str,
        payload: Mapping[str, Any],
        client_order_id: str | None = None,
        *,
        durable: bool = True,
    ) -> None:
        """Add one record; a durable one is on disk, with everything before it, when this returns."""
        row = (time.time(), kind, client_order_id, _encode(payload))
        with self._lock:
            if not self._buffer:
                self._oldest = self._clock()
            self._buffer.append(row)
            overdue = self._clock() - self._oldest >= self.max_delay
            if durable or overdue or len(self._buffer) >= self.max_buffer:
                self._write(self._buffer)
                self._buffer.clear()

    def flush(self) -> None:
        """Commit whatever is buffered (the engine calls this on a short timer and when it stops)."""
        with self._lock:
            if self._buffer:
                self._write(self._buffer)
                self._buffer.clear()

    def records(self, since: int = 0, kinds: tuple[str, ...] | None = None) -> Iterator[JournalRecord]:
        self.flush()
        with self._lock:
            rows = self._read(since, kinds)
        for seq, ts, kind, coid, payload in rows:
            yield JournalRecord(
                seq, ts, kind, coid, json.loads(payload) if isinstance(payload, str) else payload
            )

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._close()

    @abc.abstractmethod
    def _write(self, rows: list[tuple[float, str, str | None, str]]) -> None:
        """Insert ``rows`` in one committed transaction."""

    @abc.abstractmethod
    def _read(
        self, since: int, kinds: tuple[str, ...] | None
    ) -> list[tuple[int, float, str, str | None, Any]]: ...

    @abc.abstractmethod
    def _close(self) -> None: ...


class SqliteJournal(BufferedJournal):
    """Append-only event log in one SQLite file (WAL).  Thread-safe; one writer at a time."""

    def __init__(
        self,
        path: str | Path,
        *,
        durability: str = "process",
        max_delay: float = 0.05,
        max_buffer: int = 512,
        clock: Callable[[], float] = time.monotonic,
        checkpoint_interval: float = 0.2,
    ) -> None:
        if durability not in ("process", "power"):
            raise ValueError("durability is 'process' (survives kill -9) or 'power' (fsync per commit)")
        super().__init__(max_delay=max_delay, max_buffer=max_buffer, clock=clock)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durability == 'power' else 'NORMAL'}")
        self._migrate()
        # Checkpoints (copying the WAL into the database, with fsyncs) run in a thread of their
        # own instead of inside whichever commit crosses SQLite's 1000-page threshold: there
        # they stalled an order for milliseconds (the p99 of the journal benchmark).  Commits
        # are as durable as before; only the moving of committed pages changes thread.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = _Checkpointer(self.path, checkpoint_interval)

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"journal {self.path} has schema {version}, newer than this autotrader ({SCHEMA_VERSION})"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in filter(str.strip, _MIGRATIONS[target].split(";")):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={target}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _write(self, rows: list[tuple[float, str, str | None, str]]) -> None:
        if len(rows) <= _ONE_STATEMENT_ROWS:
            # One INSERT of every row, autocommitted: as atomic and as durable as a transaction
            # around executemany, without the BEGIN and COMMIT statements (a durable append of an
            # order's ~6 records: 17.6 us -> 14.9 us).
            self._db.execute(_insert_rows(len(rows)), [value for row in rows for value in row])
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(_insert_rows(1), rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _read(
        self, since: int, kinds: tuple[str, ...] | None
    ) -> list[tuple[int, float, str, str | None, Any]]:
        query = "SELECT seq, ts, kind, client_order_id, payload FROM events WHERE seq > ?"
        params: list[Any] = [since]
        if kinds:
            query += f" AND kind IN ({','.join('?' * len(kinds))})"
            params += list(kinds)
        return self._db.execute(query + " ORDER BY seq", params).fetchall()

    def _close(self) -> None:
        self._checkpointer.stop()
        self._db.close()


_ONE_STATEMENT_ROWS: Final = 64
"""Up to this many rows are written as one statement (4 parameters a row, far under SQLite's
limit; sqlite3 caches a prepared statement per row count)."""


_INSERT_VALUES: Final = "INSERT INTO events (ts, kind, client_order_id, payload) VALUES "


@functools.cache
def _insert_rows(count: int) -> str:
    """The INSERT of ``count`` rows: placeholders only, never a value."""
    return _INSERT_VALUES + ", ".join(["(?, ?, ?, ?)"] * count)


class _Checkpointer:
    """A daemon thread with its own connection that checkpoints the WAL every ``interval`` s.

    PASSIVE checkpoints never block the writer; SQLite releases the GIL while it copies pages,
    so the engine's thread keeps running.
    """

    def __init__(self, path: Path, interval: float) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="autotrader-journal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            while not self._stop.wait(self._interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # the next round tries again; commits are unaffected
                    log.warning("journal checkpoint of %s failed: %s", self._path, exc)
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def open_journal(url: str | Path, **kwargs: Any) -> Journal:
    """A journal from a path or URL (``sqlite:///path``); other schemes name their backend."""
    text = str(url)
    if text.startswith("sqlite:///"):
        return SqliteJournal(text.removeprefix("sqlite:///"), **kwargs)
    if text.startswith(("postgresql://", "postgres://")):
        from autotrader.journal_postgres import PostgresJournal

        return PostgresJournal(text, **kwargs)
    if "://" in text:
        scheme = text.split("://", maxsplit=1)[0]
        raise ValueError(f"no journal backend for {scheme!r} (supported: sqlite, postgresql)")
    return SqliteJournal(text, **kwargs)


_DURABLE_STATUSES: Final = frozenset({OrderStatus.PENDING, OrderStatus.REJECTED, OrderStatus.UNKNOWN})
"""Order states on disk before the engine goes on: the intent before the send, and outcomes the
venue cannot tell us again (a local reject, an outcome nobody knows).  So is a CANCELLED that
follows PENDING: an intent withdrawn before it was sent."""
_PENDING: Final = OrderStatus.PENDING
_CANCELLED: Final = OrderStatus.CANCELLED


class JournalPlugin:
    """Writes the engine's events to a journal, through the pluggy hooks (registered per engine).

    ``autotrader_order_updated`` fires for a new order while it is still PENDING, before the OMS
    sends it, so the intent is on disk before anything reaches the wire.  Positions are not
    written: they follow from the fills (:func:`load_state` rebuilds them so), and a position
    record per fill was a sixth of the journal's rows.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        # The converter's hooks for the classes of every order event, looked up once instead of
        # dispatched on each call (0.95 us -> 0.76 us an order snapshot, ~5 records an order).
        # (A dict of the raw fields left to orjson -- enums natively, Decimals by default=str --
        # measured 35k instructions a record against these hooks' 21k.)
        self._order = converter.get_unstructure_hook(Order)
        self._fill = converter.get_unstructure_hook(Fill)
        self._deferring = 0

    @contextlib.contextmanager
    def committed_together(self) -> Iterator[None]:
        """Hold back the commits of durable records appended inside; commit them all on the way out.

        Group commit for a batch of orders checked and tracked in one synchronous step: their
        intents cost one commit instead of one each (~20 us apiece).  The block must not
        ``await``: nothing in it can reach the wire before the commit at its exit, which is what
        keeps "the intent is on disk before the send" true.  If that commit fails the error
        propagates, and the caller must not send what the block tracked.
        """
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring:
                self.journal.flush()

    @hookimpl
    def autotrader_order_updated(self, order: Order, previous: Order | None) -> None:
        status = order.status
        durable = (
            status in _DURABLE_STATUSES
            # Withdrawn before it was sent: recovery would send a PENDING intent the venue lacks.
            or (status is _CANCELLED and previous is not None and previous.status is _PENDING)
        ) and not self._deferring
        if (
            previous is None
            or order.quantity is not previous.quantity
            or order.price is not previous.price
            or order.stop_price is not previous.stop_price
        ):
            self.journal.append("order", self._order(order), order.client_order_id, durable=durable)
        else:
            self.journal.append("order_change", order_change(order), order.client_order_id, durable=durable)

    @hookimpl
    def autotrader_fill(self, fill: Fill, order: Order) -> None:
        self.journal.append("fill", self._fill(fill), fill.client_order_id, durable=False)

    @hookimpl
    def autotrader_fills_behind(self, order: Order, venue_filled: Decimal) -> None:
        self.journal.append(
            "fills_behind", {"filled_quantity": str(venue_filled)}, order.client_order_id, durable=False
        )

    @hookimpl
    def autotrader_dead_letter(self, letter: DeadLetter) -> None:
        self.journal.append(
            "dead_letter",
            converter.unstructure(letter),
            letter.client_order_id,
            durable=not self._deferring,
        )

    @hookimpl
    def autotrader_oms_anomaly(self, kind: str, detail: str) -> None:
        self.journal.append("anomaly", {"kind": kind, "detail": detail}, durable=not self._deferring)

    @hookimpl
    def autotrader_trading_state_changed(self, old: str, new: str, reason: str) -> None:
        self.journal.append(
            "trading_state", {"old": old, "new": new, "reason": reason}, durable=not self._deferring
        )

    @hookimpl
    def autotrader_kill_switch(self, engine: Any, reason: str, close_positions: bool) -> None:
        self.journal.append(
            "kill_switch",
            {"reason": reason, "close_positions": close_positions},
            durable=not self._deferring,
        )


@attrs.frozen
class RecoveredState:
    """What a journal says the engine knew: latest order snapshots, fills, positions, dead letters."""

    orders: dict[str, Order]
    fills: list[Fill]
    positions: dict[str, Position]
    dead_letters: list[DeadLetter]
    trading_state: str | None
    last_seq: int
    fills_behind: dict[str, Decimal] = attrs.field(factory=dict)
    """The highest filled quantity the venue reported per order (its fills may be missing)."""


def load_state(journal: Journal) -> RecoveredState:
    """Fold the journal into the latest state.  Positions are recomputed from the fills."""
    orders: dict[str, Order] = {}
    fills: dict[tuple[str, str], Fill] = {}
    dead_letters: list[DeadLetter] = []
    trading_state: str | None = None
    behind: dict[str, Decimal] = {}
    last = 0
    for record in journal.records():
        last = record.seq
        if record.kind == "order":
            order = converter.structure(record.payload, Order)
            orders[order.client_order_id] = order
        elif record.kind == "order_change" and record.client_order_id is not None:
            base = orders.get(record.client_order_id)
            if base is None:  # its order record is not in this journal: nothing to lay it over
                log.warning("journal: a change of %s, an order it never recorded", record.client_order_id)
                continue
            change = converter.structure(record.payload, OrderChange)
            orders[base.client_order_id] = attrs.evolve(
                base, **{name: getattr(change, name) for name in _CHANGING}
            )
        elif record.kind == "fill":
            fill = converter.structure(record.payload, Fill)
            fills.setdefault(fill.key, fill)
        elif record.kind == "fills_behind" and record.client_order_id is not None:
            reported = Decimal(record.payload["filled_quantity"])
            behind[record.client_order_id] = max(reported, behind.get(record.client_order_id, reported))
        elif record.kind == "dead_letter":
            dead_letters.append(converter.structure(record.payload, DeadLetter))
        elif record.kind == "trading_state":
            trading_state = str(record.payload["new"])
    positions: dict[str, Position] = {}
    for fill in fills.values():
        current = positions.get(fill.symbol) or Position(fill.symbol)
        positions[fill.symbol] = current.apply(fill.side, fill.quantity, fill.price)
    return RecoveredState(
        orders, list(fills.values()), positions, dead_letters, trading_state, last, fills_behind=behind
    )
