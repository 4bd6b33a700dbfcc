"""Placing fills on the bar they happened in, from the per-bar position samples."""

from __future__ import annotations

from decimal import Decimal

from autotrader.model import OrderSide
from autotrader.report.fills import place_fills
from autotrader.runner import RunRecord, RunSummary

from .conftest import fill, hour

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def positions(*quantities: int) -> dict[str, list[tuple[object, Decimal]]]:
    return {"EURUSD": [(hour(i), Decimal(q)) for i, q in enumerate(quantities)]}


def test_fills_land_on_the_bar_where_the_position_moved() -> None:
    fills = [fill(BUY, "5", "1", 1), fill(SELL, "5", "1", 2), fill(SELL, "3", "1", 3)]
    record = RunRecord(positions=positions(0, 5, 5, 0, -3), fills=fills)
    assert [(p.bar_time, p.fill.trade_id) for p in place_fills(record)] == [
        (hour(1), "T1"),
        (hour(3), "T2"),
        (hour(4), "T3"),
    ]


def test_several_fills_in_one_bar_and_a_flatten_after_the_last_bar() -> None:
    fills = [fill(BUY, "2", "1", 1), fill(BUY, "3", "1", 2), fill(SELL, "5", "1", 3)]
    record = RunRecord(positions=positions(0, 5, 5), fills=fills)
    placed = [(p.bar_time, p.fill.trade_id) for p in place_fills(record)]
    assert placed == [(hour(1), "T1"), (hour(1), "T2"), (hour(2), "T3")]  # T3: the wind-down, after bar 2


def test_a_position_from_before_the_run_does_not_pile_fills_on_the_first_bar() -> None:
    record = RunRecord(positions=positions(7, 7, 9), fills=[fill(BUY, "2", "1", 1)])
    assert [p.bar_time for p in place_fills(record)] == [hour(2)]


def test_fills_of_symbols_without_bars_are_left_out() -> None:
    record = RunRecord(positions=positions(0, 1), fills=[fill(BUY, "1", "1", 1, symbol="GBPUSD")])
    assert place_fills(record) == []


def test_every_fill_of_a_real_run_is_placed_near_its_bar_price(full_run: RunSummary) -> None:
    placed = place_fills(full_run.record)
    assert len(placed) == len(full_run.record.fills) > 100
    prices = dict(full_run.record.prices["EURUSD"])
    last_bar = full_run.equity_curve[-1][0]
    after_the_run = sum(1 for p in placed if p.bar_time == last_bar)
    assert after_the_run <= 2  # the closing order of the wind-down (and at most one fill on that bar)
    for item in placed:
        assert abs(item.fill.price - prices[item.bar_time]) / prices[item.bar_time] < Decimal("0.002")
