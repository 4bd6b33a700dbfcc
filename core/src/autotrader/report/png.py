"""The equity curve as a PNG, for people who live in terminals (and for pasting into a ticket).

Drawn with matplotlib's object-oriented API on the Agg canvas: no display, no GUI toolkit, no
global pyplot state, so it works headless and from any thread.  matplotlib is imported only here,
when a report is written: importing it costs a noticeable fraction of a second, which ``import
autotrader`` and every other command should not pay.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from autotrader.report.formatting import money

__all__ = ["write_equity_png"]


def write_equity_png(
    curve: list[tuple[Any, Decimal]], path: Path, *, title: str, final_equity: Decimal | None = None
) -> Path:
    """Draw ``curve`` (bar time, equity) into ``path``; an empty curve gives a labelled empty chart.

    ``final_equity`` (the run's, after any closing orders) goes in the title; it defaults to the last point.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    figure = Figure(figsize=(10, 4), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if curve:
        times = [t for t, _ in curve]
        x: list[Any] = times if all(isinstance(t, dt.datetime) for t in times) else list(range(len(curve)))
        axes.plot(x, [float(equity) for _, equity in curve], color="#4575b4", linewidth=1.3)
        final = curve[-1][1] if final_equity is None else final_equity
        axes.set_title(f"{title} - final equity {money(final)}")
    else:
        axes.set_title(title)
        axes.text(0.5, 0.5, "no bars replayed", ha="center", va="center", transform=axes.transAxes)
    axes.set_ylabel("equity")
    axes.grid(True, color="#e3e7ec")
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    figure.savefig(path, format="png")
    return path
