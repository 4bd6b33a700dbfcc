"""autotrader-paper: the paper broker (a deterministic in-process venue) for autotrader."""

from autotrader_paper.adapter import PaperTradingAdapter
from autotrader_paper.venue import PaperVenue

__all__ = ["PaperTradingAdapter", "PaperVenue"]
