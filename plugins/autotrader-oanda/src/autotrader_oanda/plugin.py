"""The ``oanda`` entry point: what autotrader learns about this broker."""

from __future__ import annotations

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec

from autotrader_oanda import __version__
from autotrader_oanda.adapter import CAPABILITIES, create_adapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.harness import harness


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
    )
