"""Thinning long series per pixel column keeps every extreme, in order, and bounds the point count."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from autotrader.report.downsample import downsample


def test_short_series_are_untouched() -> None:
    points = [(float(i), float(i % 3)) for i in range(40)]
    assert downsample(points, 0, 39, columns=10) == points
    assert downsample([], 0, 1, columns=10) == []


def test_a_single_spike_survives_heavy_thinning() -> None:
    points = [(float(i), math.sin(i / 50)) for i in range(20_000)]
    points[12_345] = (12_345.0, 50.0)
    points[777] = (777.0, -50.0)
    thinned = downsample(points, 0, 19_999, columns=500)
    assert len(thinned) <= 4 * 500
    assert (12_345.0, 50.0) in thinned and (777.0, -50.0) in thinned
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
    assert [x for x, _ in thinned] == sorted(x for x, _ in thinned)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=3000),
    st.integers(min_value=1, max_value=200),
)
def test_extremes_of_every_column_are_kept(values: list[float], columns: int) -> None:
    points = [(float(i), y) for i, y in enumerate(values)]
    thinned = downsample(points, 0, max(len(points) - 1, 1), columns)
    assert set(thinned) <= set(points)
    assert max(values) in [y for _, y in thinned] and min(values) in [y for _, y in thinned]
    if len(points) > 4 * columns:
        assert len(thinned) <= 4 * columns
