"""The venue's tradable instruments, in the shape of v20's ``accounts/{id}/instruments``.

Only the fields an order needs are modelled: price precision (``displayPrecision``), unit precision
(``tradeUnitsPrecision``), the minimum trade size, the maximum order size and the margin rate.
The spread is the venue's own knob (real OANDA spreads move with the market).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs


@attrs.frozen
class InstrumentSpec:
    name: str
    type: str
    display_name: str
    display_precision: int
    pip_location: int
    trade_units_precision: int
    minimum_trade_size: Decimal
    maximum_order_units: Decimal
    margin_rate: Decimal
    half_spread: Decimal
    """Half the bid/ask spread around the mid price, in price units."""

    @property
    def base(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def quote(self) -> str:
        return self.name.split("_", 1)[1]

    @property
    def tick(self) -> Decimal:
        return Decimal(1).scaleb(-self.display_precision)

    @property
    def unit_step(self) -> Decimal:
        return Decimal(1).scaleb(-self.trade_units_precision)

    def price_str(self, price: Decimal) -> str:
        return str(price.quantize(self.tick))

    def to_wire(self) -> dict[str, Any]:
        """The v20 ``Instrument`` object."""
        return {
            "name": self.name,
            "type": self.type,
            "displayName": self.display_name,
            "pipLocation": self.pip_location,
            "displayPrecision": self.display_precision,
            "tradeUnitsPrecision": self.trade_units_precision,
            "minimumTradeSize": str(self.minimum_trade_size),
            "maximumTrailingStopDistance": "1.00000",
            "minimumTrailingStopDistance": "0.00050",
            "maximumPositionSize": "0",
            "maximumOrderUnits": str(self.maximum_order_units),
            "marginRate": str(self.margin_rate),
        }


def _fx(name: str, display: str, precision: int, pip: int, half_spread: str) -> InstrumentSpec:
    return InstrumentSpec(
        name=name,
        type="CURRENCY",
        display_name=display,
        display_precision=precision,
        pip_location=pip,
        trade_units_precision=0,
        minimum_trade_size=Decimal(1),
        maximum_order_units=Decimal(100_000_000),
        margin_rate=Decimal("0.02"),
        half_spread=Decimal(half_spread),
    )


DEFAULT_INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    _fx("EUR_USD", "EUR/USD", 5, -4, "0.00001"),
    _fx("GBP_USD", "GBP/USD", 5, -4, "0.00002"),
    _fx("USD_JPY", "USD/JPY", 3, -2, "0.002"),
    InstrumentSpec(
        name="SPX500_USD",
        type="CFD",
        display_name="US SPX 500",
        display_precision=1,
        pip_location=0,
        trade_units_precision=1,
        minimum_trade_size=Decimal("0.1"),
        maximum_order_units=Decimal(5000),
        margin_rate=Decimal("0.05"),
        half_spread=Decimal("0.2"),
    ),
)

DEFAULT_PRICES: dict[str, Decimal] = {
    "EUR_USD": Decimal("1.10000"),
    "GBP_USD": Decimal("1.27000"),
    "USD_JPY": Decimal("150.000"),
    "SPX500_USD": Decimal("5000.0"),
}
