"""The paper venue's state file: committed before the venue answers, restored whole, one owner."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from paper_helpers import BUY, SELL, D, req

from autotrader.adapter import ExecutionEvent
from autotrader.errors import ConfigError, OrderRejected
from autotrader.model import Fill, ModifyRequest, OrderStatus, OrderType
from autotrader_paper.adapter import PaperTradingAdapter
from autotrader_paper.config import PaperConfig
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.venue import DurablePaperVenue, PaperVenue

SETTINGS = {"initial_balance": D(1_000_000), "session_id": "s"}


def open_venue(path: Path, **kw: object) -> tuple[DurablePaperVenue, list[ExecutionEvent]]:
    events: list[ExecutionEvent] = []
    venue = DurablePaperVenue.open(path, DEFAULT_INSTRUMENTS, on_event=events.append, **{**SETTINGS, **kw})
    return venue, events


def books(venue: PaperVenue) -> tuple[object, ...]:
    """Everything a client can ask the venue, to compare a restored venue with the original."""
    return (
        venue.ledger_orders(),
        venue.ledger_trades(),
        venue.open_orders(),
        venue.positions(),
        venue.balances(),
        venue.last_price("BTCUSDT"),
        {o.client_order_id: venue.fills_of(o.client_order_id) for o in venue.ledger_orders()},
    )


def test_a_reopened_venue_has_the_same_books_and_goes_on_matching(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    venue, _ = open_venue(path)
    venue.set_price("BTCUSDT", D(50000))
    venue.submit(req(BUY, OrderType.MARKET, qty="2"))
    resting_buy = venue.submit(req(BUY, price="49000"))
    resting_sell = venue.submit(req(SELL, price="51000", qty="3"))
    venue.modify(ModifyRequest(resting_sell.client_order_id, price=D(51500)))
    with pytest.raises(OrderRejected):
        venue.submit(req(BUY, price="49000", qty="1000"))  # a reject is booked too
    cancelled = venue.submit(req(SELL, price="52000"))
    venue.cancel(cancelled.client_order_id)
    before = books(venue)
    venue.close()

    again, events = open_venue(path, initial_balance=D(5), session_id="other")
    assert books(again) == before  # the file wins over the settings
    again.set_price("BTCUSDT", D(48000))  # the restored book still matches
    assert again.order(resting_buy.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    (fill,) = [e for e in events if isinstance(e, Fill)]
    assert fill.trade_id == "s-T2"  # ids go on from the restored ones: never reused
    assert again.submit(req(BUY, price="1")).venue_order_id == "s-O6"


def test_the_commit_comes_before_the_answer_and_the_events(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    seen: list[int] = []
    venue, _ = open_venue(path)
    venue.set_price("BTCUSDT", D(50000))

    def on_event(event: ExecutionEvent) -> None:
        # What a process restarted at this instant would find in the file.
        seen.append(len(venue._store.load().fills))

    venue.on_event = on_event
    venue.submit(req(BUY, OrderType.MARKET))
    assert seen and all(n == 1 for n in seen)  # the trade was on disk before any event went out


def test_a_second_owner_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    venue, _ = open_venue(path)
    with pytest.raises(ConfigError, match="held by another paper venue"):
        open_venue(path)
    venue.close()
    open_venue(path)[0].close()


def test_state_survives_kill_9_and_the_lock_dies_with_the_process(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from decimal import Decimal
        from autotrader.model import OrderRequest, OrderSide, OrderType
        from autotrader_paper.adapter import PaperTradingAdapter
        adapter = PaperTradingAdapter(latency_ms=(0, 0), fill_probability=1.0, state_file={str(path)!r})
        adapter.update_price("BTCUSDT", "50000")
        adapter.venue.submit(OrderRequest("k1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.5")))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    adapter = PaperTradingAdapter(config=PaperConfig(state_file=path))
    (trade,) = adapter.venue.ledger_trades()
    assert (trade.client_order_id, trade.quantity) == ("k1", D("0.5"))
    assert [(p.symbol, p.quantity) for p in adapter.venue.positions()] == [("BTCUSDT", D("0.5"))]


@pytest.mark.anyio
async def test_the_adapter_releases_the_file_on_disconnect_and_reloads_it_on_connect(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    first = PaperTradingAdapter(latency_ms=(0, 0), fill_probability=1.0, state_file=path)
    await first.connect()
    first.update_price("BTCUSDT", "50000")
    await first.disconnect()
    second = PaperTradingAdapter(latency_ms=(0, 0), fill_probability=1.0, state_file=path)
    await second.connect()
    assert second.last_price("BTCUSDT") == D(50000)
    second.update_price("BTCUSDT", "51000")
    await second.disconnect()
    await first.connect()  # sees what the other process did meanwhile
    assert first.last_price("BTCUSDT") == D(51000)
    await first.disconnect()


def test_the_file_holds_plain_data_only(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    venue, _ = open_venue(path)
    venue.set_price("BTCUSDT", D(50000))
    venue.submit(req(BUY, OrderType.MARKET))
    stored = venue._store.load()
    json.dumps([stored.orders, stored.fills, stored.state])  # JSON all the way down
    assert Decimal(stored.fills[0]["price"]) == D(50000)


def test_a_price_move_commits_what_it_fills_or_triggers_and_saves_a_bare_price_later(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    venue, _ = open_venue(path)
    venue.set_price("BTCUSDT", D(50000))
    resting = venue.submit(req(BUY, price="49000"))
    stop = venue.submit(req(BUY, OrderType.STOP_LIMIT, price="50900", stop="51000"))
    seen: list[int] = []
    venue.on_event = lambda event: seen.append(len(venue._store.load().fills))
    venue.set_price("BTCUSDT", D(48000))  # fills the resting buy
    assert seen and all(n == 1 for n in seen)
    venue.set_price("BTCUSDT", D(51000))  # triggers the stop, which rests (its limit is below)
    (record,) = [
        r for r in venue._store.load().orders if r["request"]["client_order_id"] == stop.client_order_id
    ]
    assert record["triggered"] is True
    venue.set_price("BTCUSDT", D(50950))  # changes nothing on the books: not a transaction of its own
    assert venue._store.load().state["prices"] == {"BTCUSDT": "51000"}  # type: ignore[index]
    venue.close()
    again, _ = open_venue(path)
    assert again.last_price("BTCUSDT") == D(50950)  # saved on close
    assert again.order(resting.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_the_file_keeps_every_order_when_memory_forgets(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    venue, _ = open_venue(path, history=5)
    venue.set_price("BTCUSDT", D(50000))
    first = [venue.submit(req(BUY if i % 2 else SELL, OrderType.MARKET, qty="0.01")) for i in range(100)]
    assert venue.order(first[0].client_order_id) is None  # forgotten in memory
    recent = {
        o.client_order_id: (venue.order(o.client_order_id), venue.fills_of(o.client_order_id))
        for o in first[-5:]
    }
    account = (venue.positions(), venue.balances(), venue.open_orders())
    venue.close()
    again, _ = open_venue(path, history=5)  # restored, then forgotten down to the newest 5
    assert {c: (again.order(c), again.fills_of(c)) for c in recent} == recent
    assert (again.positions(), again.balances(), again.open_orders()) == account
    assert len(again.ledger_orders()) == 5
    more = [again.submit(req(BUY, OrderType.MARKET, qty="0.01")) for _ in range(20)]
    again.close()
    everything, _ = open_venue(path, history=1_000)
    known = {o.client_order_id for o in everything.ledger_orders()}
    assert {o.client_order_id for o in first + more} <= known  # nothing lost, no seq reused
    assert everything.order(first[0].client_order_id) == first[0]
    assert len(everything.ledger_trades()) == 120
    everything.close()
