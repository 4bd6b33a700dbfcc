"""The venue's own record of an order: mutable, because the venue is the one place that owns it."""

from __future__ import annotations

from decimal import Decimal

import attrs

from autotrader.model import (
    ZERO,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)
from autotrader.testing.harness import LedgerOrder

__all__ = ["IMMEDIATE_ONLY", "MARKET_LIKE", "STOP_TYPES", "WorkingOrder"]

IMMEDIATE_ONLY = frozenset({TimeInForce.IOC, TimeInForce.FOK})
"""Time in force that never rests: what is not filled when the order becomes active expires."""
MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP})
"""Types that fill at the market (with slippage) once active; STOP is market once triggered."""
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
"""Types that wait for their stop price before they take part in matching."""


@attrs.define(slots=True, eq=False)
class WorkingOrder:
    """One order as the venue books it (identity equality: two records are never "equal")."""

    request: OrderRequest
    venue_order_id: str
    settlement_asset: str
    created_at: float
    updated_at: float
    status: OrderStatus = OrderStatus.ACCEPTED
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    commission: Decimal = ZERO
    triggered: bool = False
    """A STOP / STOP_LIMIT whose stop price the market has reached."""
    reserved: Decimal = ZERO
    """Cash locked for this order while it rests (buys only)."""
    reason: str | None = None
    last_update: OrderUpdate | None = None
    """The last update the venue reported (frozen), until the adapter takes it as the synchronous
    ack.  Dropped then: the ledger keeps every order for good, and an update kept with each was
    one more long-lived object per order for the garbage collector to walk."""

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def is_buy(self) -> bool:
        return self.request.side is OrderSide.BUY

    @property
    def remaining(self) -> Decimal:
        return self.request.quantity - self.filled

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.filled if self.filled else None

    def is_active(self) -> bool:
        """Whether the order takes part in matching (a stop does only once triggered)."""
        return self.triggered or self.request.order_type not in STOP_TYPES

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
            average_fill_price=self.average_price,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            commission=self.commission,
            created_at=self.created_at,
            updated_at=self.updated_at,
            reduce_only=r.reduce_only,
        )

    def ledger_entry(self) -> LedgerOrder:
        r = self.request
        return LedgerOrder(
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=r.side,
            order_type=r.order_type,
            quantity=r.quantity,
            price=r.price,
            status=self.status,
            filled_quantity=self.filled,
            venue_order_id=self.venue_order_id,
        )
