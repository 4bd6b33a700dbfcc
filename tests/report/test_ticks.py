"""Axis ticks: round values, exact Decimal labels, round UTC times."""

from __future__ import annotations

import datetime as dt

from autotrader.report.ticks import number_ticks, time_ticks


def test_money_ticks_are_round_and_labelled_exactly() -> None:
    ticks = number_ticks(99_512.3, 100_040.9)
    labels = [label for _, label in ticks]
    assert labels == ["99,600", "99,700", "99,800", "99,900", "100,000"]
    assert all(99_512.3 <= value <= 100_040.9 for value, _ in ticks)


def test_small_steps_keep_their_decimals_without_float_noise() -> None:
    labels = [label for _, label in number_ticks(1.0712, 1.2518)]
    assert labels == ["1.10", "1.15", "1.20", "1.25"]
    assert [label for _, label in number_ticks(-0.5, 0.0)] == ["-0.5", "-0.4", "-0.3", "-0.2", "-0.1", "0"]


def test_degenerate_ranges() -> None:
    assert number_ticks(5.0, 5.0) == [(5.0, "5")]
    assert number_ticks(float("nan"), 1.0) == []
    assert [v for v, _ in number_ticks(10.0, 0.0)] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_time_ticks_fall_on_round_utc_times() -> None:
    start = dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC).timestamp()
    end = dt.datetime(2017, 4, 20, 15, tzinfo=dt.UTC).timestamp()
    ticks = time_ticks(start, end)
    assert 2 <= len(ticks) <= 7
    for value, label in ticks:
        moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        assert moment.minute == 0 and moment.hour % 6 == 0
        assert label == moment.strftime("%m-%d %H:%M")
    long_ticks = time_ticks(start, start + 300 * 86_400)
    assert all(len(label) == 10 for _, label in long_ticks)  # dates, not times, over months


def test_time_ticks_of_a_single_instant() -> None:
    assert len(time_ticks(0.0, 0.0)) == 1
