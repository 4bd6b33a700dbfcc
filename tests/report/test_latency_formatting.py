"""Latency histogram bins and statistics; status values as table text."""

from __future__ import annotations

from decimal import Decimal

from autotrader.report.formatting import format_metric, money
from autotrader.report.latency import latency_histogram


def test_histogram_counts_every_sample_and_picks_a_readable_unit() -> None:
    samples = [0.00005 + i * 0.000001 for i in range(400)] + [0.5]  # one slow outlier
    result = latency_histogram(samples)
    assert sum(bar.count for bar in result.bars) == len(samples)
    assert result.unit == "ms"  # the slowest is 500 ms
    stats = dict(result.stats)
    assert stats["fills timed"] == "401" and stats["max"] == "500 ms"
    assert "or slower" in result.bars[-1].label  # the tail beyond p99 is folded into the last bin
    assert result.bars[-1].high < 500


def test_histogram_of_microsecond_latencies() -> None:
    result = latency_histogram([0.00001, 0.00002, 0.00002, 0.00004])
    assert result.unit == "µs" and sum(b.count for b in result.bars) == 4
    assert result.bars[0].low == 10


def test_histogram_of_nothing_and_of_identical_samples() -> None:
    assert latency_histogram([]).bars == []
    assert latency_histogram([float("nan"), -1.0]).bars == []
    same = latency_histogram([0.002] * 5)
    assert sum(b.count for b in same.bars) == 5 and same.bars[0].high > same.bars[0].low


def test_metric_text() -> None:
    assert money(Decimal("1955681.08001")) == "1,955,681.08"
    assert format_metric("total_commission", Decimal("195.568108001")) == "195.57"
    assert format_metric("quantity", Decimal("4670.000")) == "4,670"
    assert format_metric("fill_rate", 0.985) == "98.5%"
    assert format_metric("avg_fill_latency_seconds", 5.69e-05) == "0.057 ms"
    assert format_metric("total_orders", 392) == "392"
    assert format_metric("last_failure", None) == "-"
    assert format_metric("connected", True) == "yes"
    assert format_metric("circuit_state", "CLOSED") == "CLOSED"
    assert format_metric("errors", ["a", "b"]) == "a, b"
