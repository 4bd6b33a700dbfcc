"""The ``oanda`` entry point: what autotrader learns about this broker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec

from autotrader_oanda import __version__
from autotrader_oanda.capabilities import CAPABILITIES
from autotrader_oanda.config import OandaConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from autotrader.adapter import BrokerAdapter
    from autotrader.testing.harness import ExternalVenue, HarnessSession


def create_adapter(**config: Any) -> BrokerAdapter:
    """Imports oandapyV20 only when an adapter is actually built (discovery stays fast)."""
    from autotrader_oanda.adapter import create_adapter as build

    return build(**config)


def harness() -> AbstractAsyncContextManager[HarnessSession]:
    from autotrader_oanda.harness import harness as local_venue

    return local_venue()


def external_venue() -> AbstractAsyncContextManager[ExternalVenue]:
    from autotrader_oanda.external import external_venue as local_venue

    return local_venue()


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="oanda",
        factory=create_adapter,
        capabilities=CAPABILITIES,
        version=__version__,
        config_class=OandaConfig,
        harness=harness,
        description="OANDA v20 FX and CFDs (oandapyV20), with a local v20 venue for testing",
        external_venue=external_venue,
    )
