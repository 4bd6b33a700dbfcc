"""The account's books: balance, open trades (netting, FIFO), realized P&L, margin.

Kept deliberately simple but self-consistent: every figure the REST API reports (summary,
positions, trades) and every figure the ledger reports comes from here, so they always agree.
Financing is zero; P&L and margin are converted to the home currency at the current mid.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from autotrader_oanda.venue.instruments import InstrumentSpec
from autotrader_oanda.venue.wire import ZERO, money, money_str, timestamp, units_str

Quote = Callable[[str], tuple[Decimal, Decimal]]
"""instrument -> (bid, ask)."""


@attrs.define
class Trade:
    id: str
    instrument: str
    price: Decimal
    initial_units: Decimal
    current_units: Decimal
    open_time: str
    realized_pl: Decimal = ZERO
    client_extensions: dict[str, str] | None = None


@attrs.define
class FillResult:
    """What a fill did to the books, in the shape of the ORDER_FILL transaction's fields."""

    trade_opened: dict[str, Any] | None
    trades_closed: list[dict[str, Any]]
    trade_reduced: dict[str, Any] | None
    pl: Decimal


@attrs.define
class Account:
    id: str
    currency: str
    balance: Decimal
    instruments: dict[str, InstrumentSpec]
    quote: Quote
    alias: str = "autotrader local v20"
    created_time: str = attrs.field(factory=timestamp)
    trades: list[Trade] = attrs.field(factory=list)
    pl: Decimal = ZERO
    commission: Decimal = ZERO
    side_pl: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)

    # ------------------------------------------------------------------ conversion and valuation
    def mid(self, instrument: str) -> Decimal:
        bid, ask = self.quote(instrument)
        return (bid + ask) / 2

    def quote_to_home(self, instrument: str) -> Decimal:
        """Factor converting an amount in the instrument's quote currency to the home currency."""
        spec = self.instruments[instrument]
        if spec.quote == self.currency:
            return Decimal(1)
        if spec.base == self.currency:
            return 1 / self.mid(instrument)
        direct = f"{spec.quote}_{self.currency}"
        if direct in self.instruments:
            return self.mid(direct)
        inverse = f"{self.currency}_{spec.quote}"
        if inverse in self.instruments:
            return 1 / self.mid(inverse)
        raise LookupError(f"no conversion from {spec.quote} to {self.currency}")

    def trade_upl(self, trade: Trade) -> Decimal:
        bid, ask = self.quote(trade.instrument)
        close = bid if trade.current_units > 0 else ask
        return (close - trade.price) * trade.current_units * self.quote_to_home(trade.instrument)

    def trade_margin(self, trade: Trade) -> Decimal:
        spec = self.instruments[trade.instrument]
        value = abs(trade.current_units) * self.mid(trade.instrument) * self.quote_to_home(trade.instrument)
        return value * spec.margin_rate

    def trade_value(self, trade: Trade) -> Decimal:
        return abs(trade.current_units) * self.mid(trade.instrument) * self.quote_to_home(trade.instrument)

    def unrealized_pl(self) -> Decimal:
        return money(sum((self.trade_upl(t) for t in self.trades), start=ZERO))

    def margin_used(self) -> Decimal:
        return money(sum((self.trade_margin(t) for t in self.trades), start=ZERO))

    def nav(self) -> Decimal:
        return self.balance + self.unrealized_pl()

    def margin_available(self) -> Decimal:
        return self.nav() - self.margin_used()

    def net_units(self, instrument: str) -> Decimal:
        return sum((t.current_units for t in self.trades if t.instrument == instrument), start=ZERO)

    # ------------------------------------------------------------------ fills
    def margin_after(self, instrument: str, units: Decimal) -> Decimal:
        """Margin used if ``units`` (signed) were filled now: the check an opening fill must pass."""
        spec = self.instruments[instrument]
        net = self.net_units(instrument) + units
        others = sum((self.trade_margin(t) for t in self.trades if t.instrument != instrument), start=ZERO)
        this = abs(net) * self.mid(instrument) * self.quote_to_home(instrument) * spec.margin_rate
        return money(others + this)

    def apply_fill(
        self, trade_id: str, instrument: str, units: Decimal, price: Decimal, half_spread_cost: Decimal
    ) -> FillResult:
        """Net ``units`` (signed) against opposite trades first-in first-out, open the rest."""
        spec = self.instruments[instrument]
        conversion = self.quote_to_home(instrument)
        remaining = units
        closed: list[dict[str, Any]] = []
        reduced: dict[str, Any] | None = None
        total_pl = ZERO
        for trade in [t for t in self.trades if t.instrument == instrument]:
            if remaining == 0 or (trade.current_units > 0) == (remaining > 0):
                continue
            take = min(abs(trade.current_units), abs(remaining))
            signed_take = take if trade.current_units > 0 else -take
            pl = money((price - trade.price) * signed_take * conversion)
            trade.current_units -= signed_take
            trade.realized_pl += pl
            total_pl += pl
            side = "long" if signed_take > 0 else "short"
            self.side_pl[(instrument, side)] = self.side_pl.get((instrument, side), ZERO) + pl
            remaining += signed_take
            entry = {
                "tradeID": trade.id,
                "units": units_str(-signed_take, spec.unit_step),
                "price": spec.price_str(price),
                "realizedPL": money_str(pl),
                "financing": "0.0000",
                "guaranteedExecutionFee": "0.0000",
                "halfSpreadCost": money_str(half_spread_cost * take / abs(units)),
            }
            if trade.current_units == 0:
                closed.append(entry)
                self.trades.remove(trade)
            else:
                reduced = entry
        opened: dict[str, Any] | None = None
        if remaining != 0:
            spec_margin = abs(remaining) * self.mid(instrument) * conversion * spec.margin_rate
            self.trades.append(Trade(trade_id, instrument, price, remaining, remaining, timestamp()))
            opened = {
                "tradeID": trade_id,
                "units": units_str(remaining, spec.unit_step),
                "price": spec.price_str(price),
                "guaranteedExecutionFee": "0.0000",
                "halfSpreadCost": money_str(half_spread_cost * abs(remaining) / abs(units)),
                "initialMarginRequired": money_str(spec_margin),
            }
        self.pl += total_pl
        self.balance += total_pl
        return FillResult(opened, closed, reduced, total_pl)

    def charge_commission(self, amount: Decimal) -> None:
        self.commission += amount
        self.balance -= amount

    # ------------------------------------------------------------------ wire views
    def trade_to_wire(self, trade: Trade) -> dict[str, Any]:
        spec = self.instruments[trade.instrument]
        wire: dict[str, Any] = {
            "id": trade.id,
            "instrument": trade.instrument,
            "price": spec.price_str(trade.price),
            "openTime": trade.open_time,
            "state": "OPEN",
            "initialUnits": units_str(trade.initial_units, spec.unit_step),
            "initialMarginRequired": money_str(self.trade_margin(trade)),
            "currentUnits": units_str(trade.current_units, spec.unit_step),
            "realizedPL": money_str(trade.realized_pl),
            "unrealizedPL": money_str(self.trade_upl(trade)),
            "marginUsed": money_str(self.trade_margin(trade)),
            "financing": "0.0000",
            "dividendAdjustment": "0.0000",
        }
        if trade.client_extensions:
            wire["clientExtensions"] = trade.client_extensions
        return wire

    def position_to_wire(self, instrument: str) -> dict[str, Any]:
        """The v20 ``Position``: a long and a short side (one is empty on a netting account)."""
        spec = self.instruments[instrument]
        sides: dict[str, dict[str, Any]] = {}
        total_upl = ZERO
        total_margin = ZERO
        for side, sign in (("long", 1), ("short", -1)):
            trades = [
                t for t in self.trades if t.instrument == instrument and (t.current_units > 0) == (sign > 0)
            ]
            units = sum((t.current_units for t in trades), start=ZERO)
            upl = money(sum((self.trade_upl(t) for t in trades), start=ZERO))
            pl = self.side_pl.get((instrument, side), ZERO)
            entry: dict[str, Any] = {
                "units": units_str(units, spec.unit_step),
                "pl": money_str(pl),
                "resettablePL": money_str(pl),
                "unrealizedPL": money_str(upl),
                "financing": "0.0000",
                "dividendAdjustment": "0.0000",
                "guaranteedExecutionFees": "0.0000",
            }
            if trades:
                average = sum((t.price * t.current_units for t in trades), start=ZERO) / units
                entry["averagePrice"] = str(average.quantize(spec.tick / 10))
                entry["tradeIDs"] = [t.id for t in trades]
            sides[side] = entry
            total_upl += upl
            total_margin += sum((self.trade_margin(t) for t in trades), start=ZERO)
        total_pl = sum((self.side_pl.get((instrument, s), ZERO) for s in ("long", "short")), start=ZERO)
        return {
            "instrument": instrument,
            "long": sides["long"],
            "short": sides["short"],
            "pl": money_str(total_pl),
            "resettablePL": money_str(total_pl),
            "unrealizedPL": money_str(total_upl),
            "marginUsed": money_str(total_margin),
            "financing": "0.0000",
            "commission": "0.0000",
            "dividendAdjustment": "0.0000",
            "guaranteedExecutionFees": "0.0000",
        }

    def traded_instruments(self) -> list[str]:
        seen = {i for i, _ in self.side_pl} | {t.instrument for t in self.trades}
        return sorted(seen)

    def open_instruments(self) -> list[str]:
        return sorted({t.instrument for t in self.trades})

    def summary(self, last_transaction_id: int, pending_orders: int) -> dict[str, Any]:
        """The v20 ``AccountSummary``."""
        upl = self.unrealized_pl()
        nav = self.balance + upl
        used = self.margin_used()
        value = money(sum((self.trade_value(t) for t in self.trades), start=ZERO))
        percent = (used / nav / 2).quantize(Decimal("0.00001")) if nav > 0 else Decimal(0)
        return {
            "id": self.id,
            "alias": self.alias,
            "currency": self.currency,
            "balance": money_str(self.balance),
            "createdByUserID": 1,
            "createdTime": self.created_time,
            "guaranteedStopLossOrderMode": "DISABLED",
            "pl": money_str(self.pl),
            "resettablePL": money_str(self.pl),
            "resettablePLTime": "0",
            "financing": "0.0000",
            "commission": money_str(self.commission),
            "dividendAdjustment": "0.0000",
            "guaranteedExecutionFees": "0.0000",
            "marginRate": "0.02",
            "openTradeCount": len(self.trades),
            "openPositionCount": len(self.open_instruments()),
            "pendingOrderCount": pending_orders,
            "hedgingEnabled": False,
            "unrealizedPL": money_str(upl),
            "NAV": money_str(nav),
            "marginUsed": money_str(used),
            "marginAvailable": money_str(nav - used),
            "positionValue": money_str(value),
            "marginCloseoutUnrealizedPL": money_str(upl),
            "marginCloseoutNAV": money_str(nav),
            "marginCloseoutMarginUsed": money_str(used),
            "marginCloseoutPercent": str(percent),
            "marginCloseoutPositionValue": money_str(value),
            "withdrawalLimit": money_str(max(nav - used, ZERO)),
            "marginCallMarginUsed": money_str(used),
            "marginCallPercent": str(percent * 2),
            "lastTransactionID": str(last_transaction_id),
        }
