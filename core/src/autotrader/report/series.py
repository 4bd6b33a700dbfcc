"""The report's series derived from a run: chart x positions, starting equity and drawdown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from autotrader.model import ZERO
from autotrader.runner import RunSummary

__all__ = ["XAxis", "drawdown_pct", "initial_equity", "x_axis"]

_HUNDRED = Decimal(100)


class XAxis:
    """Turns a run's bar timestamps into chart x values: epoch seconds for datetimes, else numbers.

    Bars are timestamped with aware datetimes by every bundled source, but a custom source may use
    numbers or anything else; those fall back to the bar's index so the charts still draw.
    """

    def __init__(self, timestamps: Sequence[Any]) -> None:
        self.time = bool(timestamps) and all(isinstance(t, dt.datetime) for t in timestamps)
        self.numeric = not self.time and all(
            isinstance(t, (int, float, Decimal)) and not isinstance(t, bool) for t in timestamps
        )
        self._index = {id(t): i for i, t in enumerate(timestamps)} if not (self.time or self.numeric) else {}

    def __call__(self, timestamp: Any) -> float:
        if self.time:
            moment: dt.datetime = timestamp
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return moment.timestamp()
        if self.numeric:
            return float(timestamp)
        return float(self._index.get(id(timestamp), 0))

    @property
    def label(self) -> str:
        return "time (UTC)" if self.time else "bar"


def x_axis(summary: RunSummary) -> XAxis:
    """One x mapping for every chart of a run, built from the equity curve's (every bar's) times."""
    return XAxis([timestamp for timestamp, _ in summary.equity_curve])


def initial_equity(summary: RunSummary) -> Decimal:
    """The equity before the first bar: the runner defines equity as initial plus net P&L."""
    return summary.final_equity - summary.net_pnl


def drawdown_pct(curve: Sequence[tuple[Any, Decimal]], start: Decimal) -> list[tuple[Any, Decimal]]:
    """Percent below the running peak (zero or negative), the peak starting at ``start``."""
    peak = start
    points: list[tuple[Any, Decimal]] = []
    for timestamp, equity in curve:
        peak = max(peak, equity)
        points.append((timestamp, (equity - peak) / peak * _HUNDRED if peak > ZERO else ZERO))
    return points
