"""Entry point of the paper broker (group ``autotrader``, name ``paper``)."""

from __future__ import annotations

from importlib.metadata import version

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec
from autotrader_paper.adapter import PaperTradingAdapter
from autotrader_paper.harness import harness


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="paper",
        factory=PaperTradingAdapter,
        capabilities=PaperTradingAdapter.capabilities,
        version=version("autotrader-paper"),
        harness=harness,
        description="deterministic in-process paper venue",
    )
