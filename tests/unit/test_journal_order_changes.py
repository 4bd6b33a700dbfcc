"""An order is journaled whole once, then as ``order_change`` records; recovery folds them back."""

from __future__ import annotations

import itertools
import logging
import tempfile
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.journal import _CHANGING, JournalPlugin, OrderChange, SqliteJournal, load_state
from autotrader.model import ORDER_TERMS, Order, OrderSide, OrderStatus, OrderType, TimeInForce

D = Decimal

amounts = st.decimals(min_value=D("0.00000001"), max_value=D("1e9"), allow_nan=False, places=8)
stamps = st.floats(min_value=0, max_value=4e9, allow_nan=False)
orders = st.builds(
    Order,
    client_order_id=st.text(min_size=1, max_size=20),
    symbol=st.sampled_from(["BTCUSDT", "EUR_USD", "AAPL"]),
    side=st.sampled_from(OrderSide),
    order_type=st.sampled_from(OrderType),
    quantity=amounts,
    price=st.none() | amounts,
    stop_price=st.none() | amounts,
    time_in_force=st.sampled_from(TimeInForce),
    status=st.just(OrderStatus.PENDING),
    created_at=stamps,
    updated_at=stamps,
    reduce_only=st.booleans(),
)
changes = st.fixed_dictionaries(
    {
        "status": st.sampled_from(OrderStatus),
        "filled_quantity": amounts,
        "average_fill_price": st.none() | amounts,
        "venue_order_id": st.none() | st.text(max_size=30),
        "reason": st.none() | st.text(max_size=80),
        "commission": amounts,
        "updated_at": stamps,
    }
)
modifies = st.fixed_dictionaries(
    {}, optional={"quantity": amounts, "price": st.none() | amounts, "stop_price": st.none() | amounts}
).filter(bool)


def journal_life(path: Path, steps: list[Order]) -> SqliteJournal:
    """Announce each state of one order to a journal plugin, as the OMS's hook does."""
    journal = SqliteJournal(path)
    plugin = JournalPlugin(journal)
    previous: Order | None = None
    for order in steps:
        plugin.autotrader_order_updated(order, previous)
        previous = order
    return journal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders, st.lists(st.one_of(changes, modifies), max_size=8))
def test_recovery_reads_back_every_state_the_order_went_through(
    order: Order, steps: list[dict[str, object]]
) -> None:
    lives = [order]
    for step in steps:
        lives.append(attrs.evolve(lives[-1], **step))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as scratch:
        journal = journal_life(Path(scratch) / "j.sqlite", lives)
        try:
            assert load_state(journal).orders == {order.client_order_id: lives[-1]}
            kinds = [record.kind for record in journal.records()]
        finally:
            journal.close()
    assert kinds[0] == "order"
    changed_terms = [
        any(getattr(after, name) is not getattr(before, name) for name in ORDER_TERMS)
        for before, after in itertools.pairwise(lives)
    ]
    assert kinds.count("order") == 1 + sum(changed_terms)


def test_a_change_is_half_the_record_and_a_modify_writes_the_order_whole(tmp_path: Path) -> None:
    pending = Order("c1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("2"), price=D("100"))
    accepted = attrs.evolve(pending, status=OrderStatus.ACCEPTED, venue_order_id="v1")
    modified = attrs.evolve(accepted, price=D("101"))
    journal = journal_life(tmp_path / "j.sqlite", [pending, accepted, modified])
    records = list(journal.records())
    assert [record.kind for record in records] == ["order", "order_change", "order"]
    assert set(records[1].payload) == set(_CHANGING)
    assert records[1].payload["status"] == "ACCEPTED" and records[1].payload["venue_order_id"] == "v1"
    assert records[2].payload["price"] == "101"
    journal.close()


def test_every_order_field_is_either_a_change_a_term_or_fixed_at_creation() -> None:
    """A new field of Order must be placed: left out of both, a change of it would be lost."""
    fixed = {"client_order_id", "symbol", "side", "order_type", "time_in_force", "created_at", "reduce_only"}
    assert set(attrs.fields_dict(Order)) == set(_CHANGING) | set(ORDER_TERMS) | fixed
    assert set(attrs.fields_dict(OrderChange)) == set(_CHANGING)
    assert not set(_CHANGING) & set(ORDER_TERMS)


def test_a_change_of_an_order_the_journal_never_had_is_skipped_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    pending = Order("c1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("1"))
    submitted = attrs.evolve(pending, status=OrderStatus.SUBMITTED)
    JournalPlugin(journal).autotrader_order_updated(submitted, pending)
    with caplog.at_level(logging.WARNING, logger="autotrader.journal"):
        assert load_state(journal).orders == {}
    assert "c1" in caplog.text
    journal.close()
