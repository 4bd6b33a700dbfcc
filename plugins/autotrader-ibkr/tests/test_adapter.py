"""The adapter against the local TWS: IB's own faults, reconciliation, contracts, identity."""

from __future__ import annotations

from decimal import Decimal

import anyio
import attrs
import pytest
from autotrader.errors import AmbiguousOutcome, RateLimited
from autotrader.model import Fill, ModifyRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.testing.harness import Fault, HarnessSession
from autotrader.testing.support import away, fills_match_trades, request, wait_for

from autotrader_ibkr.adapter import ClientIdInUse, IbkrAdapter
from autotrader_ibkr.mapping import wire_float
from autotrader_ibkr.tws import requests as rq
from ibkr_support import adapter, control, fills, oms_for, record

pytestmark = pytest.mark.anyio


async def test_instruments_come_from_contract_details(session: HarnessSession) -> None:
    instruments = await session.adapter.instruments()
    assert (instruments["AAPL"].tick_size, instruments["AAPL"].lot_size) == (Decimal("0.01"), Decimal(1))
    assert instruments["EUR.USD"].tick_size == Decimal("0.00005")
    assert instruments["EUR.USD"].quote_asset == "USD" and instruments["EUR.USD"].base_asset == "EUR"
    assert instruments["ESZ5"].tick_size == Decimal("0.25") and instruments["ESZ5"].venue_symbol == "ESZ5"


async def test_order_ref_is_the_client_id_and_order_id_is_kept(session: HarnessSession) -> None:
    req = request(session, OrderSide.BUY, price=away(session, -10))
    ack = await session.adapter.submit_order(req)
    [venue_order] = control(session).exchange.orders
    assert venue_order.order_ref == req.client_order_id
    assert ack.venue_order_id == str(venue_order.order_id)
    modified = await session.adapter.modify_order(
        ModifyRequest(req.client_order_id, price=away(session, -12))
    )
    assert modified.price == away(session, -12)
    assert len(control(session).exchange.orders) == 1 and venue_order.lmt_price == away(session, -12)
    placed = [rq.parse_place_order(r) for r in control(session).server.requests if r[0] == "3"]
    assert [p.order_id for p in placed] == [venue_order.order_id] * 2  # the modify re-placed the same id
    assert {p.order_ref for p in placed} == {req.client_order_id}


async def test_futures_and_fx_trade(session: HarnessSession) -> None:
    events = record(session)
    for symbol, qty in (("ESZ5", Decimal(1)), ("EUR.USD", Decimal(20000))):
        req = request(session, OrderSide.BUY, OrderType.MARKET, quantity=qty)
        req = attrs.evolve(req, symbol=symbol)
        await session.adapter.submit_order(req)
    await wait_for(lambda: len(fills(events)) == 2)
    assert {f.symbol for f in fills(events)} == {"ESZ5", "EUR.USD"}
    positions = {p.symbol: p.quantity for p in await session.adapter.get_positions()}
    assert positions == {"ESZ5": 1, "EUR.USD": 20000}


async def test_balances_are_cash_per_currency_and_the_summary_has_the_account_values(
    session: HarnessSession,
) -> None:
    req = attrs.evolve(
        request(session, OrderSide.BUY, OrderType.MARKET, quantity=Decimal(20000)), symbol="EUR.USD"
    )
    await session.adapter.submit_order(req)
    venue = control(session).exchange
    await wait_for(lambda: Decimal(20000) == venue.cash.get("EUR"))

    def streamed() -> dict[str, Decimal]:
        values = adapter(session).ib.accountValues()
        return {
            v.currency: Decimal(v.value) for v in values if v.tag == "CashBalance" and v.currency != "BASE"
        }

    await wait_for(lambda: streamed() == venue.cash, what="the account update")
    balances = {b.asset: b.free for b in await session.adapter.get_balances()}
    assert balances == venue.cash and set(balances) == {"EUR", "USD"}
    summary = await adapter(session).account_summary()
    values = {tag: Decimal(v) for tag, v, currency in venue.account_values() if currency == "USD"}
    assert summary["NetLiquidation"] == values["NetLiquidation"]
    assert summary["AvailableFunds"] == values["AvailableFunds"]


async def test_socket_drop_after_accept_is_reconciled_not_resent(session: HarnessSession) -> None:
    await control(session).drop_after_accept()
    req = request(session, OrderSide.BUY, price=away(session, -5))
    with anyio.fail_after(5), pytest.raises(AmbiguousOutcome):
        await session.adapter.submit_order(req)
    found = await session.adapter.get_order(req.client_order_id)  # waits for the reconnect
    assert found is not None and found.status is OrderStatus.ACCEPTED
    assert adapter(session).reconnects >= 1

    await control(session).drop_after_accept()
    oms = oms_for(session)
    req2 = request(session, OrderSide.BUY, OrderType.MARKET)
    order = await oms.submit_order(req2)
    await wait_for(
        lambda: (o := oms.get_order(req2.client_order_id)) is not None and o.status is OrderStatus.FILLED
    )
    assert order.client_order_id == req2.client_order_id
    ledger = [o.client_order_id for o in await session.control.orders()]
    assert ledger == [req.client_order_id, req2.client_order_id]
    assert fills_match_trades(
        oms.get_fills(client_order_id=req2.client_order_id),
        [t for t in await session.control.trades() if t.client_order_id == req2.client_order_id],
    )


async def test_connectivity_lost_then_restored_with_data_lost_reconciles(session: HarnessSession) -> None:
    events = record(session)
    req = request(session, OrderSide.BUY, price=away(session, -10))
    await session.adapter.submit_order(req)
    await control(session).connectivity_lost()
    await wait_for(lambda: not adapter(session)._link_ok)
    assert not await session.adapter.health_check()
    await session.control.set_price(session.symbol, away(session, -20))
    await anyio.sleep(0.1)
    assert fills(events) == []  # nothing reaches the client while IB is unreachable
    await control(session).connectivity_restored(data_lost=True)
    await wait_for(lambda: len(fills(events)) == 1, what="the fill, by reconciliation")
    assert fills_match_trades(fills(events), await session.control.trades())
    await wait_for(lambda: any(isinstance(e, OrderUpdate) and e.status is OrderStatus.FILLED for e in events))
    assert await session.adapter.health_check()


async def test_connectivity_restored_with_data_maintained_delivers_the_held_messages(
    session: HarnessSession,
) -> None:
    events = record(session)
    req = request(session, OrderSide.BUY, price=away(session, -10))
    await session.adapter.submit_order(req)
    await control(session).connectivity_lost()
    await session.control.set_price(session.symbol, away(session, -20))
    await control(session).connectivity_restored(data_lost=False)
    await wait_for(lambda: len(fills(events)) == 1)
    assert fills_match_trades(fills(events), await session.control.trades())


@pytest.mark.parametrize("fault", ["duplicate_exec_id", "status_before_execution", "commission_first"])
async def test_fill_message_faults(session: HarnessSession, fault: str) -> None:
    events = record(session)
    await getattr(control(session), fault)()
    req = request(session, OrderSide.BUY, OrderType.MARKET)
    await session.adapter.submit_order(req)
    await wait_for(
        lambda: any(isinstance(e, OrderUpdate) and e.status is OrderStatus.FILLED for e in events),
        what="FILLED",
    )
    assert fills_match_trades(fills(events), await session.control.trades())  # once each, with commission
    statuses = [e for e in events if isinstance(e, OrderUpdate | Fill)]
    first_filled = next(
        i for i, e in enumerate(statuses) if isinstance(e, OrderUpdate) and e.status is OrderStatus.FILLED
    )
    assert any(isinstance(e, Fill) for e in statuses[:first_filled]), "FILLED reported before its fill"


async def test_pacing_violation_is_rate_limited(session: HarnessSession) -> None:
    await session.control.inject(Fault.RATE_LIMIT)
    with pytest.raises(RateLimited) as info:
        await session.adapter.submit_order(request(session, OrderSide.BUY, price=away(session, -5)))
    assert info.value.code == 100 and info.value.retry_after is not None and info.value.retry_after >= 1.0
    assert await session.control.orders() == []


async def test_global_cancel_for_the_kill_switch(session: HarnessSession) -> None:
    reqs = [request(session, OrderSide.BUY, price=away(session, -10 - i)) for i in range(3)]
    for req in reqs:
        await session.adapter.submit_order(req)
    updates = await session.adapter.cancel_all_orders()
    assert {u.status for u in updates} == {OrderStatus.CANCELLED}
    assert {o.status for o in await session.control.orders()} == {OrderStatus.CANCELLED}
    assert [r[0] for r in control(session).server.requests if r[0] == "58"] == ["58"]


async def test_client_id_in_use_is_a_clear_connect_error(session: HarnessSession) -> None:
    config = attrs.evolve(adapter(session).config, connect_timeout=0.5)
    with pytest.raises(ClientIdInUse, match="client id 1"):
        await IbkrAdapter(config).connect()
    assert session.adapter.is_connected


def test_wire_float_refuses_what_a_float_cannot_carry() -> None:
    assert wire_float(Decimal("99.95")) == 99.95
    with pytest.raises(ValueError, match="exactly"):
        wire_float(Decimal("0.12345678901234567890"))
