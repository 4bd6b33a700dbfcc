"""The paper account: cash, reservations, commissions, positions and P&L (long, short, flip)."""

from __future__ import annotations

import pytest
from paper_helpers import BUY, SELL, D, make_venue, req

from autotrader.errors import OrderRejected
from autotrader.model import Balance, Instrument, OrderType
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.venue import Account, PaperVenue


def test_commission_is_bps_of_notional_in_the_account_currency() -> None:
    v, _ = make_venue(commission_bps=D(10))
    v.submit(req(BUY, OrderType.MARKET, qty="2"))
    (trade,) = v.ledger_trades()
    assert (trade.commission, trade.commission_asset) == (D(100), "USD")  # 10 bps of 100 000
    assert v.cash == D(1_000_000) - D(100_000) - D(100)


def test_long_average_price_and_realized_pnl() -> None:
    v, _ = make_venue(commission_bps=D(0))
    v.submit(req(BUY, OrderType.MARKET, qty="1"))
    v.set_price("BTCUSDT", D(52000))
    v.submit(req(BUY, OrderType.MARKET, qty="1"))
    (position,) = v.positions()
    assert (position.quantity, position.average_price) == (D(2), D(51000))
    v.set_price("BTCUSDT", D(53000))
    assert position.unrealized_pnl(D(53000)) == D(4000)
    v.submit(req(SELL, OrderType.MARKET, qty="1"))
    (position,) = v.positions()
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(1), D(51000), D(2000))
    assert v.equity() == D(1_000_000) + D(4000)


def test_short_position_and_pnl() -> None:
    v, _ = make_venue(commission_bps=D(0))
    v.submit(req(SELL, OrderType.MARKET, qty="2"))
    assert v.cash == D(1_100_000)  # a short sale credits the proceeds
    v.set_price("BTCUSDT", D(49000))
    (position,) = v.positions()
    assert position.quantity == D(-2) and position.side == "SHORT"
    assert position.unrealized_pnl(D(49000)) == D(2000) and v.equity() == D(1_002_000)
    v.submit(req(BUY, OrderType.MARKET, qty="2"))
    assert v.positions() == [] and v.cash == D(1_002_000)
    assert v.account.position("BTCUSDT").realized_pnl == D(2000)


def test_flip_from_long_to_short() -> None:
    v, _ = make_venue(commission_bps=D(0))
    v.submit(req(BUY, OrderType.MARKET, qty="1"))
    v.set_price("BTCUSDT", D(51000))
    v.submit(req(SELL, OrderType.MARKET, qty="3"))
    (position,) = v.positions()
    assert (position.quantity, position.average_price, position.realized_pnl) == (D(-2), D(51000), D(1000))
    v.set_price("BTCUSDT", D(50000))
    assert v.equity() == D(1_000_000) + D(1000) + D(2000)


def test_resting_buys_lock_cash_until_they_fill_or_go() -> None:
    v, _ = make_venue(commission_bps=D(10))
    order = v.submit(req(BUY, qty="2", price="40000"))
    locked = D(80_000) * D("1.001")
    assert v.balances() == [Balance("USD", free=D(1_000_000) - locked, locked=locked)]
    v.set_liquidity("BTCUSDT", D(1))
    v.set_price("BTCUSDT", D(39000))  # half fills at 40 000: half the lock goes with it
    (balance,) = v.balances()
    assert balance.locked == locked / 2
    assert balance.total == D(1_000_000) - D(40_000) - D(40)
    v.cancel(order.client_order_id)
    assert v.balances()[0].locked == 0
    sell = v.submit(req(SELL, qty="5", price="60000"))  # shorts need no cash (no margin model)
    assert v.balances()[0].locked == 0 and sell.status.is_open


def test_free_cash_limits_new_buys() -> None:
    v, _ = make_venue(initial_balance=D(100_000), commission_bps=D(0))
    v.submit(req(BUY, qty="1.5", price="40000"))  # locks 60 000
    with pytest.raises(OrderRejected, match="insufficient balance"):
        v.submit(req(BUY, qty="1.5", price="40000"))
    v.submit(req(BUY, qty="1", price="40000"))


def test_usd_like_quotes_settle_in_the_account_currency_and_others_apart() -> None:
    eurgbp = Instrument("EURGBP", "EUR", "GBP", tick_size="0.00001", lot_size="1", min_quantity="1")
    v = PaperVenue({**DEFAULT_INSTRUMENTS, "EURGBP": eurgbp}, initial_balance=D(1000), commission_bps=D(0))
    v.set_price("EURGBP", D("0.85"))
    with pytest.raises(OrderRejected, match=r"85\.00 GBP needed, 0\.00 free"):
        v.submit(req(BUY, OrderType.MARKET, qty="100", symbol="EURGBP"))
    v.submit(req(SELL, OrderType.MARKET, qty="100", symbol="EURGBP"))
    assert {b.asset: b.total for b in v.balances()} == {"USD": D(1000), "GBP": D(85)}
    account = Account("USDT", D(1))
    assert account.settlement_asset(DEFAULT_INSTRUMENTS["GOOG"]) == "USDT"
    assert Account("EUR", D(1)).settlement_asset(DEFAULT_INSTRUMENTS["BTCUSDT"]) == "USDT"
