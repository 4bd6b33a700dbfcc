"""Crash recovery: rebuild the OMS from the journal, then reconcile it with the venue.

Reconciliation asks the venue about every order the journal left open, by client order id:

* the venue has it: its status and every fill we missed are applied;
* the venue has twice confirmed it never received it (a crash between the journal write and the
  send, or a send that was lost): the strategy decided it, so it is sent now, once;
* the venue has an open order the journal lacks (a crash between the send and the journal write
  of a later event, or an order placed by hand): it is adopted, never ignored, with its fills.

Every difference found on the orders is applied as the events it stands for (order updates and
the missing fills, which move the positions), in the journal like any other.  What still differs
afterwards between our positions and the venue's is reported (:attr:`RecoveryReport.
position_differences`) and announced as a ``position_difference`` anomaly (journal, metrics),
but not forced onto the position book: the book is what the engine's own fills add up to, and a
venue position can hold what the engine never traded (a spot balance held before, a trade by
hand), which the engine must not take as its own to close.  Balances have no book of ours to
differ from: the engine takes the venue's, read again once reconciliation has run
(:attr:`RecoveryReport.balances`).
"""

from __future__ import annotations

import logging
from decimal import Decimal

import attrs

from autotrader.errors import AmbiguousOutcome, AutotraderError
from autotrader.journal import Journal, load_state
from autotrader.model import Balance, OrderStatus
from autotrader.oms import OrderManager
from autotrader.resiliency import ResiliencyManager

__all__ = ["RecoveryReport", "reconcile_with_venue", "restore_from_journal"]

log = logging.getLogger(__name__)

_UNSENT = (OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)


@attrs.frozen
class RecoveryReport:
    restored_orders: int = 0
    restored_fills: int = 0
    updated: tuple[str, ...] = ()
    resent: tuple[str, ...] = ()
    closed_absent: tuple[str, ...] = ()
    adopted: tuple[str, ...] = ()
    still_unknown: tuple[str, ...] = ()
    new_fills: int = 0
    position_differences: dict[str, tuple[Decimal, Decimal]] = attrs.field(factory=dict)
    """Symbol: (our position, the venue's), where they still differ after reconciliation."""
    balances: dict[str, Balance] = attrs.field(factory=dict)
    """The venue's balances after reconciliation (``engine.balances`` takes them)."""

    @property
    def clean(self) -> bool:
        return not (self.still_unknown or self.position_differences)


def restore_from_journal(
    journal: Journal, oms: OrderManager, resiliency: ResiliencyManager
) -> RecoveryReport:
    state = load_state(journal)
    oms.restore(state.orders.values(), state.fills, state.fills_behind)
    for letter in state.dead_letters:
        resiliency.dead_letters.put(letter)
    return RecoveryReport(restored_orders=len(state.orders), restored_fills=len(state.fills))


async def reconcile_with_venue(
    oms: OrderManager,
    *,
    resend_unsent: bool = True,
    compare_positions: bool = True,
    base: RecoveryReport | None = None,
) -> RecoveryReport:
    """Reconcile every open order, adopt unknown venue orders, compare positions."""
    fills_before = oms.get_metrics()["total_fills"]
    updated: list[str] = []
    resent: list[str] = []
    closed: list[str] = []
    unknown: list[str] = []
    for order in oms.get_active_orders():
        coid = order.client_order_id
        try:
            venue_order = await oms.resiliency.lookup(coid)
        except (AmbiguousOutcome, AutotraderError) as exc:
            log.warning("recovery: cannot ask the venue about %s: %s", coid, exc)
            unknown.append(coid)
            continue
        if venue_order is not None:
            before = oms.get_order(coid)
            after = await oms.apply_venue_order(venue_order)
            if after != before:
                updated.append(coid)
        elif order.status in _UNSENT and resend_unsent:
            log.warning("recovery: %s never reached the venue; sending it now", coid)
            await oms.resend_absent(coid)
            resent.append(coid)
        else:
            oms.apply_update_status(coid, OrderStatus.CANCELLED, "the venue has no such order")
            closed.append(coid)
    adopted: list[str] = []
    for venue_order in await oms.resiliency.call("get_open_orders", oms.adapter.get_open_orders):
        if oms.get_order(venue_order.client_order_id) is None:
            log.warning(
                "recovery: adopting %s, open at the venue but not in the journal", venue_order.client_order_id
            )
            oms.adopt(venue_order)
            adopted.append(venue_order.client_order_id)
    await oms.catch_up_missing_fills()  # the fills of updated, resent and adopted orders alike
    differences = await _position_differences(oms) if compare_positions else {}
    base = base or RecoveryReport()
    return attrs.evolve(
        base,
        updated=tuple(updated),
        resent=tuple(resent),
        closed_absent=tuple(closed),
        adopted=tuple(adopted),
        still_unknown=tuple(unknown),
        new_fills=oms.get_metrics()["total_fills"] - fills_before,
        position_differences=differences,
    )


async def _position_differences(oms: OrderManager) -> dict[str, tuple[Decimal, Decimal]]:
    """Symbol: (ours, the venue's) wherever they differ; each is logged and announced."""
    venue_positions = {p.symbol: p.quantity for p in await oms.adapter.get_positions()}
    ours = {s: p.quantity for s, p in oms.get_positions().items()}
    differences: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol in sorted(set(ours) | set(venue_positions)):
        mine, theirs = ours.get(symbol, Decimal(0)), venue_positions.get(symbol, Decimal(0))
        if mine != theirs:
            differences[symbol] = (mine, theirs)
            oms.report_anomaly(
                "position_difference", f"recovery: position {symbol} is {mine} here but {theirs} at the venue"
            )
    return differences
