"""Configuration of the Interactive Brokers broker: where TWS/Gateway listens, client id, instruments.

IB's API has no secret on the wire (TWS itself is logged in), so there is no credential here;
``IbkrConfig.from_env()`` reads ``IBKR_HOST``, ``IBKR_PORT``, ``IBKR_CLIENT_ID`` and
``IBKR_ACCOUNT``.  Instruments are IB contract specs by the symbol the core trades them under;
the adapter resolves each through contract details (min tick, size increment, min size).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
from autotrader.errors import ConfigError

__all__ = ["ContractSpec", "IbkrConfig"]

SEC_TYPES = frozenset({"STK", "CASH", "FUT"})
DEFAULT_EXCHANGE = {"STK": "SMART", "CASH": "IDEALPRO", "FUT": ""}


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigError(f"ibkr.{attribute.name}", f"must be positive, got {value}")


@attrs.frozen
class ContractSpec:
    """An IB contract as the config names it: stocks (SMART), FX (IDEALPRO), futures by local symbol."""

    sec_type: str
    symbol: str = ""
    currency: str = "USD"
    exchange: str = ""
    primary_exchange: str = ""
    local_symbol: str = ""
    last_trade_date: str = ""
    """Futures: ``YYYYMM`` or ``YYYYMMDD`` (optional when ``local_symbol`` names the contract)."""

    def __attrs_post_init__(self) -> None:
        if self.sec_type not in SEC_TYPES:
            raise ConfigError(
                "ibkr.instruments", f"sec_type {self.sec_type!r} is not one of {sorted(SEC_TYPES)}"
            )
        if not (self.symbol or self.local_symbol):
            raise ConfigError("ibkr.instruments", "a contract needs a symbol or a local_symbol")
        if self.sec_type == "FUT" and not self.exchange:
            raise ConfigError("ibkr.instruments", "a future needs its exchange (e.g. CME)")

    @property
    def routing_exchange(self) -> str:
        return self.exchange or DEFAULT_EXCHANGE[self.sec_type]

    @classmethod
    def parse(cls, symbol: str, value: ContractSpec | Mapping[str, Any] | str) -> ContractSpec:
        """From a mapping, or a short string: ``STK``, ``STK:USD``, ``CASH`` (for ``EUR.USD``)."""
        if isinstance(value, ContractSpec):
            return value
        if isinstance(value, str):
            sec_type, _, currency = value.partition(":")
            if sec_type == "CASH":
                base, _, quote = symbol.partition(".")
                return cls("CASH", symbol=base, currency=quote or currency or "USD")
            return cls(sec_type, symbol=symbol, currency=currency or "USD")
        fields = {k: str(v) for k, v in value.items()}
        fields.setdefault("symbol", "" if "local_symbol" in fields else symbol)
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ConfigError(f"ibkr.instruments.{symbol}", str(exc)) from None


def _specs(value: Mapping[str, Any]) -> dict[str, ContractSpec]:
    return {symbol: ContractSpec.parse(symbol, spec) for symbol, spec in dict(value).items()}


@attrs.frozen
class IbkrConfig:
    host: str = "127.0.0.1"
    port: int = 7497
    """TWS paper 7497, TWS live 7496, Gateway paper 4002, Gateway live 4001."""
    client_id: int = 1
    """Unique per connection to one TWS; 0 is the master client that also sees manual orders."""
    account: str = ""
    """The account to trade (empty: the only one TWS manages)."""
    instruments: Mapping[str, ContractSpec] = attrs.field(factory=dict, converter=_specs)
    request_timeout: float = attrs.field(default=10.0, validator=_positive)
    """How long an order request waits for TWS's answer before its outcome is ambiguous."""
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    history_timeout: float = attrs.field(default=60.0, validator=_positive)
    """How long a request for the day's history (completed orders, executions) may take: the
    answer grows with the session.  A lookup that outlasts it fails (the order stays unknown);
    the connection is kept."""
    reconnect_initial: float = attrs.field(default=0.5, validator=_positive)
    reconnect_max: float = attrs.field(default=30.0, validator=_positive)
    pacing_retry_after: float = attrs.field(default=1.0, validator=_positive)
    """The wait reported after error 100 (IB paces at 50 messages a second and says no more)."""
    max_orders_per_second: int = attrs.field(default=40, validator=_positive)
    """Order messages sent per second, below IB's 50 and ib_async's own throttle of 45."""
    commission_wait: float = attrs.field(default=0.5, validator=_positive)
    """How long a fill waits for its COMMISSION_REPORT before executions are asked for again."""
    delayed_quotes: bool = False
    """Accept IB's delayed quotes (15-20 minutes old) for symbols the account has no live
    market-data subscription for (market data type 3).  Off, such a symbol's quotes fail (354)."""

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.client_id < 2**31:
            raise ConfigError(
                "ibkr.client_id", f"must be a non-negative 32-bit integer, got {self.client_id}"
            )
        if not self.instruments:
            raise ConfigError("ibkr.instruments", "name at least one instrument (symbol: contract spec)")

    @classmethod
    def from_env(cls, **overrides: Any) -> IbkrConfig:
        values: dict[str, Any] = {}
        if "IBKR_HOST" in os.environ:
            values["host"] = os.environ["IBKR_HOST"]
        if "IBKR_PORT" in os.environ:
            values["port"] = int(os.environ["IBKR_PORT"])
        if "IBKR_CLIENT_ID" in os.environ:
            values["client_id"] = int(os.environ["IBKR_CLIENT_ID"])
        if "IBKR_ACCOUNT" in os.environ:
            values["account"] = os.environ["IBKR_ACCOUNT"]
        values.update(overrides)
        return cls(**values)
