"""The venue's matching engine and account: orders, trades and balances, in Binance's terms.

The market is synthetic: the harness sets a last price per symbol and, optionally, how much
quantity is available at that price (a pool per side, refilled at every price move).  The
account's orders trade against that flow:

* a marketable order takes liquidity at the current price when it arrives (taker), at most the
  liquidity cap;
* a resting limit order fills at its own price when the market reaches it (maker), in
  price-time priority with the other resting orders of the symbol;
* stop orders (STOP_LOSS / TAKE_PROFIT and their _LIMIT forms) wait untriggered until the price
  crosses their stop price, then behave as a market or limit order.

The account's own orders never trade with each other.  Everything here is synchronous: one
call is one atomic step of the engine, so the REST and WebSocket layers never see a half state.
Each step that may move a symbol's best bid or ask ends by telling :attr:`Exchange.books` (the
``bookTicker`` of :mod:`~autotrader_binance.venue.book`), which publishes the top if it changed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from autotrader_binance.venue.book import BookTickers, BookTop, top_of_book
from autotrader_binance.venue.wire import account_position, execution_report

__all__ = [
    "LIMIT_TYPES",
    "MARKET_TYPES",
    "OPEN_STATUSES",
    "STOP_TYPES",
    "Exchange",
    "NewOrder",
    "SymbolSpec",
    "VenueError",
    "VenueOrder",
    "VenueTrade",
]

ZERO: Final = Decimal(0)
COMMISSION_STEP: Final = Decimal("0.00000001")

STOP_TYPES: Final = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
MARKET_TYPES: Final = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})
"""Types that execute at the market (after triggering, for the stop ones)."""
LIMIT_TYPES: Final = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
OPEN_STATUSES: Final = frozenset({"NEW", "PARTIALLY_FILLED"})

INSUFFICIENT_BALANCE: Final = "Account has insufficient balance for requested action."
UNKNOWN_ORDER: Final = "Unknown order sent."


class VenueError(Exception):
    """An error answer of the venue: Binance's ``{"code", "msg"}`` with its HTTP status."""

    def __init__(self, code: int, msg: str, *, status: int = 400, data: Any = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


@dataclass
class SymbolSpec:
    """A tradable symbol: its filters (as exchangeInfo publishes them) and its market."""

    symbol: str
    base: str
    quote: str
    price: Decimal
    tick: Decimal = Decimal("0.01")
    step: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    market_max_qty: Decimal = Decimal("100")
    max_num_orders: int = 200
    amend_allowed: bool = True
    """``amendAllowed``: order amend keep priority (quantity decrease) is enabled."""
    legacy_min_notional: bool = False
    """Publish the legacy ``MIN_NOTIONAL`` filter instead of ``NOTIONAL`` (older symbols)."""
    liquidity: Decimal | None = None
    """Quantity available at the price (``None``: unlimited): to each arriving marketable order,
    and to the resting orders together at each price move (shared, in price-time priority)."""
    spread_ticks: int = 1
    """The synthetic book's best bid and ask stand this many ticks below and above the price."""
    book_qty: Decimal = Decimal("1")
    """The quantity the synthetic book shows at its best levels while ``liquidity`` is unlimited."""


@dataclass
class NewOrder:
    """A validated new-order request (what ``POST /api/v3/order`` carries)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal
    client_order_id: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None


@dataclass
class VenueOrder:
    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str | None
    orig_qty: Decimal
    price: Decimal
    stop_price: Decimal
    time: int
    update_time: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    working: bool = True
    working_time: int = -1
    lock_asset: str = ""
    lock_price: Decimal = ZERO
    locked: Decimal = ZERO
    expiry_reason: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class VenueTrade:
    trade_id: int
    order_id: int
    client_order_id: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_maker: bool


@dataclass
class _Market:
    spec: SymbolSpec
    ask_pool: Decimal | None = None
    bid_pool: Decimal | None = None
    trade_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def refill(self) -> None:
        self.ask_pool = self.spec.liquidity
        self.bid_pool = self.spec.liquidity

    def available(self, side: str) -> Decimal | None:
        return self.ask_pool if side == "BUY" else self.bid_pool

    def consume(self, side: str, qty: Decimal) -> None:
        if side == "BUY" and self.ask_pool is not None:
            self.ask_pool -= qty
        elif side == "SELL" and self.bid_pool is not None:
            self.bid_pool -= qty


EventSink = Callable[[dict[str, Any]], None]


def stop_triggers(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
    """Whether a stop order of this kind fires at ``last`` (Binance's trigger rules)."""
    rises = (order_type.startswith("STOP_LOSS") and side == "BUY") or (
        order_type.startswith("TAKE_PROFIT") and side == "SELL"
    )
    return last >= stop if rises else last <= stop


class Exchange:
    """One account on a set of symbols.  Emits user-data events through ``sink``."""

    def __init__(
        self,
        symbols: Iterable[SymbolSpec],
        balances: dict[str, Decimal],
        *,
        maker_rate: Decimal = Decimal("0.00075"),
        taker_rate: Decimal = Decimal("0.001"),
    ) -> None:
        self.markets = {s.symbol: _Market(s) for s in symbols}
        for market in self.markets.values():
            market.refill()
        self.free: dict[str, Decimal] = dict(balances)
        self.locked: dict[str, Decimal] = dict.fromkeys(balances, ZERO)
        for market in self.markets.values():
            for asset in (market.spec.base, market.spec.quote):
                self.free.setdefault(asset, ZERO)
                self.locked.setdefault(asset, ZERO)
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.skew_ms = 0
        self.orders: list[VenueOrder] = []
        """Every order received (rejected ones too), in arrival order: the ledger."""
        self.trades: list[VenueTrade] = []
        self._by_id: dict[int, VenueOrder] = {}
        self._by_client_id: dict[tuple[str, str], VenueOrder] = {}
        self._open: dict[int, VenueOrder] = {}
        """The orders that may still be open, in arrival order (see :meth:`_live`)."""
        self._order_ids = itertools.count(1)
        self._sinks: list[EventSink] = []
        self.books = BookTickers(self._book_top)
        """The top of each symbol's book (``bookTicker``), published as it moves."""

    # ------------------------------------------------------------------ plumbing
    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    def add_sink(self, sink: EventSink) -> Callable[[], None]:
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def _publish(self, event: dict[str, Any]) -> None:
        for sink in tuple(self._sinks):
            sink(event)

    def spec(self, symbol: str) -> SymbolSpec:
        try:
            return self.markets[symbol].spec
        except KeyError:
            raise VenueError(-1121, "Invalid symbol.") from None

    # ------------------------------------------------------------------ queries
    def find(self, symbol: str, order_id: int | None, client_order_id: str | None) -> VenueOrder | None:
        """Binance's lookup: by orderId (checked against the client id if both), else the latest
        order carrying that client id."""
        self.spec(symbol)
        if order_id is not None:
            order = self._by_id.get(order_id)
            if order is None or order.symbol != symbol:
                return None
            if client_order_id is not None and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id is None:
            return None
        return self._by_client_id.get((symbol, client_order_id))

    def _live(self) -> list[VenueOrder]:
        """The open orders, in arrival order, without scanning the whole ledger.

        An order is open only from :meth:`place` until it closes, and never opens again; the
        closed ones are dropped from the index here.  A scan of ``orders`` instead made every new
        order (``MAX_NUM_ORDERS`` counts the open ones) cost more the longer the venue ran.
        """
        closed = [order_id for order_id, order in self._open.items() if not order.is_open]
        for order_id in closed:
            del self._open[order_id]
        return list(self._open.values())

    def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return [o for o in self._live() if symbol is None or o.symbol == symbol]

    def my_trades(
        self, symbol: str, *, order_id: int | None = None, from_id: int | None = None, limit: int = 500
    ) -> list[VenueTrade]:
        self.spec(symbol)
        trades = [t for t in self.trades if t.symbol == symbol]
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        if from_id is not None:
            return [t for t in trades if t.trade_id >= from_id][:limit]
        return trades[-limit:]

    def _book_top(self, symbol: str) -> BookTop:
        market = self.markets[symbol]
        resting = (o for o in self._live() if o.symbol == symbol and o.working and o.type in LIMIT_TYPES)
        return top_of_book(market.spec, market.bid_pool, market.ask_pool, resting)

    def book_ticker(self, symbol: str) -> BookTop:
        """The best bid and ask now; -1121 for a symbol the venue does not list."""
        self.spec(symbol)
        return self.books.current(symbol)

    def balance_rows(self) -> list[tuple[str, Decimal, Decimal]]:
        return [(a, self.free[a], self.locked.get(a, ZERO)) for a in sorted(self.free)]

    # ------------------------------------------------------------------ orders
    def record_rejected(self, request: NewOrder) -> VenueOrder:
        """Book an order the venue refused (kept in the ledger, never visible to queries)."""
        now = self.now_ms()
        order = self._new_order(request, now)
        order.status = "REJECTED"
        order.working = False
        self.orders.append(order)
        return order

    def place(self, request: NewOrder) -> tuple[VenueOrder, list[VenueTrade]]:
        """Accept, lock funds, and execute what is marketable now."""
        market = self.markets[request.symbol]
        existing = self._by_client_id.get((request.symbol, request.client_order_id))
        if existing is not None and existing.is_open:
            raise VenueError(-2010, "Duplicate order sent.")
        last = market.spec.price
        if request.type in STOP_TYPES:
            assert request.stop_price is not None
            if stop_triggers(request.type, request.side, request.stop_price, last):
                raise VenueError(-2010, "Order would trigger immediately.")
        if (
            request.type == "LIMIT_MAKER"
            and request.price is not None
            and self._marketable(request.side, request.price, last)
        ):
            raise VenueError(-2010, "Order would immediately match and take.")
        now = self.now_ms()
        order = self._new_order(request, now)
        self._lock(order, last)
        self.orders.append(order)
        self._by_id[order.order_id] = order
        self._by_client_id[(order.symbol, order.client_order_id)] = order
        self._open[order.order_id] = order
        self._report(order, "NEW")
        if order.locked:
            self._account_update([order.lock_asset])
        trades_before = len(self.trades)
        if order.type in STOP_TYPES:
            order.working = False
        else:
            order.working_time = now
            self._take(order)
        self.books.touch(order.symbol)
        return order, self.trades[trades_before:]

    def cancel(
        self, symbol: str, order_id: int | None, client_order_id: str | None, cancel_client_id: str
    ) -> VenueOrder:
        order = self.find(symbol, order_id, client_order_id)
        if order is None or not order.is_open:
            raise VenueError(-2011, UNKNOWN_ORDER)
        self._close(order, "CANCELED", cancel_client_id=cancel_client_id)
        self.books.touch(symbol)
        return order

    def amend(
        self,
        symbol: str,
        order_id: int | None,
        client_order_id: str | None,
        new_client_id: str,
        new_qty: Decimal,
    ) -> VenueOrder:
        """Order amend keep priority: a smaller quantity, in place (same orderId, same time priority).

        Binance allows only a decrease; the funds the removed quantity held are released.  The
        order's client id becomes ``new_client_id`` (the same one, if the caller sends it).
        """
        spec = self.spec(symbol)
        order = self.find(symbol, order_id, client_order_id)
        if order is None or not order.is_open:
            raise VenueError(-2038, UNKNOWN_ORDER)
        if not spec.amend_allowed:
            raise VenueError(-2038, "Order amend is not supported for this symbol.")
        if new_qty == order.orig_qty:
            raise VenueError(-2038, "The requested action would change no state; rejecting")
        if new_qty > order.orig_qty:
            raise VenueError(-2038, "Order amend (quantity increase) is not supported.")
        if new_qty <= order.executed_qty:
            # Binance's documents leave this case open; the venue refuses it rather than guess.
            raise VenueError(-2038, "Order amend below the executed quantity is not supported.")
        existing = self._by_client_id.get((symbol, new_client_id))
        if existing is not None and existing is not order and existing.is_open:
            raise VenueError(-2038, "Duplicate order sent.")
        removed = order.orig_qty - new_qty
        if order.locked:
            freed = min(order.locked, removed * order.lock_price if order.side == "BUY" else removed)
            order.locked -= freed
            self.locked[order.lock_asset] -= freed
            self.free[order.lock_asset] += freed
        previous_id = order.client_order_id
        order.orig_qty = new_qty
        order.client_order_id = new_client_id
        order.update_time = self.now_ms()
        if self._by_client_id.get((symbol, previous_id)) is order:
            del self._by_client_id[(symbol, previous_id)]  # the order now answers to its new id only
        self._by_client_id[(symbol, new_client_id)] = order
        self._report(order, "REPLACED", cancel_client_id=previous_id)
        if order.lock_asset:
            self._account_update([order.lock_asset])
        self.books.touch(symbol)
        return order

    def validate_cancel(self, symbol: str, order_id: int | None, client_order_id: str | None) -> VenueOrder:
        order = self.find(symbol, order_id, client_order_id)
        if order is None or not order.is_open:
            raise VenueError(-2011, UNKNOWN_ORDER)
        return order

    # ------------------------------------------------------------------ market control
    def set_price(self, symbol: str, price: Decimal) -> list[VenueTrade]:
        """Move the market; trigger stops, then fill resting orders the price reached."""
        market = self.markets[symbol]
        market.spec.price = price
        market.refill()
        before = len(self.trades)
        for order in [o for o in self._live() if o.symbol == symbol and not o.working]:
            if stop_triggers(order.type, order.side, order.stop_price, price):
                order.working = True
                order.working_time = self.now_ms()
                self._take(order)
        self._match_resting(market)
        self.books.touch(symbol)
        return self.trades[before:]

    def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        market = self.markets[symbol]
        market.spec.liquidity = quantity
        market.refill()
        self.books.touch(symbol)

    # ------------------------------------------------------------------ internals
    def _new_order(self, request: NewOrder, now: int) -> VenueOrder:
        return VenueOrder(
            order_id=next(self._order_ids),
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            orig_qty=request.quantity,
            price=request.price or ZERO,
            stop_price=request.stop_price or ZERO,
            time=now,
            update_time=now,
        )

    @staticmethod
    def _marketable(side: str, limit: Decimal, last: Decimal) -> bool:
        return last <= limit if side == "BUY" else last >= limit

    def _lock(self, order: VenueOrder, last: Decimal) -> None:
        spec = self.markets[order.symbol].spec
        if order.side == "SELL":
            asset, amount, lock_price = spec.base, order.orig_qty, ZERO
        else:
            asset = spec.quote
            lock_price = order.price if order.type in LIMIT_TYPES else (order.stop_price or last)
            amount = order.orig_qty * lock_price
        if self.free.get(asset, ZERO) < amount:
            raise VenueError(-2010, INSUFFICIENT_BALANCE)
        if order.type == "MARKET":
            return  # a market order takes its funds as it trades, nothing rests
        self.free[asset] -= amount
        self.locked[asset] += amount
        order.lock_asset, order.lock_price, order.locked = asset, lock_price, amount

    def _release(self, order: VenueOrder) -> None:
        if order.locked:
            self.locked[order.lock_asset] -= order.locked
            self.free[order.lock_asset] += order.locked
            order.locked = ZERO

    def _take(self, order: VenueOrder) -> None:
        """Execute an arriving (or just triggered) order against the market as a taker."""
        market = self.markets[order.symbol]
        last = market.spec.price
        at_market = order.type in MARKET_TYPES
        if not at_market and not self._marketable(order.side, order.price, last):
            if order.time_in_force in ("IOC", "FOK"):
                self._close(order, "EXPIRED", reason=f"UNFILLED_{order.time_in_force}_QUANTITY_EXPIRED")
            return
        available = market.spec.liquidity  # each arriving order meets the capped book afresh
        if order.time_in_force == "FOK" and available is not None and available < order.remaining:
            self._close(order, "EXPIRED", reason="UNFILLED_FOK_ORDER_EXPIRED")
            return
        quantity = order.remaining if available is None else min(order.remaining, available)
        if quantity > 0:
            self._fill(market, order, quantity, last, maker=False, consume=False)
        if order.remaining > 0 and (at_market or order.time_in_force == "IOC"):
            reason = "INSUFFICIENT_LIQUIDITY" if at_market else "UNFILLED_IOC_QUANTITY_EXPIRED"
            self._close(order, "EXPIRED", reason=reason)

    def _match_resting(self, market: _Market) -> None:
        last = market.spec.price
        resting = [
            o for o in self._live() if o.symbol == market.spec.symbol and o.working and o.type in LIMIT_TYPES
        ]
        buys = sorted(
            (o for o in resting if o.side == "BUY" and o.price >= last), key=lambda o: (-o.price, o.time)
        )
        sells = sorted(
            (o for o in resting if o.side == "SELL" and o.price <= last), key=lambda o: (o.price, o.time)
        )
        for order in [*buys, *sells]:
            available = market.available(order.side)
            quantity = order.remaining if available is None else min(order.remaining, available)
            if quantity > 0:
                self._fill(market, order, quantity, order.price, maker=True)

    def _fill(
        self,
        market: _Market,
        order: VenueOrder,
        qty: Decimal,
        price: Decimal,
        *,
        maker: bool,
        consume: bool = True,
    ) -> None:
        spec = market.spec
        quote_qty = qty * price
        rate = self.maker_rate if maker else self.taker_rate
        if order.side == "BUY":
            commission = (qty * rate).quantize(COMMISSION_STEP, ROUND_HALF_UP)
            commission_asset = spec.base
            if order.locked:
                reserved = min(qty * order.lock_price, order.locked)
                order.locked -= reserved
                self.locked[spec.quote] -= reserved
                self.free[spec.quote] += reserved - quote_qty
            else:
                self.free[spec.quote] -= quote_qty
            self.free[spec.base] += qty - commission
        else:
            commission = (quote_qty * rate).quantize(COMMISSION_STEP, ROUND_HALF_UP)
            commission_asset = spec.quote
            if order.locked:
                order.locked -= qty
                self.locked[spec.base] -= qty
            else:
                self.free[spec.base] -= qty
            self.free[spec.quote] += quote_qty - commission
        if consume:
            market.consume(order.side, qty)
        now = self.now_ms()
        trade = VenueTrade(
            trade_id=next(market.trade_ids),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=quote_qty,
            commission=commission,
            commission_asset=commission_asset,
            time=now,
            is_maker=maker,
        )
        self.trades.append(trade)
        order.executed_qty += qty
        order.cum_quote += quote_qty
        order.update_time = now
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        if order.status == "FILLED":
            self._release(order)  # a buy filled below its lock price gives the rest back
        self._report(order, "TRADE", trade=trade)
        self._account_update([spec.base, spec.quote])

    def _close(
        self,
        order: VenueOrder,
        status: str,
        *,
        reason: str | None = None,
        cancel_client_id: str | None = None,
    ) -> None:
        order.status = status
        order.expiry_reason = reason
        order.update_time = self.now_ms()
        had_lock = bool(order.locked)
        self._release(order)
        self._report(order, status, cancel_client_id=cancel_client_id)
        if had_lock:
            self._account_update([order.lock_asset])

    def _report(
        self,
        order: VenueOrder,
        execution_type: str,
        *,
        trade: VenueTrade | None = None,
        cancel_client_id: str | None = None,
    ) -> None:
        self._publish(
            execution_report(
                order,
                execution_type,
                event_time=self.now_ms(),
                trade=trade,
                cancel_client_id=cancel_client_id,
            )
        )

    def _account_update(self, assets: list[str]) -> None:
        now = self.now_ms()
        rows = [(a, self.free[a], self.locked[a]) for a in dict.fromkeys(assets)]
        self._publish(account_position(rows, event_time=now))
