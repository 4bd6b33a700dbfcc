"""``DurablePaperVenue``: a paper venue whose books survive its process (``PaperConfig.state_file``).

Every operation that changes the venue (an order arriving, a cancel, a modify, a price move, a
liquidity cap, the end of a session) is committed to the :class:`~.store.VenueStore` *before* the
venue answers it or publishes its events, the order a real venue keeps: its own books first,
then the client.  So ``kill -9`` of the engine's process may lose the answer or the events, as a
dropped connection would, but never the venue's record of an order or a trade, and an engine
resumed from its journal reconciles against the same books.

The plain :class:`~.exchange.PaperVenue` stays untouched (and as fast as before); this subclass
wraps its mutating entry points and holds its events back until the commit.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from autotrader.adapter import ExecutionEvent
from autotrader.model import Fill, Instrument, ModifyRequest, Order, OrderRequest, converter
from autotrader_paper.venue.exchange import PaperVenue
from autotrader_paper.venue.orders import WorkingOrder
from autotrader_paper.venue.store import VenueStore

__all__ = ["DurablePaperVenue"]

log = logging.getLogger(__name__)


def _ignore(event: ExecutionEvent) -> None:
    return None


class DurablePaperVenue(PaperVenue):
    """A :class:`PaperVenue` backed by a state file; open it with :meth:`open`."""

    def __init__(self, store: VenueStore, instruments: Mapping[str, Instrument], **settings: Any) -> None:
        self._store = store
        self._subscriber: Callable[[ExecutionEvent], None] = _ignore
        self._held: list[ExecutionEvent] = []
        self._depth = 0
        self._dirty: dict[str, WorkingOrder] = {}
        self._seq_of: dict[str, int] = {}
        """Arrival order of every saved record in memory, by venue order id."""
        self._next_seq = 0
        """The arrival order the next new record gets in the file (which forgets nothing)."""
        self._saved_orders = self._saved_trades = 0
        self._market_unsaved = False
        """A price moved since the last commit (saved with the next one)."""
        super().__init__(instruments, **settings)
        self._load()

    @classmethod
    def open(
        cls, path: str | Path, instruments: Mapping[str, Instrument], **settings: Any
    ) -> DurablePaperVenue:
        """The venue in ``path``: its saved books, or a new venue (with ``settings``) saved there."""
        return cls(VenueStore(path), instruments, **settings)

    # ------------------------------------------------------------------ ownership
    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def closed(self) -> bool:
        return self._store.closed

    def close(self) -> None:
        """Save the last prices, release the state file; the venue can be :meth:`reopen`-ed (by
        this or another process)."""
        if self._market_unsaved and not self._store.closed:
            self._commit()
        self._store.close()

    def reopen(self) -> None:
        """Take the state file again and reload the books from it (no-op while open)."""
        if self._store.closed:
            self._store = VenueStore(self._store.path)
            self._load()

    # ------------------------------------------------------------------ events wait for the commit
    @property
    def on_event(self) -> Callable[[ExecutionEvent], None]:
        return self._hold

    @on_event.setter
    def on_event(self, subscriber: Callable[[ExecutionEvent], None]) -> None:
        self._subscriber = subscriber

    def _hold(self, event: ExecutionEvent) -> None:
        if self._depth == 0:  # a change outside the wrapped entry points: still saved first
            self._commit()
            self._subscriber(event)
        else:
            self._held.append(event)

    @contextlib.contextmanager
    def _operation(self, *, market_only: bool = False) -> Iterator[None]:
        """Commit what the operation changed (even if it refused, since a reject is booked too),
        then publish its events.

        A ``market_only`` operation (a price move) commits only if it changed the books; the
        price itself rides along with the next commit (or :meth:`close`), which keeps a replay
        from paying a transaction per bar.  A price is market data, not the venue's books.
        """
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                if market_only and not self._books_changed():
                    self._market_unsaved = True
                else:
                    self._commit()
                held, self._held = self._held, []
                for event in held:
                    self._subscriber(event)

    def _books_changed(self) -> bool:
        return bool(
            self._dirty or len(self._ledger) > self._saved_orders or len(self._trades) > self._saved_trades
        )

    # ------------------------------------------------------------------ the mutating entry points
    def set_price(self, symbol: str, price: Decimal) -> None:
        with self._operation(market_only=True):
            super().set_price(symbol, price)

    def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        with self._operation():
            super().set_liquidity(symbol, quantity)

    def end_session(self) -> list[Order]:
        with self._operation():
            return super().end_session()

    def place(self, request: OrderRequest) -> WorkingOrder:
        with self._operation():
            return super().place(request)

    def cancel(self, client_order_id: str) -> Order:
        with self._operation():
            return super().cancel(client_order_id)

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        with self._operation():
            return super().cancel_all(symbol)

    def modify(self, request: ModifyRequest) -> Order:
        with self._operation():
            return super().modify(request)

    def _update(self, record: WorkingOrder, *, with_terms: bool = False) -> None:
        self._dirty[record.venue_order_id] = record
        super()._update(record, with_terms=with_terms)

    def _match(self, record: WorkingOrder, price: Decimal, *, taker: bool) -> None:
        triggered = record.triggered
        super()._match(record, price, taker=taker)
        if record.triggered and not triggered:  # a stop can trigger and rest without an event
            self._dirty[record.venue_order_id] = record

    # ------------------------------------------------------------------ the file
    def _forget_old_orders(self) -> None:
        """Save first: the file keeps every order; only memory forgets."""
        self._commit()
        super()._forget_old_orders()
        self._seq_of = {r.venue_order_id: self._seq_of[r.venue_order_id] for r in self._ledger}
        self._saved_orders = len(self._ledger)
        self._saved_trades = len(self._trades)

    def _commit(self) -> None:
        for record in self._ledger[self._saved_orders :]:  # new ones, rejected ones included
            self._seq_of[record.venue_order_id] = self._next_seq
            self._next_seq += 1
            self._dirty[record.venue_order_id] = record
        orders = [
            (self._seq_of[venue_id], venue_id, converter.unstructure(record))
            for venue_id, record in self._dirty.items()
        ]
        fills = [(f.trade_id, converter.unstructure(f)) for f in self._trades[self._saved_trades :]]
        self._store.commit(orders, fills, self._state())
        self._saved_orders = len(self._ledger)
        self._saved_trades = len(self._trades)
        self._dirty.clear()
        self._market_unsaved = False

    def _state(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "account": self.account.to_state(),
            "prices": converter.unstructure(self._prices),
            "caps": converter.unstructure(self._caps),
            "books": {symbol: list(book) for symbol, book in self._books.items() if book},
        }

    def _load(self) -> None:
        stored = self._store.load()
        self._dirty.clear()
        self._held.clear()
        self._market_unsaved = False
        if stored.state is None:  # a new file: save the venue as configured
            self._commit()
            log.info("paper venue: new state file %s", self.path)
            return
        records = [converter.structure(r, WorkingOrder) for r in stored.orders]
        fills = [converter.structure(f, Fill) for f in stored.fills]
        state = stored.state
        self.session_id = str(state["session_id"])
        self.account.load_state(state["account"])
        self._prices = converter.structure(state["prices"], dict[str, Decimal])
        self._caps = converter.structure(state["caps"], dict[str, Decimal | None])
        self._available = dict(self._caps)
        self._ledger = records
        self._orders = {r.client_order_id: r for r in records}  # a reused client id: the latest
        self._books = {
            symbol: {coid: self._orders[coid] for coid in coids} for symbol, coids in state["books"].items()
        }
        self._index_trades(list(fills))
        self._order_ids = itertools.count(len(records) + 1)
        self._trade_ids = itertools.count(len(fills) + 1)
        self._seq_of = {r.venue_order_id: seq for seq, r in enumerate(records)}
        self._next_seq = len(records)
        self._saved_orders = len(records)
        self._saved_trades = len(fills)
        log.info("paper venue: %d orders and %d trades restored from %s", len(records), len(fills), self.path)
        if len(self._ledger) > self.history:
            self._forget_old_orders()
