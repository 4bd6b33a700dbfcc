"""What a strategy hands the engine: one :class:`ExecutionDecision` per symbol and cycle.

The decision is validated when it is made, so a bad size or an order type the engine cannot
express fails in the strategy's own stack frame, not later inside the engine.  Sizes are typed by
people (``size=0.1``), so floats are taken by their shortest repr (:func:`decimal_from_user`).

``metadata`` may shape the order the engine will send: ``limit_price``, ``stop_price``,
``order_type`` (MARKET, LIMIT, STOP, STOP_LIMIT; the seed API's ``IOC`` / ``FOK`` mean LIMIT,
or MARKET without a limit price, with that time in force) and ``time_in_force``.  The resolved
values are exposed as :attr:`ExecutionDecision.order_type`, :attr:`~ExecutionDecision.time_in_force`,
:attr:`~ExecutionDecision.limit_price` and :attr:`~ExecutionDecision.stop_price`; the engine turns
them into an :class:`~autotrader.model.OrderRequest`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import attrs

from autotrader.errors import InvalidOrder
from autotrader.model import ZERO, OrderSide, OrderType, TimeInForce, decimal_from_user

__all__ = ["Action", "ExecutionDecision"]


class Action(enum.StrEnum):
    """What the strategy wants.  A ``str`` so that the seed's ``decision.action != 'HOLD'`` works."""

    LONG = "LONG"
    SHORT = "SHORT"
    CLOSE = "CLOSE"
    HOLD = "HOLD"

    @property
    def opens(self) -> bool:
        """LONG and SHORT add exposure; CLOSE and HOLD never do."""
        return self in (Action.LONG, Action.SHORT)

    @property
    def side(self) -> OrderSide | None:
        """The order side of an opening action (CLOSE's side depends on the position)."""
        if self is Action.LONG:
            return OrderSide.BUY
        if self is Action.SHORT:
            return OrderSide.SELL
        return None


_SEED_TIF_TYPES: Final = {"IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}


def _action(value: object) -> Action:
    if isinstance(value, Action):
        return value
    if isinstance(value, str):
        try:
            return Action(value.strip().upper())
        except ValueError:
            pass
    choices = ", ".join(a.value for a in Action)
    raise InvalidOrder("action", f"{value!r} is not one of {choices}")


def _non_negative(value: object, field: str) -> Decimal:
    number = decimal_from_user(value, field)
    if number < 0:
        raise InvalidOrder(field, f"must not be negative, got {number}")
    return number


def _size(value: object) -> Decimal:
    return _non_negative(value, "size")


def _max_risk(value: object) -> Decimal:
    return _non_negative(value, "max_risk")


def _expected_profit(value: object) -> Decimal:
    return decimal_from_user(value, "expected_profit")


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidOrder("confidence", f"expected a number in [0, 1], got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise InvalidOrder("confidence", f"must be in [0, 1], got {value!r}")
    return number


def _upper_name(metadata: Mapping[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str):
        raise InvalidOrder(key, f"expected a name, got {value!r}")
    return value.strip().upper()


def _positive_price(metadata: Mapping[str, Any], key: str) -> Decimal | None:
    value = metadata.get(key)
    if value is None:
        return None
    price = decimal_from_user(value, key)
    if price <= 0:
        raise InvalidOrder(key, f"must be positive, got {price}")
    return price


def _resolve_order(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check the order-shaping keys and return them normalized (Decimal prices, enum values)."""
    limit = _positive_price(metadata, "limit_price")
    stop = _positive_price(metadata, "stop_price")
    type_name = _upper_name(metadata, "order_type")
    tif_name = _upper_name(metadata, "time_in_force")

    tif: TimeInForce | None = None
    if tif_name is not None:
        try:
            tif = TimeInForce(tif_name)
        except ValueError:
            choices = ", ".join(t.value for t in TimeInForce)
            raise InvalidOrder("time_in_force", f"{tif_name!r} is not one of {choices}") from None

    if type_name in _SEED_TIF_TYPES:
        seed_tif = _SEED_TIF_TYPES[type_name]
        if tif is not None and tif is not seed_tif:
            raise InvalidOrder("time_in_force", f"{tif.value} contradicts order_type {type_name}")
        tif = seed_tif
        order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET
    elif type_name is not None:
        try:
            order_type = OrderType(type_name)
        except ValueError:
            choices = ", ".join([t.value for t in OrderType] + list(_SEED_TIF_TYPES))
            raise InvalidOrder("order_type", f"{type_name!r} is not one of {choices}") from None
    elif stop is not None:
        order_type = OrderType.STOP_LIMIT if limit is not None else OrderType.STOP
    else:
        order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET

    if order_type.needs_price and limit is None:
        raise InvalidOrder("limit_price", f"a {order_type.value} order needs a limit price")
    if not order_type.needs_price and limit is not None:
        raise InvalidOrder("limit_price", f"a {order_type.value} order takes no limit price")
    if order_type.needs_stop_price and stop is None:
        raise InvalidOrder("stop_price", f"a {order_type.value} order needs a stop price")
    if not order_type.needs_stop_price and stop is not None:
        raise InvalidOrder("stop_price", f"a {order_type.value} order takes no stop price")

    resolved: dict[str, Any] = {"order_type": order_type, "time_in_force": tif or TimeInForce.GTC}
    if limit is not None:
        resolved["limit_price"] = limit
    if stop is not None:
        resolved["stop_price"] = stop
    return resolved


def _read_only(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InvalidOrder("metadata", f"expected a mapping, got {type(value).__name__}")
    return MappingProxyType(dict(value))


@attrs.frozen
class ExecutionDecision:
    """A strategy's instruction for one symbol: ``ExecutionDecision('LONG', 'BTCUSDT', size=0.1)``.

    ``size`` is in units of the instrument (not money).  LONG and SHORT need a positive size;
    CLOSE's size is the quantity to close (0 lets the engine close whatever is held); HOLD's is
    ignored.  ``metadata`` is stored read-only with its order keys normalized.
    """

    action: Action = attrs.field(converter=_action)
    symbol: str
    size: Decimal = attrs.field(converter=_size)
    confidence: float = attrs.field(default=0.0, converter=_confidence)
    expected_profit: Decimal = attrs.field(default=ZERO, converter=_expected_profit)
    max_risk: Decimal = attrs.field(default=ZERO, converter=_max_risk)
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_read_only, eq=True, hash=False)
    order_terms: tuple[OrderType, TimeInForce, Decimal | None, Decimal | None] = attrs.field(
        init=False, eq=False, repr=False
    )
    """The order asked for, as resolved from ``metadata`` when the decision was made: type, time
    in force, limit price and stop price.  The engine builds its request from these instead of
    parsing the normalized metadata a second time (~4k instructions an order, callgrind)."""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidOrder("symbol", "must be a non-empty string")
        if self.action.opens and self.size <= 0:
            raise InvalidOrder("size", f"a {self.action.value} decision needs a positive size")
        order = _resolve_order(self.metadata)
        normalized = dict(self.metadata)
        normalized.update(
            {key: value.value if isinstance(value, enum.Enum) else value for key, value in order.items()}
        )
        object.__setattr__(self, "metadata", MappingProxyType(normalized))
        terms = (
            order["order_type"],
            order["time_in_force"],
            order.get("limit_price"),
            order.get("stop_price"),
        )
        object.__setattr__(self, "order_terms", terms)

    @property
    def order_type(self) -> OrderType:
        return OrderType(self.metadata["order_type"])

    @property
    def time_in_force(self) -> TimeInForce:
        return TimeInForce(self.metadata["time_in_force"])

    @property
    def limit_price(self) -> Decimal | None:
        value: Decimal | None = self.metadata.get("limit_price")
        return value

    @property
    def stop_price(self) -> Decimal | None:
        value: Decimal | None = self.metadata.get("stop_price")
        return value

    @property
    def is_actionable(self) -> bool:
        """Whether the engine has anything to send (everything but HOLD)."""
        return self.action is not Action.HOLD
