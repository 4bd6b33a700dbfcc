"""Pre-trade risk checks: the last gate before an order is tracked and sent.

The engine asks every plugin's ``autotrader_pretrade_check`` hook; :class:`BuiltinRiskChecks`
is registered by default and enforces trading state, strategy status, circuit state, open-order
count, balance, order notional, position size and a price band around the last price.  Risk
plugins add their own checks the same way.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import attrs

from autotrader.hookspecs import hookimpl
from autotrader.model import ZERO, Balance, Instrument, OrderRequest, OrderSide, OrderType

__all__ = [
    "BuiltinRiskChecks",
    "RiskContext",
    "RiskLimits",
    "TradingState",
    "pretrade_violations",
    "reduces_exposure",
]


class TradingState(enum.Enum):
    ACTIVE = "ACTIVE"
    """Everything that passes the checks goes."""
    REDUCING = "REDUCING"
    """Only orders that shrink exposure pass."""
    HALTED = "HALTED"
    """Nothing passes (the kill switch's own flattening orders bypass the checks)."""


# Enum members the order path reads, bound once (see autotrader.model._BUY).
_BUY: Final = OrderSide.BUY
_MARKET: Final = OrderType.MARKET
_HALTED: Final = TradingState.HALTED
_REDUCING: Final = TradingState.REDUCING


def _opt_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class RiskLimits:
    """Limits the built-in checks enforce; ``None`` disables a limit."""

    max_open_orders: int = 50
    max_order_notional: Decimal | None = attrs.field(default=None, converter=_opt_decimal)
    max_position: Decimal | None = attrs.field(default=None, converter=_opt_decimal)
    """Largest absolute position per symbol, in units, after the order fills."""
    max_position_notional: Decimal | None = attrs.field(default=None, converter=_opt_decimal)
    price_band_pct: Decimal | None = attrs.field(default=Decimal("0.10"), converter=_opt_decimal)
    """A limit or stop price further than this fraction from the last price is refused."""
    check_balance: bool = True
    account_currency: str | None = None
    """Balance used to pay for buys when there is none in the instrument's quote asset."""


@attrs.frozen(weakref_slot=False)
class RiskContext:
    """Everything a check may look at, as of the moment the order is about to be tracked."""

    trading_state: TradingState
    strategy_status: str
    circuit_state: str
    open_orders: int
    position: Decimal
    """Current signed position in the order's symbol."""
    pending: Decimal
    """Signed remaining quantity of open orders in the order's symbol."""
    last_price: Decimal | None
    instrument: Instrument | None
    balances: Mapping[str, Balance]
    limits: RiskLimits


def reduces_exposure(request: OrderRequest, position: Decimal, pending: Decimal = ZERO) -> bool:
    """True when filling ``request`` (with other open orders) only brings the position toward 0.

    Open orders on the same side as ``request`` count with it (they reduce the position too);
    those on the other side do not.  Written with one Decimal operation per step actually
    needed (each is 500-800 instructions; the check runs for every order): the answer for a
    flat position, or an order on the position's side, is known before any arithmetic.
    """
    if not position:
        return False
    buy = request.side is _BUY
    if (position > ZERO) is buy:
        return False
    quantity = request.quantity
    if pending and (pending > ZERO) is buy:
        quantity += abs(pending)
    return quantity <= abs(position)


_context_fields: Final = operator.attrgetter(*(field.name for field in attrs.fields(RiskContext)))
"""A context's fields as a tuple, in :func:`pretrade_violations`' argument order."""


class BuiltinRiskChecks:
    """The default pre-trade checks (registered as a pluggy plugin on every engine)."""

    @hookimpl
    def autotrader_pretrade_check(self, request: OrderRequest, context: RiskContext) -> list[str]:
        return pretrade_violations(request, *_context_fields(context))


def pretrade_violations(
    request: OrderRequest,
    trading_state: TradingState,
    strategy_status: str,
    circuit_state: str,
    open_orders: int,
    position: Decimal,
    pending: Decimal,
    last_price: Decimal | None,
    instrument: Instrument | None,
    balances: Mapping[str, Balance],
    limits: RiskLimits,
) -> list[str]:
    """What :class:`BuiltinRiskChecks` finds wrong with ``request``, given a
    :class:`RiskContext`'s fields in their order.

    Taking the fields rather than the context lets the engine, when these are the only checks
    registered, run them without building the context and going through the hook (callgrind:
    2.7k instructions an order less).
    """
    if trading_state is _HALTED:
        return ["trading is HALTED"]
    violations: list[str] = []
    reducing = reduces_exposure(request, position, pending)
    if trading_state is _REDUCING and not reducing:
        violations.append("trading is REDUCING: only orders that shrink exposure pass")
    if strategy_status != "ACTIVE" and not reducing:
        violations.append(f"strategy is {strategy_status}: only orders that shrink exposure pass")
    if circuit_state == "OPEN":
        violations.append("the broker's circuit breaker is OPEN")
    if open_orders >= limits.max_open_orders:
        violations.append(f"{open_orders} open orders: the limit is {limits.max_open_orders}")
    price = request.price or request.stop_price or last_price  # what the order trades at
    if price is not None:
        notional = request.quantity * price
        if limits.max_order_notional is not None and notional > limits.max_order_notional:
            violations.append(f"order notional {notional} exceeds {limits.max_order_notional}")
        if limits.max_position is not None or limits.max_position_notional is not None:
            violations += _position_limits(request, position, pending, limits, price)
        if limits.check_balance and request.side is _BUY and not reducing:
            violations += _balance(notional, instrument, balances, limits)
    if limits.price_band_pct is not None and last_price is not None and request.order_type is not _MARKET:
        for name in ("price", "stop_price"):
            value: Decimal | None = getattr(request, name)
            if value is None:
                continue
            deviation = abs(value - last_price) / last_price
            if deviation > limits.price_band_pct:
                violations.append(
                    f"{name} {value} is {deviation:.2%} from the last price {last_price} "
                    f"(band {limits.price_band_pct:.2%})"
                )
    return violations


def _position_limits(
    request: OrderRequest, position: Decimal, pending: Decimal, limits: RiskLimits, price: Decimal
) -> list[str]:
    signed = request.quantity if request.side is _BUY else -request.quantity
    after = abs(position + pending + signed)
    out = []
    if limits.max_position is not None and after > limits.max_position and after > abs(position):
        out.append(f"position would reach {after}, above the limit {limits.max_position}")
    if (
        limits.max_position_notional is not None
        and after * price > limits.max_position_notional
        and after > abs(position)
    ):
        out.append(f"position notional would reach {after * price}, above {limits.max_position_notional}")
    return out


def _balance(
    notional: Decimal, instrument: Instrument | None, balances: Mapping[str, Balance], limits: RiskLimits
) -> list[str]:
    asset = instrument.quote_asset if instrument is not None else None
    balance = balances.get(asset) if asset else None
    if balance is None and limits.account_currency:
        balance = balances.get(limits.account_currency)
    if balance is None:
        return []
    if notional > balance.free:
        return [f"notional {notional} exceeds the free {balance.asset} balance {balance.free}"]
    return []
