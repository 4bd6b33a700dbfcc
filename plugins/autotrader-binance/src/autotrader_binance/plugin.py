"""The ``binance`` entry point: what autotrader learns about this broker.

Discovery (``autotrader brokers``) imports this module for every installed plugin, so it
imports neither python-binance nor the local venue: the factory and the harness import
them when they are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec

from autotrader_binance import __version__
from autotrader_binance.capabilities import CAPABILITIES
from autotrader_binance.config import BinanceConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from autotrader.adapter import BrokerAdapter
    from autotrader.testing.harness import HarnessSession


def create_adapter(*args: Any, **config: Any) -> BrokerAdapter:
    """``BinanceAdapter(...)``, with python-binance imported only now."""
    from autotrader_binance.adapter import BinanceAdapter

    return BinanceAdapter(*args, **config)


def harness(**options: Any) -> AbstractAsyncContextManager[HarnessSession]:
    from autotrader_binance.harness import harness as local_venue

    return local_venue(**options)


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="binance",
        factory=create_adapter,
        capabilities=CAPABILITIES,
        version=__version__,
        config_class=BinanceConfig,
        harness=harness,
        description="Binance spot (python-binance), with a local Binance venue for testing",
    )
