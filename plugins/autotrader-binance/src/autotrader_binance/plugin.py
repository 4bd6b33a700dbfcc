"""The ``binance`` entry point: what autotrader learns about this broker."""

from __future__ import annotations

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec

from autotrader_binance import __version__
from autotrader_binance.adapter import CAPABILITIES, BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.external import external_venue
from autotrader_binance.harness import harness


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="binance",
        factory=BinanceAdapter,
        capabilities=CAPABILITIES,
        version=__version__,
        config_class=BinanceConfig,
        harness=harness,
        description="Binance spot (python-binance), with a local Binance venue for testing",
        external_venue=external_venue,
    )
