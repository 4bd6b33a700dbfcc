"""Entry point of the paper broker (group ``autotrader``, name ``paper``).

Light on purpose: discovery (``autotrader brokers``) imports this module for every plugin, so
the adapter and the harness are imported only when they are used.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from autotrader.hookspecs import hookimpl
from autotrader.plugins import BrokerSpec
from autotrader_paper.capabilities import CAPABILITIES
from autotrader_paper.config import PaperConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from autotrader.testing.harness import ExternalVenue, HarnessSession
    from autotrader_paper.adapter import PaperTradingAdapter


def create_adapter(*args: Any, **settings: Any) -> PaperTradingAdapter:
    """The seed's keyword arguments, or ``config=PaperConfig(...)``."""
    from autotrader_paper.adapter import PaperTradingAdapter

    return PaperTradingAdapter(*args, **settings)


def harness() -> AbstractAsyncContextManager[HarnessSession]:
    from autotrader_paper.harness import harness as local_venue

    return local_venue()


def external_venue() -> AbstractAsyncContextManager[ExternalVenue]:
    from autotrader_paper.external import external_venue as state_file_venue

    return state_file_venue()


@hookimpl
def autotrader_broker() -> BrokerSpec:
    return BrokerSpec(
        name="paper",
        factory=create_adapter,
        capabilities=CAPABILITIES,
        version=version("autotrader-paper"),
        config_class=PaperConfig,
        harness=harness,
        description="deterministic in-process paper venue",
        external_venue=external_venue,
    )
