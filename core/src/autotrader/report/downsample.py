"""Thinning a long series for drawing without losing its shape: min and max per pixel column.

A 5000-bar equity curve on a 1000-pixel-wide chart puts five points in every pixel column; the
eye sees only the column's extent.  Keeping each column's first, lowest, highest and last point
(in their original order) draws exactly the same picture - spikes and all - with a fraction of
the points, which keeps the HTML report small however long the run was.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Point", "downsample"]

Point = tuple[float, float]


def downsample(points: Sequence[Point], x_low: float, x_high: float, columns: int) -> list[Point]:
    """At most four points per pixel column of a ``columns``-wide plot spanning ``x_low..x_high``.

    Runs of consecutive points falling in the same column are reduced to their first, minimum,
    maximum and last point, in the order they occurred, so extremes are never dropped.
    """
    if len(points) <= 4 * columns or columns <= 0:
        return list(points)
    span = x_high - x_low
    scale = (columns - 1) / span if span > 0 else 0.0
    kept: list[Point] = []
    run: list[Point] = []
    run_column: int | None = None
    for point in points:
        column = int((point[0] - x_low) * scale)
        if column != run_column and run:
            kept.extend(_reduce(run))
            run = []
        run_column = column
        run.append(point)
    kept.extend(_reduce(run))
    return kept


def _reduce(run: list[Point]) -> list[Point]:
    if len(run) <= 4:
        return run
    lowest = min(range(len(run)), key=lambda i: run[i][1])
    highest = max(range(len(run)), key=lambda i: run[i][1])
    keep = sorted({0, lowest, highest, len(run) - 1})
    return [run[i] for i in keep]
