"""The local TWS's matching model and IB's error codes, without sockets."""

from __future__ import annotations

from decimal import Decimal

from autotrader_ibkr.tws.exchange import Exchange, Executed, OrderChanged, OrderError
from autotrader_ibkr.tws.requests import ContractQuery, PlaceOrder

AAPL = 265598
STOCK = ContractQuery(0, "AAPL", "STK", "", "SMART", "", "USD", "", "")


def place(
    ex: Exchange,
    order_id: int,
    *,
    action: str = "BUY",
    qty: str = "10",
    type_: str = "LMT",
    lmt: str | None = "99.00",
    aux: str | None = None,
    tif: str = "GTC",
    ref: str = "r",
    client: int = 1,
    contract: ContractQuery = STOCK,
) -> list[object]:
    request = PlaceOrder(
        order_id,
        contract,
        action,
        Decimal(qty),
        type_,
        Decimal(lmt) if lmt else None,
        Decimal(aux) if aux else None,
        tif,
        "",
        ref,
        True,
    )
    return list(ex.place(client, request))


def market() -> Exchange:
    ex = Exchange()
    ex.set_price(AAPL, Decimal(100))
    return ex


def errors(notices: list[object]) -> list[int]:
    return [n.code for n in notices if isinstance(n, OrderError)]


def test_limit_rests_then_fills_at_its_limit_when_crossed() -> None:
    ex = market()
    assert not any(isinstance(n, Executed) for n in place(ex, 1))
    assert ex.orders[0].status == "Submitted"
    notices = ex.set_price(AAPL, Decimal(98))
    [fill] = [n.execution for n in notices if isinstance(n, Executed)]
    assert (fill.price, fill.shares, fill.liquidity) == (Decimal("99.00"), Decimal(10), 1)
    assert ex.orders[0].status == "Filled"
    assert ex.cash["USD"] == Decimal(10_000_000) - Decimal("990") - fill.commission


def test_market_takes_the_last_price_and_remainder_expires_on_a_thin_book() -> None:
    ex = market()
    ex.set_liquidity(AAPL, Decimal(4))
    place(ex, 1, type_="MKT", lmt=None)
    order = ex.orders[0]
    assert (order.filled, order.status, order.expired) == (Decimal(4), "Cancelled", True)
    assert ex.executions[0].price == Decimal(100)


def test_fok_without_liquidity_expires_unfilled_and_ioc_unmarketable_expires() -> None:
    ex = market()
    ex.set_liquidity(AAPL, Decimal(5))
    place(ex, 1, lmt="101", tif="FOK")
    place(ex, 2, lmt="90", tif="IOC")
    assert [(o.status, o.filled, o.expired) for o in ex.orders] == [("Cancelled", Decimal(0), True)] * 2
    assert ex.executions == []


def test_stop_triggers_on_the_cross() -> None:
    ex = market()
    place(ex, 1, type_="STP", lmt=None, aux="101")
    assert ex.executions == []
    ex.set_price(AAPL, Decimal("101.50"))
    assert ex.orders[0].status == "Filled" and ex.executions[0].price == Decimal("101.50")


def test_modify_by_replacing_the_same_id() -> None:
    ex = market()
    place(ex, 1)
    notices = place(ex, 1, qty="20", lmt="98.50")
    assert isinstance(notices[0], OrderChanged)
    assert (ex.orders[0].total_quantity, ex.orders[0].lmt_price, len(ex.orders)) == (
        Decimal(20),
        Decimal("98.50"),
        1,
    )


def test_error_codes() -> None:
    ex = market()
    place(ex, 5)
    assert errors(place(ex, 4)) == [103]  # ids must increase
    assert errors(place(ex, 6, lmt="99.001")) == [110]
    assert errors(place(ex, 7, contract=ContractQuery(0, "NOPE", "STK", "", "SMART", "", "USD", "", ""))) == [
        200
    ]
    assert errors(list(ex.cancel(1, 99))) == [10147]
    assert errors(list(ex.cancel(1, 5))) == [202]
    assert errors(list(ex.cancel(1, 5))) == [161]
    place(ex, 8, type_="MKT", lmt=None)
    assert errors(place(ex, 8, type_="MKT", lmt=None, qty="20")) == [104]
    ex.forced_rejects.append("no margin")
    assert errors(place(ex, 9)) == [201]
    assert ex.orders[-1].rejected and ex.orders[-1].status == "Inactive"


def test_next_valid_id_is_above_every_used_id() -> None:
    ex = market()
    place(ex, 41, client=2)
    assert ex.next_order_id(1) == 42 and ex.next_order_id(2) == 42


def test_global_cancel_cancels_every_client() -> None:
    ex = market()
    place(ex, 1, client=1)
    place(ex, 2, client=2)
    notices = ex.global_cancel()
    assert errors(list(notices)) == [202, 202]
    assert {o.status for o in ex.orders} == {"Cancelled"}
