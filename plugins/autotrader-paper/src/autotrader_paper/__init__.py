"""autotrader-paper: the paper broker (a deterministic in-process venue) for autotrader.

The names are imported lazily: plugin discovery imports ``autotrader_paper.plugin``, which
imports this package first, and should not pay for the adapter and its event-loop libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotrader_paper.adapter import PaperTradingAdapter
    from autotrader_paper.config import PaperConfig
    from autotrader_paper.venue import PaperVenue

__all__ = ["PaperConfig", "PaperTradingAdapter", "PaperVenue"]


def __getattr__(name: str) -> Any:
    if name == "PaperTradingAdapter":
        from autotrader_paper.adapter import PaperTradingAdapter

        return PaperTradingAdapter
    if name == "PaperConfig":
        from autotrader_paper.config import PaperConfig

        return PaperConfig
    if name == "PaperVenue":
        from autotrader_paper.venue import PaperVenue

        return PaperVenue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
