"""A scripted in-memory venue adapter for core unit tests.

It lets a test stage exact failure sequences (transient errors, ambiguous outcomes where the
order did or did not reach the venue, failing lookups) that the resiliency layer and the OMS must
survive.  Broker behaviour itself is tested against the plugins' local venues.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from autotrader.adapter import BrokerAdapter, Capabilities
from autotrader.errors import AmbiguousOutcome, OrderNotFound
from autotrader.model import (
    Balance,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    TimeInForce,
)


@attrs.frozen
class Decision:
    """Duck-typed like ExecutionDecision, so engine tests pin the engine's contract only."""

    action: str
    symbol: str = "BTCUSDT"
    size: Any = "1"
    metadata: dict[str, Any] = attrs.field(factory=dict)


INSTRUMENT = Instrument("BTCUSDT", "BTC", "USDT", tick_size="0.01", lot_size="0.001", min_notional="5")

# Actions a test can queue for the next submit: an exception to raise before the venue sees the
# order, or ("accept", exc) to record the order at the venue and then raise exc.
Action = BaseException | tuple[str, BaseException]


class ScriptedAdapter(BrokerAdapter):
    name = "scripted"
    capabilities = Capabilities(
        order_types={OrderType.MARKET, OrderType.LIMIT},
        time_in_force={TimeInForce.GTC, TimeInForce.IOC},
        modify=True,
        short_selling=True,
    )

    def __init__(self) -> None:
        super().__init__()
        self.connected = False
        self.venue: dict[str, Order] = {}
        self.venue_fills: dict[str, list[Fill]] = {}
        self.submit_script: deque[Action] = deque()
        self.lookup_script: deque[BaseException] = deque()
        self.cancel_script: deque[BaseException] = deque()
        self.submit_calls = 0
        self.lookup_calls = 0
        self.fill_market_orders_at: Decimal | None = Decimal("100")
        self._trade_ids = itertools.count(1)

    @property
    def is_connected(self) -> bool:
        return self.connected

    async def connect(self) -> bool:
        self.connected = True
        return True

    async def disconnect(self) -> None:
        self.connected = False

    async def instruments(self) -> Mapping[str, Instrument]:
        return {INSTRUMENT.symbol: INSTRUMENT}

    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        self.submit_calls += 1
        if self.submit_script:
            action = self.submit_script.popleft()
            if isinstance(action, tuple):
                self._accept(request, emit=False)
                raise action[1]
            raise action
        return self._accept(request, emit=True)

    def _accept(self, request: OrderRequest, *, emit: bool) -> OrderUpdate:
        order = attrs.evolve(
            Order.from_request(request), status=OrderStatus.ACCEPTED, venue_order_id=f"v{len(self.venue) + 1}"
        )
        self.venue[request.client_order_id] = order
        self.venue_fills[request.client_order_id] = []
        update = OrderUpdate(request.client_order_id, OrderStatus.ACCEPTED, self.name, order.venue_order_id)
        if emit:
            self._emit(update)
        if request.order_type is OrderType.MARKET and self.fill_market_orders_at is not None:
            self.fill(request.client_order_id, request.quantity, self.fill_market_orders_at, emit=emit)
        return update

    def fill(self, coid: str, quantity: Decimal, price: Decimal, *, emit: bool = True) -> Fill:
        order = self.venue[coid]
        fill = Fill(
            venue=self.name,
            trade_id=f"t{next(self._trade_ids)}",
            client_order_id=coid,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=Decimal("0.1"),
        )
        filled = order.filled_quantity + quantity
        status = OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED
        self.venue[coid] = attrs.evolve(order, filled_quantity=filled, status=status)
        self.venue_fills[coid].append(fill)
        if emit:
            self._emit(fill)
            self._emit(OrderUpdate(coid, status, self.name, order.venue_order_id))
        return fill

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        if self.cancel_script:
            raise self.cancel_script.popleft()
        order = self.venue.get(client_order_id)
        if order is None or order.status.is_terminal:
            raise OrderNotFound(f"no open order {client_order_id}")
        self.venue[client_order_id] = attrs.evolve(order, status=OrderStatus.CANCELLED)
        update = OrderUpdate(client_order_id, OrderStatus.CANCELLED, self.name, order.venue_order_id)
        self._emit(update)
        return update

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        order = self.venue[request.client_order_id]
        self.venue[request.client_order_id] = attrs.evolve(
            order, quantity=request.quantity or order.quantity, price=request.price or order.price
        )
        return OrderUpdate(
            request.client_order_id, order.status, self.name, quantity=request.quantity, price=request.price
        )

    async def get_order(self, client_order_id: str) -> Order | None:
        self.lookup_calls += 1
        if self.lookup_script:
            raise self.lookup_script.popleft()
        return self.venue.get(client_order_id)

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.venue.values() if o.is_open and (symbol is None or o.symbol == symbol)]

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        return list(self.venue_fills.get(client_order_id, []))

    async def get_positions(self) -> list[Position]:
        position = Position(INSTRUMENT.symbol)
        for fills in self.venue_fills.values():
            for fill in fills:
                position = position.apply(fill.side, fill.quantity, fill.price)
        return [position] if position.quantity else []

    async def get_balances(self) -> list[Balance]:
        return [Balance("USDT", Decimal("1000000"))]


def ambiguous() -> AmbiguousOutcome:
    return AmbiguousOutcome("timed out waiting for the venue")
