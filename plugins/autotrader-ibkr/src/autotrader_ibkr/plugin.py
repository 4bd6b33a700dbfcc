"""The ``ibkr`` entry point: what autotrader learns about this broker (no IB library imported)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec

from autotrader_ibkr import __version__
from autotrader_ibkr.capabilities import CAPABILITIES
from autotrader_ibkr.config import IbkrConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from autotrader.adapter import BrokerAdapter
    from autotrader.testing.harness import ExternalVenue, HarnessSession


def create_adapter(**config: Any) -> BrokerAdapter:
    """Imports the IB client library only when an adapter is actually built."""
    from autotrader_ibkr.adapter import create_adapter as build

    return build(**config)


def harness() -> AbstractAsyncContextManager[HarnessSession]:
    from autotrader_ibkr.harness import harness as local_tws

    return local_tws()


def external_venue() -> AbstractAsyncContextManager[ExternalVenue]:
    from autotrader_ibkr.external import external_venue as local_tws

    return local_tws()


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="ibkr",
        factory=create_adapter,
        capabilities=CAPABILITIES,
        version=__version__,
        config_class=IbkrConfig,
        harness=harness,
        description=(
            "Interactive Brokers through TWS or IB Gateway (ib_async or ib_insync), "
            "with a local TWS for testing"
        ),
        external_venue=external_venue,
    )
