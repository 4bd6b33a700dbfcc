"""Orders at the venue: parsing and validating an ``OrderRequest`` body, and the v20 ``Order`` view.

A request that fails validation is refused with the v20 ``TransactionRejectReason`` that names
the problem (``UNITS_PRECISION_EXCEEDED``, ``PRICE_PRECISION_EXCEEDED``...), exactly as the real
API turns it into a ``*_ORDER_REJECT`` transaction and a 400.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

from autotrader_oanda.venue.instruments import InstrumentSpec
from autotrader_oanda.venue.wire import ZERO, timestamp, units_str

ORDER_TYPES: Final = frozenset({"MARKET", "LIMIT", "STOP", "MARKET_IF_TOUCHED"})
TIME_IN_FORCE: Final = {
    "MARKET": frozenset({"FOK", "IOC"}),
    "LIMIT": frozenset({"GTC", "GTD", "GFD", "FOK", "IOC"}),
    "STOP": frozenset({"GTC", "GTD", "GFD", "FOK", "IOC"}),
    "MARKET_IF_TOUCHED": frozenset({"GTC", "GTD", "GFD"}),
}
DEFAULT_TIME_IN_FORCE: Final = {"MARKET": "FOK", "LIMIT": "GTC", "STOP": "GTC", "MARKET_IF_TOUCHED": "GTC"}
POSITION_FILLS: Final = frozenset({"DEFAULT", "OPEN_ONLY", "REDUCE_FIRST", "REDUCE_ONLY"})
CLIENT_ID_MAX: Final = 128


class OrderRefused(Exception):
    """The request is invalid; ``reason`` is the v20 reject reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@attrs.define
class VenueOrder:
    """A v20 order, with the venue's private bookkeeping (``filled_units``, ``cancel_reason``)."""

    id: str
    type: str
    instrument: str
    units: Decimal
    time_in_force: str
    position_fill: str = "DEFAULT"
    price: Decimal | None = None
    price_bound: Decimal | None = None
    gtd_time: str | None = None
    client_extensions: dict[str, str] | None = None
    trade_client_extensions: dict[str, str] | None = None
    state: str = "PENDING"
    create_time: str = attrs.field(factory=timestamp)
    replaces_order_id: str | None = None
    replaced_by_order_id: str | None = None
    filled_units: Decimal = ZERO
    filling_transaction_id: str | None = None
    filled_time: str | None = None
    trade_opened_id: str | None = None
    trade_reduced_id: str | None = None
    trade_closed_ids: list[str] = attrs.field(factory=list)
    cancelling_transaction_id: str | None = None
    cancelled_time: str | None = None
    cancel_reason: str | None = None
    reject_reason: str | None = None

    @property
    def client_id(self) -> str | None:
        return self.client_extensions.get("id") if self.client_extensions else None

    @property
    def is_buy(self) -> bool:
        return self.units > 0

    @property
    def remaining(self) -> Decimal:
        return abs(self.units) - self.filled_units

    def to_wire(self, spec: InstrumentSpec) -> dict[str, Any]:
        """The v20 ``Order`` object (as ``GET orders/{spec}`` returns it)."""
        wire: dict[str, Any] = {
            "id": self.id,
            "createTime": self.create_time,
            "type": self.type,
            "instrument": self.instrument,
            "units": units_str(self.units, spec.unit_step),
            "timeInForce": self.time_in_force,
            "positionFill": self.position_fill,
            "state": self.state,
        }
        if self.type != "MARKET":
            wire["triggerCondition"] = "DEFAULT"
        optional = {
            "price": None if self.price is None else spec.price_str(self.price),
            "priceBound": None if self.price_bound is None else spec.price_str(self.price_bound),
            "gtdTime": self.gtd_time,
            "clientExtensions": self.client_extensions,
            "tradeClientExtensions": self.trade_client_extensions,
            "replacesOrderID": self.replaces_order_id,
            "replacedByOrderID": self.replaced_by_order_id,
            "fillingTransactionID": self.filling_transaction_id,
            "filledTime": self.filled_time,
            "tradeOpenedID": self.trade_opened_id,
            "tradeReducedID": self.trade_reduced_id,
            "tradeClosedIDs": self.trade_closed_ids or None,
            "cancellingTransactionID": self.cancelling_transaction_id,
            "cancelledTime": self.cancelled_time,
        }
        wire.update({k: v for k, v in optional.items() if v is not None})
        return wire

    def create_fields(self, spec: InstrumentSpec) -> dict[str, Any]:
        """The order-specific fields of its ``*_ORDER`` (create) transaction."""
        fields: dict[str, Any] = {
            "instrument": self.instrument,
            "units": units_str(self.units, spec.unit_step),
            "timeInForce": self.time_in_force,
            "positionFill": self.position_fill,
        }
        if self.type != "MARKET":
            fields["triggerCondition"] = "DEFAULT"
        for key, value in (
            ("price", None if self.price is None else spec.price_str(self.price)),
            ("priceBound", None if self.price_bound is None else spec.price_str(self.price_bound)),
            ("gtdTime", self.gtd_time),
            ("clientExtensions", self.client_extensions),
            ("tradeClientExtensions", self.trade_client_extensions),
        ):
            if value is not None:
                fields[key] = value
        return fields


def _decimal(body: dict[str, Any], key: str, missing: str, invalid: str) -> Decimal | None:
    raw = body.get(key)
    if raw is None:
        if missing:
            raise OrderRefused(missing, f"'{key}' is required")
        return None
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise OrderRefused(invalid, f"'{key}' must be a decimal number encoded as a string")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise OrderRefused(invalid, f"'{key}' is not a number: {raw!r}") from None
    if not value.is_finite():
        raise OrderRefused(invalid, f"'{key}' is not finite")
    return value


def _extensions(body: dict[str, Any], key: str) -> dict[str, str] | None:
    raw = body.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise OrderRefused("CLIENT_ORDER_ID_INVALID", f"'{key}' must be an object")
    cleaned = {k: str(v) for k, v in raw.items() if k in ("id", "tag", "comment")}
    client_id = cleaned.get("id")
    if client_id is not None and (
        not client_id or len(client_id) > CLIENT_ID_MAX or client_id.startswith("@")
    ):
        raise OrderRefused("CLIENT_ORDER_ID_INVALID", f"client order id {client_id!r} is invalid")
    return cleaned


def parse_order(order_id: str, payload: Any, instruments: dict[str, InstrumentSpec]) -> VenueOrder:
    """Build a :class:`VenueOrder` from a request body, or raise :class:`OrderRefused`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("order"), dict):
        raise OrderRefused("ORDER_TYPE_MISSING", "the request body must hold an 'order' object")
    body: dict[str, Any] = payload["order"]
    order_type = body.get("type")
    if order_type is None:
        raise OrderRefused("ORDER_TYPE_MISSING", "'order.type' is required")
    if order_type not in ORDER_TYPES:
        raise OrderRefused("ORDER_TYPE_INVALID", f"order type {order_type!r} is not supported")
    instrument = body.get("instrument")
    if not instrument:
        raise OrderRefused("INSTRUMENT_MISSING", "'order.instrument' is required")
    spec = instruments.get(str(instrument))
    if spec is None:
        raise OrderRefused("INSTRUMENT_UNKNOWN", f"instrument {instrument!r} is unknown")
    units = _decimal(body, "units", "UNITS_MISSING", "UNITS_INVALID")
    assert units is not None
    if units == 0:
        raise OrderRefused("UNITS_INVALID", "'order.units' must not be zero")
    if units % spec.unit_step != 0:
        raise OrderRefused("UNITS_PRECISION_EXCEEDED", f"{units} exceeds the precision of {spec.name}")
    if abs(units) < spec.minimum_trade_size:
        raise OrderRefused("UNITS_MINIMUM_NOT_MET", f"{units} is below the minimum {spec.minimum_trade_size}")
    if abs(units) > spec.maximum_order_units:
        raise OrderRefused("UNITS_LIMIT_EXCEEDED", f"{units} is above the maximum {spec.maximum_order_units}")
    tif = str(body.get("timeInForce") or DEFAULT_TIME_IN_FORCE[order_type])
    if tif not in TIME_IN_FORCE[order_type]:
        raise OrderRefused("TIME_IN_FORCE_INVALID", f"time in force {tif} is not allowed for {order_type}")
    gtd_time = body.get("gtdTime")
    if tif == "GTD" and not gtd_time:
        raise OrderRefused("TIME_IN_FORCE_GTD_TIMESTAMP_MISSING", "a GTD order needs 'gtdTime'")
    price = None
    if order_type != "MARKET":
        price = _decimal(body, "price", "PRICE_MISSING", "PRICE_INVALID")
        assert price is not None
        if price <= 0:
            raise OrderRefused("PRICE_INVALID", f"price {price} must be positive")
        if price % spec.tick != 0:
            raise OrderRefused("PRICE_PRECISION_EXCEEDED", f"price {price} exceeds {spec.name}'s precision")
    bound = _decimal(body, "priceBound", "", "PRICE_BOUND_INVALID")
    if bound is not None and (bound <= 0 or bound % spec.tick != 0):
        raise OrderRefused("PRICE_BOUND_PRECISION_EXCEEDED", f"priceBound {bound} is invalid")
    position_fill = str(body.get("positionFill") or "DEFAULT")
    if position_fill not in POSITION_FILLS:
        raise OrderRefused("POSITION_FILL_INVALID", f"positionFill {position_fill} is invalid")
    return VenueOrder(
        id=order_id,
        type=order_type,
        instrument=spec.name,
        units=units,
        time_in_force=tif,
        position_fill=position_fill,
        price=price,
        price_bound=bound,
        gtd_time=str(gtd_time) if gtd_time else None,
        client_extensions=_extensions(body, "clientExtensions"),
        trade_client_extensions=_extensions(body, "tradeClientExtensions"),
    )


def rejected_shell(order_id: str, payload: Any) -> VenueOrder:
    """A best-effort record of a refused request, for the reject transaction and the ledger."""
    body = payload.get("order") if isinstance(payload, dict) else None
    body = body if isinstance(body, dict) else {}
    order_type = body.get("type") if body.get("type") in ORDER_TYPES else "MARKET"
    try:
        units = Decimal(str(body.get("units", "0")))
    except InvalidOperation:
        units = ZERO
    try:
        price = Decimal(str(body["price"])) if body.get("price") is not None else None
    except InvalidOperation:
        price = None
    extensions = body.get("clientExtensions") if isinstance(body.get("clientExtensions"), dict) else None
    return VenueOrder(
        id=order_id,
        type=str(order_type),
        instrument=str(body.get("instrument", "")),
        units=units if units.is_finite() else ZERO,
        time_in_force=str(body.get("timeInForce") or DEFAULT_TIME_IN_FORCE[str(order_type)]),
        price=price if price is not None and price.is_finite() else None,
        client_extensions={k: str(v) for k, v in extensions.items()} if extensions else None,
        state="REJECTED",
    )
