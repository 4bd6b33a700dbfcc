"""The ``binance`` entry point: what autotrader learns about this broker.

python-binance (and aiohttp, websockets) are imported only when an adapter or the local venue is
actually built, so ``autotrader brokers`` stays fast.
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
    from autotrader.testing.harness import ExternalVenue, HarnessSession


def create_adapter(config: BinanceConfig | None = None, **settings: Any) -> BrokerAdapter:
    """``broker_config`` keys are :class:`BinanceConfig` fields; credentials come from the environment."""
    from autotrader_binance.adapter import BinanceAdapter

    return BinanceAdapter(config, **settings)


def harness() -> AbstractAsyncContextManager[HarnessSession]:
    from autotrader_binance.harness import harness as local_venue

    return local_venue()


def external_venue() -> AbstractAsyncContextManager[ExternalVenue]:
    from autotrader_binance.external import external_venue as local_venue

    return local_venue()


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
        external_venue=external_venue,
    )
