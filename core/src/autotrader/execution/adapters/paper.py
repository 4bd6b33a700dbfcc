"""The seed API's paper adapter path; the adapter ships in the ``autotrader-paper`` plugin."""

try:
    from autotrader_paper import PaperTradingAdapter
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "PaperTradingAdapter lives in the autotrader-paper plugin: pip install autotrader-paper"
    ) from exc

__all__ = ["PaperTradingAdapter"]
