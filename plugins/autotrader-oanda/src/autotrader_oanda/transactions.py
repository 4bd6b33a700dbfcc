"""v20 transactions -> the core's events (OrderUpdate, Fill), each fill passed on once.

A fill can reach the adapter twice -- in the REST answer to an order request and on the
transaction stream -- and the stream itself may repeat.  The translator remembers which
ORDER_FILL ids it passed on, so the OMS sees each venue trade once from this adapter (the OMS
would still de-duplicate by ``(venue, trade_id)``).
"""

from __future__ import annotations

import collections
from decimal import Decimal
from typing import Any, Final

from autotrader.adapter import ExecutionEvent
from autotrader.model import Fill, Liquidity, OrderStatus, OrderUpdate

from autotrader_oanda.mapping import (
    CREATE_TYPES,
    REJECT_TYPES,
    REPLACED_REASON,
    VENUE,
    cancel_status,
    parse_time,
    side_of,
)

MEMORY: Final = 100_000


class TransactionTranslator:
    def __init__(self, currency: str | None = None) -> None:
        self.currency = currency
        self._emitted: set[str] = set()
        self._emitted_order: collections.deque[str] = collections.deque()
        self._filled_orders: set[str] = set()

    def seen_fill(self, txn_id: str) -> bool:
        return txn_id in self._emitted

    def _remember(self, txn_id: str) -> None:
        self._emitted.add(txn_id)
        self._emitted_order.append(txn_id)
        if len(self._emitted_order) > MEMORY:
            self._emitted.discard(self._emitted_order.popleft())

    def fill(self, txn: dict[str, Any]) -> Fill | None:
        """The core fill of an ORDER_FILL (``None`` for an order without a client id)."""
        client_id = txn.get("clientOrderID")
        if not client_id:
            return None
        units = Decimal(str(txn["units"]))
        price = Decimal(str(txn.get("fullVWAP") or txn["price"]))
        return Fill(
            venue=VENUE,
            trade_id=str(txn["id"]),
            client_order_id=str(client_id),
            symbol=str(txn["instrument"]),
            side=side_of(units),
            quantity=abs(units),
            price=price,
            commission=Decimal(str(txn.get("commission", "0"))),
            commission_asset=self.currency,
            liquidity=Liquidity.TAKER,
            venue_order_id=str(txn["orderID"]),
            timestamp=parse_time(txn.get("time")),
        )

    def events(self, txn: dict[str, Any]) -> list[ExecutionEvent]:
        """The events one transaction means for the core (most transactions mean none)."""
        kind = txn.get("type")
        if kind == "ORDER_FILL":
            txn_id = str(txn["id"])
            self._filled_orders.add(str(txn.get("orderID")))
            if txn_id in self._emitted:
                return []
            fill = self.fill(txn)
            if fill is None:
                return []
            self._remember(txn_id)
            return [fill]
        if kind == "ORDER_CANCEL":
            client_id, reason = txn.get("clientOrderID"), txn.get("reason")
            if not client_id or reason == REPLACED_REASON:
                return []
            order_id = str(txn.get("orderID"))
            filled = Decimal(1) if order_id in self._filled_orders else Decimal(0)
            status = cancel_status(reason, filled)
            return [
                self._update(
                    str(client_id),
                    status,
                    txn,
                    reason=None if status is OrderStatus.CANCELLED else str(reason),
                    venue_order_id=order_id,
                )
            ]
        if kind in CREATE_TYPES:
            client_id = (txn.get("clientExtensions") or {}).get("id")
            if not client_id or txn.get("reason") != "CLIENT_ORDER":
                return []
            return [self._update(str(client_id), OrderStatus.ACCEPTED, txn, venue_order_id=str(txn["id"]))]
        if kind in REJECT_TYPES:
            client_id = (txn.get("clientExtensions") or {}).get("id")
            reject = txn.get("rejectReason")
            if (
                not client_id
                or txn.get("reason") != "CLIENT_ORDER"
                or reject == "CLIENT_ORDER_ID_ALREADY_EXISTS"
            ):
                return []
            return [self._update(str(client_id), OrderStatus.REJECTED, txn, reason=str(reject))]
        return []

    def _update(self, client_id: str, status: OrderStatus, txn: dict[str, Any], **fields: Any) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=client_id,
            status=status,
            venue=VENUE,
            timestamp=parse_time(txn.get("time")),
            **fields,
        )
