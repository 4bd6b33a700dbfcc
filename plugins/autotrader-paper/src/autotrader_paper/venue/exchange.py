"""``PaperVenue``: matching, stops, liquidity caps, fill probability and the venue's ledger.

Nothing happens on its own: the venue acts when an order arrives, is modified or cancelled, or
when :meth:`PaperVenue.set_price` moves the market.  So a run is reproducible for a given seed.

Matching model (one price per symbol, the last trade):

* An order is *activated* when it arrives (or, for a stop, when the price reaches its stop).
  At activation it is a taker: a market order fills at the price moved by ``slippage_bps``
  against it (rounded to the tick, against it); a marketable limit fills at the market price.
* What is left of a limit rests in time priority.  A later price that crosses it fills it *at
  its limit price* (it was the maker), with probability ``fill_probability`` per price event.
* ``set_liquidity(symbol, q)`` caps what can fill per price event (and per arriving order at the
  current price), which is how partial fills happen: a market or IOC remainder expires, FOK
  fills completely or expires unfilled, a resting remainder keeps working.
* DAY orders expire at :meth:`PaperVenue.end_session`.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

import attrs

from autotrader.adapter import ExecutionEvent
from autotrader.errors import OrderNotFound, OrderRejected
from autotrader.model import (
    ZERO,
    Balance,
    Fill,
    Instrument,
    Liquidity,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    new_fill,
    new_order_update,
)
from autotrader.testing.harness import Fault, LedgerOrder, LedgerTrade
from autotrader_paper.faults import FaultPlan
from autotrader_paper.venue.account import Account
from autotrader_paper.venue.orders import IMMEDIATE_ONLY, MARKET_LIKE, STOP_TYPES, WorkingOrder

__all__ = ["VENUE", "PaperVenue"]

VENUE = "paper"

# Enum members the order path reads, bound once (see autotrader.model._BUY).
_BUY: Final = OrderSide.BUY
_MARKET: Final = OrderType.MARKET
_FOK: Final = TimeInForce.FOK
_TAKER: Final = Liquidity.TAKER
_MAKER: Final = Liquidity.MAKER
_FILLED: Final = OrderStatus.FILLED
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED

_BPS = Decimal(10_000)


def _ignore(event: ExecutionEvent) -> None:
    return None


class PaperVenue:
    """The exchange and the account behind the paper broker."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        *,
        initial_balance: Decimal,
        currency: str = "USD",
        slippage_bps: Decimal = ZERO,
        commission_bps: Decimal = ZERO,
        fill_probability: float = 1.0,
        rng: random.Random | None = None,
        on_event: Callable[[ExecutionEvent], None] = _ignore,
        clock: Callable[[], float] | None = None,
        session_id: str | None = None,
        history: int = 100_000,
    ) -> None:
        self.instruments = dict(instruments)
        self.history = history
        """Closed orders kept, with their fills, for lookups and the ledger.  Older ones are
        forgotten, as a venue archives them: a long session's memory stays bounded (it grew
        1.3 KB an order before, for good).  Open orders are always kept."""
        self.account = Account(currency, initial_balance)
        self.slippage_bps = slippage_bps
        self.commission_bps = commission_bps
        self._cost_factor = (commission_bps, slippage_bps, 1 + (commission_bps + slippage_bps) / _BPS)
        """``(commission_bps, slippage_bps, 1 + their sum in bps)`` as of the last :meth:`_cost`."""
        self.fill_probability = fill_probability
        self.rng = rng or random.Random()
        self.on_event = on_event
        self.faults = FaultPlan()
        """Faults armed by the test harness; the venue itself consumes ``Fault.REJECT``."""
        self._clock = clock or time.time
        self._now = 0.0
        # Ids carry a per-venue session token: a restarted process gets a new in-memory venue,
        # and a journal that saw trade "T1" yesterday must not take today's "T1" for a duplicate.
        self.session_id = session_id if session_id is not None else uuid.uuid4().hex[:8]
        self._prices: dict[str, Decimal] = {}
        self._caps: dict[str, Decimal | None] = {}
        self._available: dict[str, Decimal | None] = {}
        self._orders: dict[str, WorkingOrder] = {}
        self._ledger: list[WorkingOrder] = []
        self._books: dict[str, dict[str, WorkingOrder]] = {}
        """Resting orders per symbol, in time priority (dicts keep insertion order)."""
        self._trades: list[Fill] = []
        """Every fill the venue made, in order: the ledger's trades (built when the suite asks)."""
        self._fill_seqs: dict[str, tuple[int, ...]] = {}
        """Where each order's fills are in ``_trades``.  Tuples of ints, which the garbage
        collector does not track: a list of fills per order was one more object per order
        for it to walk, for good."""
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._forget_after = self._forgetting_threshold()
        self.price_listeners: list[Callable[[str, Decimal], None]] = []
        """Called with (symbol, price) on every price move: the paper broker's live quotes."""

    # ------------------------------------------------------------------ market
    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market: refresh the liquidity cap and match resting orders in time priority."""
        self._instrument(symbol)
        self._prices[symbol] = price
        self._available[symbol] = self._caps.get(symbol)
        for listener in tuple(self.price_listeners):
            listener(symbol, price)
        book = self._books.get(symbol)
        if book:
            self._now = self._clock()
            for record in list(book.values()):
                if record.status.is_open:
                    self._match(record, price, taker=False)

    def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        """Cap what each price event can fill (``None``: unlimited)."""
        self._caps[symbol] = quantity
        self._available[symbol] = quantity

    def last_price(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)

    def end_session(self) -> list[Order]:
        """The trading day ends: every open DAY order expires."""
        self._now = self._clock()
        expired = [
            r
            for r in self._orders.values()
            if r.status.is_open and r.request.time_in_force is TimeInForce.DAY
        ]
        for record in expired:
            self._close(record, OrderStatus.EXPIRED)
        return [r.snapshot() for r in expired]

    # ------------------------------------------------------------------ orders
    def submit(self, request: OrderRequest) -> Order:
        """Take a new order; returns its state after the immediate matching attempt."""
        return self.place(request).snapshot()

    def place(self, request: OrderRequest) -> WorkingOrder:
        """:meth:`submit` without the snapshot (the adapter's lean path)."""
        coid = request.client_order_id
        existing = self._orders.get(coid)
        if existing is not None and existing.status.is_open:
            raise OrderRejected("Duplicate order sent.", code="DUPLICATE_CLIENT_ORDER_ID")
        instrument = self.instruments.get(request.symbol) or self._instrument(request.symbol)
        self._now = now = self._clock()
        record = WorkingOrder(
            request,
            f"{self.session_id}-O{next(self._order_ids)}",
            self.account.settlement_asset(instrument),
            now,
            now,
        )
        self._orders[coid] = record
        self._ledger.append(record)
        problem: str | None
        if self.faults.armed and self.faults.take(Fault.REJECT):
            problem, code = self.faults.reason, "INJECTED"
        else:
            problem, code = self._refusal(record), "REJECTED"
        if problem is not None:
            record.status, record.reason = OrderStatus.REJECTED, problem
            raise OrderRejected(problem, code=code)
        self._update(record)
        price = self._prices.get(request.symbol)
        if price is not None:
            self._match(record, price, taker=True)
        if record.status.is_open:
            self._books.setdefault(request.symbol, {})[coid] = record
            self._reserve(record)
        if len(self._ledger) > self._forget_after:
            self._forget_old_orders()
        return record

    # ------------------------------------------------------------------ history
    def _forgetting_threshold(self) -> int:
        """Ledger length past which old closed orders go: a tenth of ``history`` of slack, so
        that forgetting (linear in what is kept) costs a few steps an order."""
        return max(len(self._ledger), self.history) + max(self.history // 10, 64)

    def _forget_old_orders(self) -> None:
        """Keep every open order and the newest ``history`` closed ones, with their fills."""
        closed = [r for r in self._ledger if not r.status.is_open]
        excess = len(closed) - self.history
        if excess > 0:
            gone = {id(r) for r in closed[:excess]}
            self._ledger = [r for r in self._ledger if id(r) not in gone]
            self._orders = {coid: r for coid, r in self._orders.items() if id(r) not in gone}
            self._index_trades([f for f in self._trades if f.client_order_id in self._orders])
        self._forget_after = self._forgetting_threshold()

    def _index_trades(self, trades: list[Fill]) -> None:
        self._trades = trades
        seqs: dict[str, list[int]] = {}
        for seq, fill in enumerate(trades):
            seqs.setdefault(fill.client_order_id, []).append(seq)
        self._fill_seqs = {coid: tuple(found) for coid, found in seqs.items()}

    def cancel(self, client_order_id: str) -> Order:
        record = self._open_record(client_order_id)
        self._now = self._clock()
        self._close(record, OrderStatus.CANCELLED)
        return record.snapshot()

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        return [
            self.cancel(r.client_order_id)
            for r in list(self._orders.values())
            if r.status.is_open and (symbol is None or r.request.symbol == symbol)
        ]

    def modify(self, request: ModifyRequest) -> Order:
        """Change price / stop / quantity of a working order.

        Like real venues, a new price or a larger quantity loses time priority; a new price that
        crosses the market executes at once as a taker.
        """
        record = self._open_record(request.client_order_id)
        if request.quantity is not None and request.quantity <= record.filled:
            raise OrderRejected(f"new quantity {request.quantity} is not above the filled {record.filled}")
        old = record.request
        changes = {
            name: value
            for name in ("quantity", "price", "stop_price")
            if (value := getattr(request, name)) is not None
        }
        try:
            new = attrs.evolve(old, **changes)
        except ValueError as exc:
            raise OrderRejected(str(exc)) from None
        self._now = self._clock()
        record.request = new
        shortfall = self._reserve(record, check=True)
        if shortfall is not None:
            record.request = old
            raise OrderRejected(shortfall)
        if new.price != old.price or new.stop_price != old.stop_price or new.quantity > old.quantity:
            book = self._books[new.symbol]
            del book[new.client_order_id]
            book[new.client_order_id] = record
        self._update(record, with_terms=True)
        price = self._prices.get(new.symbol)
        if price is not None:
            self._match(record, price, taker=True)
        return record.snapshot()

    def order(self, client_order_id: str) -> Order | None:
        record = self._orders.get(client_order_id)
        return record.snapshot() if record is not None else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            r.snapshot()
            for r in self._orders.values()
            if r.status.is_open and (symbol is None or r.request.symbol == symbol)
        ]

    def fills_of(self, client_order_id: str) -> list[Fill]:
        trades = self._trades
        return [trades[seq] for seq in self._fill_seqs.get(client_order_id, ())]

    # ------------------------------------------------------------------ account
    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def cash(self) -> Decimal:
        """Cash in the account currency."""
        return self.account.cash()

    def positions(self) -> list[Position]:
        return self.account.positions()

    def balances(self) -> list[Balance]:
        return self.account.balances()

    def equity(self) -> Decimal:
        """Account-currency cash plus positions marked at the last prices."""
        return self.account.equity(self._prices)

    # ------------------------------------------------------------------ ledger
    def ledger_orders(self) -> list[LedgerOrder]:
        return [r.ledger_entry() for r in self._ledger]

    def ledger_trades(self) -> list[LedgerTrade]:
        return [
            LedgerTrade(
                f.trade_id,
                f.client_order_id,
                f.symbol,
                f.side,
                f.quantity,
                f.price,
                f.commission,
                f.commission_asset,
            )
            for f in self._trades
        ]

    # ------------------------------------------------------------------ checks
    def _refusal(self, record: WorkingOrder) -> str | None:
        request = record.request
        last = self._prices.get(request.symbol)
        if request.order_type is _MARKET and last is None:
            return f"no market price for {request.symbol} yet: a market order cannot be priced"
        if request.side is _BUY and not request.reduce_only:
            reference = request.price or request.stop_price or last
            if reference is not None:
                cost = self._cost(request.quantity, reference)
                free = self.account.free(record.settlement_asset)
                if cost > free:
                    return (
                        f"insufficient balance: {cost:.2f} {record.settlement_asset} needed, {free:.2f} free"
                    )
        return None

    def _cost(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Cash a buy of ``quantity`` at ``price`` may take, slippage and commission included."""
        commission_bps, slippage_bps, factor = self._cost_factor
        if commission_bps is not self.commission_bps or slippage_bps is not self.slippage_bps:
            # The rates are plain attributes anyone may set: the factor follows them.  Kept
            # because it is three Decimal operations, one with an int, ~3k instructions a buy.
            factor = 1 + (self.commission_bps + self.slippage_bps) / _BPS
            self._cost_factor = (self.commission_bps, self.slippage_bps, factor)
        return quantity * price * factor

    def _reserve(self, record: WorkingOrder, *, check: bool = False) -> str | None:
        """Lock the cash a resting buy may take; with ``check``, refuse (and change nothing) if short."""
        request = record.request
        wanted = ZERO
        if record.is_buy and not request.reduce_only and record.status.is_open:
            reference = request.price or request.stop_price
            if reference is not None:
                wanted = self._cost(record.remaining, reference)
        delta = wanted - record.reserved
        if check and delta > 0 and delta > self.account.free(record.settlement_asset):
            return (
                f"insufficient balance to grow the order: {delta:.2f} {record.settlement_asset} more needed"
            )
        self.account.lock(record.settlement_asset, delta)
        record.reserved = wanted
        return None

    # ------------------------------------------------------------------ matching
    def _match(self, record: WorkingOrder, price: Decimal, *, taker: bool) -> None:
        """Try to fill ``record`` at market ``price``; ``taker`` when it arrives or is changed."""
        request = record.request
        buy = request.side is _BUY
        if not record.triggered and request.order_type in STOP_TYPES:
            assert request.stop_price is not None
            if not (price >= request.stop_price if buy else price <= request.stop_price):
                return
            record.triggered = True
            taker = True  # a triggered stop is a new order entering the book
        immediate_only = request.time_in_force in IMMEDIATE_ONLY
        if request.order_type in MARKET_LIKE:
            fill_price = self._slipped(request.symbol, price, buy) if self.slippage_bps else price
        else:
            limit = request.price
            assert limit is not None
            if not (price <= limit if buy else price >= limit):
                if immediate_only and taker:
                    self._close(record, OrderStatus.EXPIRED)
                return
            if not taker and self.fill_probability < 1.0 and self.rng.random() >= self.fill_probability:
                return  # crossed, but the queue ahead took the liquidity this time
            fill_price = price if taker else limit
        remaining = quantity = request.quantity - record.filled
        if self._caps:  # else all of it can fill
            quantity = self._fillable(request.symbol, remaining)
            if quantity < remaining and request.time_in_force is _FOK:
                self._give_back(request.symbol, quantity)
                self._close(record, OrderStatus.EXPIRED)
                return
        if quantity > ZERO:
            self._execute(record, quantity, fill_price, taker)
        if record.status.is_open and (immediate_only or request.order_type in MARKET_LIKE):
            self._close(record, OrderStatus.EXPIRED)

    def _fillable(self, symbol: str, wanted: Decimal) -> Decimal:
        available = self._available.get(symbol)
        if available is None:
            return wanted
        quantity = self._instrument(symbol).round_quantity(min(wanted, available))
        self._available[symbol] = available - quantity
        return quantity

    def _give_back(self, symbol: str, quantity: Decimal) -> None:
        """A FOK that did not trade leaves the liquidity it looked at to the others."""
        available = self._available.get(symbol)
        if available is not None:
            self._available[symbol] = available + quantity

    def _slipped(self, symbol: str, price: Decimal, buy: bool) -> Decimal:
        if not self.slippage_bps:
            return price
        tick = self._instrument(symbol).tick_size
        if buy:
            raw, rounding = price * (1 + self.slippage_bps / _BPS), ROUND_CEILING
        else:
            raw, rounding = price * (1 - self.slippage_bps / _BPS), ROUND_FLOOR
        return max((raw / tick).to_integral_value(rounding) * tick, tick)

    def _execute(self, record: WorkingOrder, quantity: Decimal, price: Decimal, taker: bool) -> None:
        request = record.request
        coid = request.client_order_id
        notional = quantity * price
        commission = notional * self.commission_bps / _BPS
        asset = record.settlement_asset
        self.account.settle(request.symbol, asset, request.side, quantity, price, notional, commission)
        trade_id = f"{self.session_id}-T{next(self._trade_ids)}"
        # Fill's fields by position, in its order (venue, trade_id, client_order_id, symbol,
        # side, quantity, price, commission, commission_asset, liquidity, venue_order_id,
        # timestamp): matching twelve keywords cost ~0.5 us per fill, a twentieth of place().
        fill = new_fill(
            VENUE,
            trade_id,
            coid,
            request.symbol,
            request.side,
            quantity,
            price,
            commission,
            asset,
            _TAKER if taker else _MAKER,
            record.venue_order_id,
            self._now,
        )
        self._fill_seqs[coid] = (*self._fill_seqs.get(coid, ()), len(self._trades))
        self._trades.append(fill)
        record.filled += quantity
        record.notional += notional
        record.commission += commission
        if record.filled == request.quantity:
            record.status = _FILLED
            self._unbook(record)
        else:
            record.status = _PARTIALLY_FILLED
            if record.reserved:
                self._reserve(record)
        self.on_event(fill)
        self._update(record)

    def _close(self, record: WorkingOrder, status: OrderStatus) -> None:
        record.status = status
        self._unbook(record)
        self._update(record)

    def _unbook(self, record: WorkingOrder) -> None:
        book = self._books.get(record.request.symbol)
        if book is not None:
            book.pop(record.request.client_order_id, None)
        if record.reserved:
            self.account.lock(record.settlement_asset, -record.reserved)
            record.reserved = ZERO

    def _update(self, record: WorkingOrder, *, with_terms: bool = False) -> None:
        record.updated_at = self._now
        request = record.request
        # By position, in OrderUpdate's field order (client_order_id, status, venue,
        # venue_order_id, filled_quantity, average_price, reason, quantity, price, stop_price,
        # timestamp): twice per order, and eleven keywords cost ~0.5 us a call.
        record.last_update = update = new_order_update(
            request.client_order_id,
            record.status,
            VENUE,
            record.venue_order_id,
            record.filled,
            record.notional / record.filled if record.filled else None,
            record.reason,
            request.quantity if with_terms else None,
            request.price if with_terms else None,
            request.stop_price if with_terms else None,
            self._now,
        )
        self.on_event(update)

    def _open_record(self, client_order_id: str) -> WorkingOrder:
        record = self._orders.get(client_order_id)
        if record is None or not record.status.is_open:
            raise OrderNotFound(f"paper: no open order {client_order_id!r}", code="ORDER_NOT_FOUND")
        return record

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise OrderRejected(f"unknown symbol {symbol!r}", code="UNKNOWN_SYMBOL") from None
