"""The report's charts, each built from a :class:`~autotrader.runner.RunSummary` as an SVG string."""

from __future__ import annotations

from autotrader.model import OrderSide
from autotrader.report.fills import place_fills
from autotrader.report.latency import LatencyHistogram
from autotrader.report.series import XAxis, drawdown_pct, initial_equity
from autotrader.report.svg import Frame, Marker, Series, histogram, line_chart
from autotrader.runner import RunSummary

__all__ = ["drawdown_chart", "equity_chart", "latency_chart", "positions_chart", "price_charts"]

PALETTE = ("#4575b4", "#f46d43", "#66bd63", "#9e5fb4", "#e0a800", "#3fa7b5", "#8c564b", "#e377c2")


def equity_chart(summary: RunSummary, axis: XAxis) -> str:
    points = [(axis(t), float(equity)) for t, equity in summary.equity_curve]
    return line_chart(
        "equity",
        "Equity curve",
        [Series("equity", points, PALETTE[0])],
        time_axis=axis.time,
        x_label=axis.label,
        y_label="equity",
    )


def drawdown_chart(summary: RunSummary, axis: XAxis) -> str:
    drawdown = drawdown_pct(summary.equity_curve, initial_equity(summary))
    points = [(axis(t), float(pct)) for t, pct in drawdown]
    return line_chart(
        "drawdown",
        "Drawdown (% below the running peak)",
        [Series("drawdown", points, "#b2182b", area=True)],
        time_axis=axis.time,
        x_label=axis.label,
        y_label="% below peak",
        frame=Frame(height=240),
    )


def positions_chart(summary: RunSummary, axis: XAxis) -> str:
    series = [
        Series(symbol, [(axis(t), float(qty)) for t, qty in samples], PALETTE[i % len(PALETTE)], step=True)
        for i, (symbol, samples) in enumerate(sorted(summary.record.positions.items()))
    ]
    return line_chart(
        "positions",
        "Positions over time",
        series,
        time_axis=axis.time,
        x_label=axis.label,
        y_label="quantity",
        frame=Frame(height=240),
    )


def price_charts(summary: RunSummary, axis: XAxis) -> list[str]:
    """One chart per symbol: its price, with every fill marked where (bar) and at what price it filled."""
    markers: dict[str, list[Marker]] = {}
    for placed in place_fills(summary.record):
        fill = placed.fill
        kind = "buy" if fill.side is OrderSide.BUY else "sell"
        label = f"{fill.side.value} {fill.quantity} {fill.symbol} @ {fill.price} ({placed.bar_time})"
        markers.setdefault(fill.symbol, []).append(
            Marker(axis(placed.bar_time), float(fill.price), kind, label)
        )
    charts = []
    for i, (symbol, samples) in enumerate(sorted(summary.record.prices.items())):
        fills = markers.get(symbol, [])
        charts.append(
            line_chart(
                f"price-{symbol}",
                f"{symbol} price with fills ({sum(m.kind == 'buy' for m in fills)} buys, "
                f"{sum(m.kind == 'sell' for m in fills)} sells)",
                [
                    Series(
                        symbol, [(axis(t), float(price)) for t, price in samples], PALETTE[i % len(PALETTE)]
                    )
                ],
                time_axis=axis.time,
                x_label=axis.label,
                y_label="price",
                markers=fills,
                frame=Frame(height=340),
            )
        )
    return charts


def latency_chart(latency: LatencyHistogram) -> str:
    return histogram(
        "latency",
        "Fill latency (order sent to order filled)",
        latency.bars,
        x_label=f"latency ({latency.unit})",
        y_label="fills",
        frame=Frame(height=260),
    )
