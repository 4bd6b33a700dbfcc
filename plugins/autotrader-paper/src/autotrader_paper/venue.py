"""The paper venue: a deterministic in-process exchange with a real matching model.

No I/O and no clock: everything happens when an order arrives or the price moves, so a run is
reproducible for a given seed.  Resting orders match in arrival order (time priority) whenever
:meth:`PaperVenue.set_price` moves the market; ``set_liquidity`` caps what each price event can
fill, which is how partial fills happen.  The venue keeps its own ledger (orders received, trades
made) and a single cash account in which fills of USD-like quotes settle.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

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
    OrderUpdate,
    Position,
    TimeInForce,
)
from autotrader.testing.harness import LedgerOrder, LedgerTrade

__all__ = ["PaperVenue"]

VENUE = "paper"
_BPS = Decimal(10_000)
_IMMEDIATE_ONLY = (TimeInForce.IOC, TimeInForce.FOK)


@attrs.define
class _Record:
    """The venue's mutable record of one order."""

    request: OrderRequest
    venue_order_id: str
    created_at: float
    status: OrderStatus = OrderStatus.ACCEPTED
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    commission: Decimal = ZERO
    triggered: bool = False
    reason: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.request.quantity - self.filled

    def snapshot(self) -> Order:
        r = self.request
        return Order(
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=r.side,
            order_type=r.order_type,
            quantity=r.quantity,
            price=r.price,
            stop_price=r.stop_price,
            time_in_force=r.time_in_force,
            status=self.status,
            filled_quantity=self.filled,
            average_fill_price=self.notional / self.filled if self.filled else None,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            commission=self.commission,
            created_at=self.created_at,
            updated_at=self.created_at,
        )


class PaperVenue:
    """Matching, account and ledger of the paper broker."""

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
        on_event: Callable[[ExecutionEvent], None] = lambda event: None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.currency = currency
        self.cash = initial_balance
        self.slippage_bps = slippage_bps
        self.commission_bps = commission_bps
        self.fill_probability = fill_probability
        self.rng = rng or random.Random()
        self.on_event = on_event
        self._clock = clock or time.time
        self._prices: dict[str, Decimal] = {}
        self._caps: dict[str, Decimal | None] = {}
        self._available: dict[str, Decimal | None] = {}
        self._orders: dict[str, _Record] = {}
        self._ledger: list[_Record] = []
        self._book: dict[str, list[_Record]] = {}
        self._trades: list[LedgerTrade] = []
        self._fills: dict[str, list[Fill]] = {}
        self._positions: dict[str, Position] = {}
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)

    # ------------------------------------------------------------------ market
    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market: refresh the liquidity cap and match resting orders in time priority."""
        self._instrument(symbol)
        self._prices[symbol] = price
        self._available[symbol] = self._caps.get(symbol)
        for record in list(self._book.get(symbol, ())):
            self._try_fill(record, immediate=False)

    def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        self._caps[symbol] = quantity
        self._available[symbol] = quantity

    def last_price(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)

    # ------------------------------------------------------------------ orders
    def submit(self, request: OrderRequest) -> Order:
        coid = request.client_order_id
        existing = self._orders.get(coid)
        if existing is not None and existing.status.is_open:
            raise OrderRejected("Duplicate order sent.", code="DUPLICATE_CLIENT_ORDER_ID")
        instrument = self._instrument(request.symbol)
        record = _Record(request, f"P{next(self._order_ids)}", self._clock())
        self._orders[coid] = record
        self._ledger.append(record)
        problem = self._refusal(request, instrument)
        if problem is not None:
            record.status, record.reason = OrderStatus.REJECTED, problem
            raise OrderRejected(problem, code="REJECTED")
        self._update(record)
        self._book.setdefault(request.symbol, []).append(record)
        self._try_fill(record, immediate=True)
        return record.snapshot()

    def _refusal(self, request: OrderRequest, instrument: Instrument) -> str | None:
        last = self._prices.get(request.symbol)
        if request.order_type is OrderType.MARKET and last is None:
            return f"no market price for {request.symbol} yet"
        if request.side is OrderSide.BUY and not request.reduce_only:
            price = request.price or request.stop_price or last
            if price is not None:
                cost = request.quantity * price * (1 + (self.commission_bps + self.slippage_bps) / _BPS)
                if cost > self.cash:
                    return (
                        f"insufficient balance: {cost:.2f} {self.currency} needed, {self.cash:.2f} available"
                    )
        return None

    def cancel(self, client_order_id: str) -> Order:
        record = self._open_record(client_order_id)
        self._close(record, OrderStatus.CANCELLED)
        return record.snapshot()

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        return [
            self.cancel(r.request.client_order_id)
            for r in list(self._orders.values())
            if r.status.is_open and (symbol is None or r.request.symbol == symbol)
        ]

    def modify(self, request: ModifyRequest) -> Order:
        record = self._open_record(request.client_order_id)
        if request.quantity is not None and request.quantity <= record.filled:
            raise OrderRejected(f"new quantity {request.quantity} is not above the filled {record.filled}")
        changes = {
            name: value
            for name in ("quantity", "price", "stop_price")
            if (value := getattr(request, name)) is not None
        }
        try:
            record.request = attrs.evolve(record.request, **changes)
        except ValueError as exc:
            raise OrderRejected(str(exc)) from None
        self._update(record, with_terms=True)
        self._try_fill(record, immediate=False)
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
        return list(self._fills.get(client_order_id, ()))

    # ------------------------------------------------------------------ account
    def positions(self) -> list[Position]:
        return [p for p in self._positions.values() if p.quantity != 0]

    def balances(self) -> list[Balance]:
        return [Balance(self.currency, self.cash)]

    def equity(self) -> Decimal:
        value = self.cash
        for symbol, position in self._positions.items():
            value += position.quantity * self._prices.get(symbol, position.average_price)
        return value

    # ------------------------------------------------------------------ ledger
    def ledger_orders(self) -> list[LedgerOrder]:
        return [
            LedgerOrder(
                client_order_id=r.request.client_order_id,
                symbol=r.request.symbol,
                side=r.request.side,
                order_type=r.request.order_type,
                quantity=r.request.quantity,
                price=r.request.price,
                status=r.status,
                filled_quantity=r.filled,
                venue_order_id=r.venue_order_id,
            )
            for r in self._ledger
        ]

    def ledger_trades(self) -> list[LedgerTrade]:
        return list(self._trades)

    # ------------------------------------------------------------------ matching
    def _try_fill(self, record: _Record, *, immediate: bool) -> None:
        if not record.status.is_open:
            return
        request = record.request
        price = self._prices.get(request.symbol)
        if price is None:
            return
        buy = request.side is OrderSide.BUY
        if request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not record.triggered:
            assert request.stop_price is not None
            if not (price >= request.stop_price if buy else price <= request.stop_price):
                return
            record.triggered = True
        market_like = request.order_type in (OrderType.MARKET, OrderType.STOP)
        if market_like:
            fill_price = self._slipped(request.symbol, price, buy)
        else:
            assert request.price is not None
            marketable = price <= request.price if buy else price >= request.price
            if not marketable or self.rng.random() >= self.fill_probability:
                if immediate and request.time_in_force in _IMMEDIATE_ONLY:
                    self._close(record, OrderStatus.EXPIRED)
                return
            fill_price = price
        quantity = self._fillable(request.symbol, record.remaining)
        if request.time_in_force is TimeInForce.FOK and quantity < record.remaining:
            self._close(record, OrderStatus.EXPIRED)
            return
        if quantity > 0:
            self._execute(record, quantity, fill_price)
        if record.remaining > 0 and (market_like or request.time_in_force in _IMMEDIATE_ONLY):
            self._close(record, OrderStatus.EXPIRED)

    def _fillable(self, symbol: str, wanted: Decimal) -> Decimal:
        available = self._available.get(symbol)
        if available is None:
            return wanted
        quantity = self._instrument(symbol).round_quantity(min(wanted, available))
        self._available[symbol] = available - quantity
        return quantity

    def _slipped(self, symbol: str, price: Decimal, buy: bool) -> Decimal:
        if not self.slippage_bps:
            return price
        tick = self._instrument(symbol).tick_size
        raw = price * (1 + self.slippage_bps / _BPS) if buy else price * (1 - self.slippage_bps / _BPS)
        rounding = ROUND_CEILING if buy else ROUND_FLOOR
        return (raw / tick).to_integral_value(rounding=rounding) * tick

    def _execute(self, record: _Record, quantity: Decimal, price: Decimal) -> None:
        request = record.request
        notional = quantity * price
        commission = notional * self.commission_bps / _BPS
        signed = quantity if request.side is OrderSide.BUY else -quantity
        self.cash -= signed * price + commission
        position = self._positions.get(request.symbol) or Position(request.symbol)
        self._positions[request.symbol] = position.apply(request.side, quantity, price)
        trade_id = f"T{next(self._trade_ids)}"
        self._trades.append(
            LedgerTrade(
                trade_id,
                request.client_order_id,
                request.symbol,
                request.side,
                quantity,
                price,
                commission,
                self.currency,
            )
        )
        fill = Fill(
            venue=VENUE,
            trade_id=trade_id,
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            quantity=quantity,
            price=price,
            commission=commission,
            commission_asset=self.currency,
            liquidity=Liquidity.TAKER if request.order_type is OrderType.MARKET else Liquidity.MAKER,
            venue_order_id=record.venue_order_id,
            timestamp=self._clock(),
        )
        self._fills.setdefault(request.client_order_id, []).append(fill)
        record.filled += quantity
        record.notional += notional
        record.commission += commission
        record.status = OrderStatus.FILLED if record.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        if record.status is OrderStatus.FILLED:
            self._unbook(record)
        self.on_event(fill)
        self._update(record)

    def _close(self, record: _Record, status: OrderStatus) -> None:
        record.status = status
        self._unbook(record)
        self._update(record)

    def _unbook(self, record: _Record) -> None:
        book = self._book.get(record.request.symbol)
        if book is not None and record in book:
            book.remove(record)

    def _update(self, record: _Record, *, with_terms: bool = False) -> None:
        request = record.request
        self.on_event(
            OrderUpdate(
                client_order_id=request.client_order_id,
                status=record.status,
                venue=VENUE,
                venue_order_id=record.venue_order_id,
                filled_quantity=record.filled,
                average_price=record.notional / record.filled if record.filled else None,
                reason=record.reason,
                quantity=request.quantity if with_terms else None,
                price=request.price if with_terms else None,
                stop_price=request.stop_price if with_terms else None,
                timestamp=self._clock(),
            )
        )

    def _open_record(self, client_order_id: str) -> _Record:
        record = self._orders.get(client_order_id)
        if record is None or not record.status.is_open:
            raise OrderNotFound(f"paper: no open order {client_order_id!r}", code="ORDER_NOT_FOUND")
        return record

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise OrderRejected(f"unknown symbol {symbol!r}", code="UNKNOWN_SYMBOL") from None
