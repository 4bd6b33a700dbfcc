"""Contracts from the config, resolved through contract details, and checked before the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal

import pytest
from autotrader.errors import ConfigError, InvalidOrder
from autotrader.model import OrderRequest, OrderSide, OrderType

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.config import ContractSpec, IbkrConfig
from autotrader_ibkr.tws import TwsServer, running_tws
from autotrader_ibkr.tws import requests as rq
from autotrader_ibkr.tws.wire import In

pytestmark = pytest.mark.anyio

SPECS = {
    "AAPL": "STK",  # the short form: SMART, USD
    "EUR.USD": "CASH",  # IDEALPRO, base EUR, quote USD
    "ES-DEC": {"sec_type": "FUT", "symbol": "ES", "last_trade_date": "202512", "exchange": "CME"},
    "ESZ5": {"sec_type": "FUT", "local_symbol": "ESZ5", "exchange": "CME"},
}


@pytest.fixture
async def tws(anyio_backend: str) -> AsyncIterator[TwsServer]:
    async with running_tws() as server:
        for con_id, price in ((265598, "100"), (12087792, "1.1"), (495512563, "5000")):
            server.set_price(con_id, Decimal(price))
        yield server


async def connected(tws: TwsServer, instruments: Mapping[str, object]) -> IbkrAdapter:
    adapter = IbkrAdapter(IbkrConfig(port=tws.port, client_id=4, instruments=instruments, connect_timeout=2))
    await adapter.connect()
    return adapter


def sent(tws: TwsServer, msg_id: In) -> list[list[str]]:
    return [r for r in tws.requests if r[0] == str(int(msg_id))]


async def test_specs_resolve_through_contract_details(tws: TwsServer) -> None:
    adapter = await connected(tws, SPECS)
    try:
        instruments = await adapter.instruments()
        queries = [rq.parse_contract_details(f).contract for f in sent(tws, In.REQ_CONTRACT_DATA)]
    finally:
        await adapter.disconnect()
    stock, fx, by_expiry, by_local = queries
    assert (stock.sec_type, stock.symbol, stock.exchange, stock.currency) == ("STK", "AAPL", "SMART", "USD")
    assert (fx.sec_type, fx.symbol, fx.exchange, fx.currency) == ("CASH", "EUR", "IDEALPRO", "USD")
    assert (by_expiry.symbol, by_expiry.last_trade_date, by_expiry.exchange) == ("ES", "202512", "CME")
    assert (by_local.local_symbol, by_local.symbol) == ("ESZ5", "")
    assert instruments["AAPL"].tick_size == Decimal("0.01") and instruments["AAPL"].lot_size == 1
    assert instruments["EUR.USD"].tick_size == Decimal("0.00005")
    assert (instruments["EUR.USD"].base_asset, instruments["EUR.USD"].quote_asset) == ("EUR", "USD")
    for symbol in ("ES-DEC", "ESZ5"):
        assert instruments[symbol].tick_size == Decimal("0.25") and instruments[symbol].venue_symbol == "ESZ5"


@pytest.mark.parametrize(
    "spec",
    [{"sec_type": "STK", "symbol": "NOPE"}, {"sec_type": "FUT", "symbol": "ES", "exchange": "EUREX"}],
    ids=["unknown", "wrong exchange"],
)
async def test_a_spec_tws_cannot_resolve_is_a_config_error(tws: TwsServer, spec: dict[str, str]) -> None:
    adapter = IbkrAdapter(IbkrConfig(port=tws.port, client_id=4, instruments={"X": spec}, connect_timeout=2))
    try:
        with pytest.raises(ConfigError, match=r"ibkr\.instruments\.X"):
            await adapter.connect()
    finally:
        await adapter.disconnect()


def test_bad_specs_are_refused_in_the_config() -> None:
    with pytest.raises(ConfigError, match="sec_type"):
        ContractSpec("OPT", symbol="AAPL")
    with pytest.raises(ConfigError, match="exchange"):
        ContractSpec("FUT", local_symbol="ESZ5")
    with pytest.raises(ConfigError, match=r"ibkr\.instruments\.X"):
        IbkrConfig(instruments={"X": {"sec_type": "STK", "colour": "red"}})
    with pytest.raises(ConfigError, match="at least one instrument"):
        IbkrConfig()


@pytest.mark.parametrize(
    ("symbol", "quantity", "price", "field"),
    [
        ("EUR.USD", "20000", "1.10003", "price"),  # tick 0.00005
        ("ESZ5", "1", "5000.10", "price"),  # tick 0.25
        ("AAPL", "1.5", "99.00", "quantity"),  # whole shares
        ("ESZ5", "0.5", "5000.25", "quantity"),
    ],
)
async def test_off_tick_prices_and_odd_sizes_never_reach_the_wire(
    tws: TwsServer, symbol: str, quantity: str, price: str, field: str
) -> None:
    adapter = await connected(tws, {"EUR.USD": "CASH", "ESZ5": SPECS["ESZ5"], "AAPL": "STK"})
    try:
        request = OrderRequest(
            "at-bad-1", symbol, OrderSide.BUY, OrderType.LIMIT, Decimal(quantity), price=Decimal(price)
        )
        with pytest.raises(InvalidOrder) as info:
            await adapter.submit_order(request)
        assert field in str(info.value)
    finally:
        await adapter.disconnect()
    assert sent(tws, In.PLACE_ORDER) == []


async def test_orders_go_out_on_the_resolved_contract(tws: TwsServer) -> None:
    adapter = await connected(tws, {"ES-DEC": SPECS["ES-DEC"], "EUR.USD": "CASH"})
    try:
        for coid, symbol, qty, price in (
            ("at-f", "ES-DEC", "1", "4990.25"),
            ("at-x", "EUR.USD", "25000", "1.09"),
        ):
            await adapter.submit_order(
                OrderRequest(coid, symbol, OrderSide.BUY, OrderType.LIMIT, Decimal(qty), price=Decimal(price))
            )
    finally:
        await adapter.disconnect()
    future, fx = (rq.parse_place_order(f) for f in sent(tws, In.PLACE_ORDER))
    assert (future.contract.con_id, future.contract.exchange, future.lmt_price) == (
        495512563,
        "CME",
        Decimal("4990.25"),
    )
    assert (fx.contract.con_id, fx.contract.exchange, fx.total_quantity) == (
        12087792,
        "IDEALPRO",
        Decimal(25000),
    )
