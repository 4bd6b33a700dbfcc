"""Config contract specs to IB contracts, and IB contract details to the core's instruments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autotrader.model import Instrument

from autotrader_ibkr.compat import Contract
from autotrader_ibkr.config import ContractSpec
from autotrader_ibkr.mapping import from_wire

__all__ = ["contract_for", "instrument_from_details"]


def contract_for(spec: ContractSpec) -> Contract:
    """The contract to look up (stocks route SMART, FX IDEALPRO, futures on their exchange)."""
    contract = Contract(
        secType=spec.sec_type,
        symbol=spec.symbol,
        exchange=spec.routing_exchange,
        currency=spec.currency,
    )
    if spec.primary_exchange:
        contract.primaryExchange = spec.primary_exchange
    if spec.local_symbol:
        contract.localSymbol = spec.local_symbol
    if spec.last_trade_date:
        contract.lastTradeDateOrContractMonth = spec.last_trade_date
    return contract


def instrument_from_details(symbol: str, spec: ContractSpec, details: Any) -> Instrument:
    """min tick -> tick size, size increment -> lot size, min size -> min quantity."""
    contract = details.contract
    tick = from_wire(details.minTick) or Decimal("0.01")
    increment = from_wire(getattr(details, "sizeIncrement", 0.0)) or Decimal(1)
    minimum = from_wire(getattr(details, "minSize", 0.0)) or increment
    return Instrument(
        symbol=symbol,
        base_asset=contract.symbol,
        quote_asset=contract.currency or spec.currency,
        tick_size=tick,
        lot_size=increment,
        min_quantity=minimum,
        venue_symbol=contract.localSymbol or contract.symbol,
    )
