"""The order state machine: the table itself, and the OMS applying it for every pair of states."""

from __future__ import annotations

import itertools
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.lifecycle import TRANSITIONS, can_transition, stale
from autotrader.model import Order, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.oms import OrderManager

from .scripted import ScriptedAdapter

STATES = list(dict.fromkeys(OrderStatus))  # aliases collapsed
TERMINAL = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(STATES)


def test_filled_and_rejected_are_absorbing() -> None:
    assert TRANSITIONS[OrderStatus.FILLED] == frozenset()
    assert TRANSITIONS[OrderStatus.REJECTED] == frozenset()


def test_closed_orders_can_only_be_completed_by_a_late_fill() -> None:
    assert TRANSITIONS[OrderStatus.CANCELLED] == {OrderStatus.FILLED}
    assert TRANSITIONS[OrderStatus.EXPIRED] == {OrderStatus.FILLED}


def test_every_open_state_can_reach_a_terminal_state() -> None:
    for state in STATES:
        seen, frontier = {state}, [state]
        while frontier:
            for nxt in TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & TERMINAL or state in TERMINAL, state


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (OrderStatus.CANCELLED, OrderStatus.FILLED),  # fill raced the cancel
        (OrderStatus.PENDING_CANCEL, OrderStatus.FILLED),
        (OrderStatus.PENDING_CANCEL, OrderStatus.ACCEPTED),  # cancel failed
        (OrderStatus.UNKNOWN, OrderStatus.FILLED),  # reconciliation found it filled
        (OrderStatus.UNKNOWN, OrderStatus.SUBMITTED),  # reconciliation proved it absent
        (OrderStatus.ACCEPTED, OrderStatus.REJECTED),  # reject after ack (IB 201)
    ],
)
def test_admits_what_real_venues_do(current: OrderStatus, new: OrderStatus) -> None:
    assert can_transition(current, new)


def test_late_ack_after_fill_is_stale_not_illegal() -> None:
    assert stale(OrderStatus.FILLED, OrderStatus.ACCEPTED)
    assert not can_transition(OrderStatus.FILLED, OrderStatus.ACCEPTED)
    assert not stale(OrderStatus.FILLED, OrderStatus.CANCELLED)


def _oms_with_order(status: OrderStatus) -> tuple[OrderManager, str]:
    oms = OrderManager(ScriptedAdapter(), listen=False)
    request = OrderRequest("c1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=Decimal(100))
    oms.restore([attrs.evolve(Order.from_request(request), status=status)])
    return oms, "c1"


@pytest.mark.parametrize(("current", "new"), list(itertools.product(STATES, STATES)))
def test_oms_applies_exactly_the_table(current: OrderStatus, new: OrderStatus) -> None:
    """Exhaustive: every (state, reported state) pair is applied, ignored as stale, or refused."""
    oms, coid = _oms_with_order(current)
    oms.apply_update(OrderUpdate(coid, new, "scripted"))
    after = oms.get_order(coid)
    assert after is not None
    anomalies = oms.get_metrics()["anomalies"]
    if new is current:
        assert after.status is current and anomalies == 0
    elif can_transition(current, new):
        assert after.status is new and anomalies == 0
    elif stale(current, new):
        assert after.status is current and anomalies == 0
    else:
        assert after.status is current and anomalies == 1


events = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.sampled_from(STATES)),
        st.tuples(st.just("fill"), st.integers(1, 4), st.integers(1, 3)),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_random_event_sequences_keep_oms_invariants(sequence: list[tuple[object, ...]]) -> None:
    """filled <= quantity, position = signed sum of applied fills, no illegal transition applied."""
    oms, coid = _oms_with_order(OrderStatus.SUBMITTED)
    from autotrader.model import Fill

    applied = Decimal(0)
    for event in sequence:
        before = oms.get_order(coid)
        assert before is not None
        if event[0] == "update":
            status = event[1]
            assert isinstance(status, OrderStatus)
            oms.apply_update(OrderUpdate(coid, status, "scripted"))
        else:
            trade, qty = event[1], event[2]
            assert isinstance(qty, int)
            fill = Fill(
                "scripted", f"t{trade}", coid, "BTCUSDT", OrderSide.BUY, Decimal(qty) / 4, Decimal(100)
            )
            if oms.apply_fill(fill):
                applied += fill.quantity
        after = oms.get_order(coid)
        assert after is not None
        assert after.filled_quantity <= after.quantity
        assert after.status is before.status or can_transition(before.status, after.status)
    order = oms.get_order(coid)
    assert order is not None
    assert order.filled_quantity == applied
    assert oms.positions.quantity("BTCUSDT") == applied
