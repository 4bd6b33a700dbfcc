"""What the local TWS knows: contracts, orders, executions and the account, as IB names them.

Plain mutable classes owned by :class:`~autotrader_ibkr.tws.exchange.Exchange`; the wire
layouts in :mod:`~autotrader_ibkr.tws.messages` read them.  Numbers are Decimal throughout: the
wire is text, so nothing here ever passes through a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import attrs

__all__ = [
    "ACCOUNT",
    "WORKING",
    "Execution",
    "Position",
    "VenueContract",
    "VenueOrder",
]

ACCOUNT: Final = "DU1234567"
"""The paper-trading account this TWS manages (IB's paper accounts start with DU)."""

WORKING: Final = frozenset({"PreSubmitted", "Submitted"})
"""IB statuses of an order that can still trade."""


@attrs.define
class VenueContract:
    """A contract as IB's contract details describe it."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    min_tick: Decimal
    size_increment: Decimal
    min_size: Decimal
    primary_exchange: str = ""
    last_trade_date: str = ""
    multiplier: str = ""
    long_name: str = ""
    market_name: str = ""
    order_types: str = "LMT,MKT,STP,STP LMT"
    valid_exchanges: str = "SMART"

    @property
    def multiplier_value(self) -> Decimal:
        return Decimal(self.multiplier) if self.multiplier else Decimal(1)


@attrs.define
class VenueOrder:
    """An order the TWS accepted (or rejected), with its IB status and fill state."""

    order_id: int
    client_id: int
    perm_id: int
    contract: VenueContract
    action: str
    total_quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    order_ref: str
    account: str = ACCOUNT
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    avg_fill_price: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    triggered: bool = False
    rejected: bool = False
    expired: bool = False
    reason: str = ""
    completed_time: str = ""
    completed_status: str = ""

    @property
    def remaining(self) -> Decimal:
        return self.total_quantity - self.filled

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    @property
    def is_buy(self) -> bool:
        return self.action == "BUY"


@attrs.define
class Execution:
    """One fill, with its commission (joined on the wire by ``execId``)."""

    exec_id: str
    order: VenueOrder
    time: str
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    commission: Decimal
    liquidity: int
    """IB's lastLiquidity: 1 added (maker), 2 removed (taker)."""
    realized_pnl: Decimal = Decimal(0)

    @property
    def side(self) -> str:
        return "BOT" if self.order.is_buy else "SLD"


@attrs.define
class Position:
    contract: VenueContract
    quantity: Decimal = Decimal(0)
    average_cost: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
