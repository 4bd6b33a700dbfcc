"""The journal: durable appends, schema versioning, intent-before-send, recovery and reconciliation."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.journal import SCHEMA_VERSION, SqliteJournal, load_state, open_journal
from autotrader.model import Balance, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.risk import RiskLimits
from autotrader.testing.support import IdleStrategy

from .scripted import ScriptedAdapter

pytestmark = pytest.mark.anyio
D = Decimal


def make_engine(path: Path, adapter: ScriptedAdapter | None = None) -> ExecutionEngine:
    config = ExecutionConfig(initial_backoff=0.001, risk=RiskLimits(price_band_pct=None))
    return ExecutionEngine(IdleStrategy(), adapter or ScriptedAdapter(), config, journal=path)


def market(engine: ExecutionEngine, qty: str = "1") -> OrderRequest:
    return OrderRequest(engine.oms.new_client_order_id(), "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D(qty))


def test_schema_is_versioned_and_reopens(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    assert journal.schema_version == SCHEMA_VERSION
    journal.append("order", {"x": "1"}, "c1")
    journal.close()
    again = open_journal(f"sqlite:///{tmp_path / 'j.sqlite'}")
    assert [(r.kind, r.client_order_id, r.payload) for r in again.records()] == [("order", "c1", {"x": "1"})]
    mode = sqlite3.connect(tmp_path / "j.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_buffered_records_commit_with_the_next_durable_one_or_when_overdue(tmp_path: Path) -> None:
    now = [0.0]
    journal = SqliteJournal(tmp_path / "j.sqlite", max_delay=0.05, clock=lambda: now[0])
    other = sqlite3.connect(tmp_path / "j.sqlite")

    def on_disk() -> int:
        return int(other.execute("SELECT count(*) FROM events").fetchone()[0])

    journal.append("fill", {"n": 1}, durable=False)
    journal.append("fill", {"n": 2}, durable=False)
    assert on_disk() == 0
    journal.append("order", {"n": 3})
    assert on_disk() == 3
    journal.append("fill", {"n": 4}, durable=False)
    now[0] = 0.06
    journal.append("fill", {"n": 5}, durable=False)  # the oldest buffered one is overdue
    assert on_disk() == 5
    journal.append("fill", {"n": 6}, durable=False)
    journal.flush()
    assert on_disk() == 6
    assert [r.payload["n"] for r in journal.records()] == [1, 2, 3, 4, 5, 6]


def test_a_version_1_journal_is_migrated_with_its_records_and_their_seqs(tmp_path: Path) -> None:
    from autotrader.journal import _MIGRATIONS

    db = sqlite3.connect(tmp_path / "j.sqlite", isolation_level=None)
    db.executescript(_MIGRATIONS[1] + "; PRAGMA user_version=1;")
    db.executemany(
        "INSERT INTO events (ts, kind, client_order_id, payload) VALUES (?, ?, ?, ?)",
        [(1.0, "order", "c1", '{"n":1}'), (2.0, "fill", "c1", '{"n":2}')],
    )
    db.execute("DELETE FROM events WHERE seq = 1")  # a gap, which the migration must keep
    db.close()
    journal = SqliteJournal(tmp_path / "j.sqlite")
    assert journal.schema_version == SCHEMA_VERSION == 3
    journal.append("order", {"n": 3}, "c2")
    assert [(r.seq, r.kind, r.payload["n"]) for r in journal.records()] == [(2, "fill", 2), (3, "order", 3)]
    journal.close()
    check = sqlite3.connect(tmp_path / "j.sqlite")
    assert check.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == []


def test_checkpoints_run_in_their_own_thread_not_in_a_commit(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite", checkpoint_interval=0.01)
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # no commit does it
    for n in range(3000):
        journal.append("order", {"n": n, "pad": "x" * 200})
    database = tmp_path / "j.sqlite"
    deadline = time.monotonic() + 10
    while database.stat().st_size < 500_000 and time.monotonic() < deadline:
        time.sleep(0.02)  # the pages reach the database file only through a checkpoint
    assert database.stat().st_size >= 500_000
    assert [r.payload["n"] for r in journal.records()] == list(range(3000))
    journal.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "j.sqlite")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SqliteJournal(tmp_path / "j.sqlite")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        open_journal("mysql://localhost/x")


async def test_intent_is_durable_before_the_send(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    engine = make_engine(tmp_path / "j.sqlite", adapter)
    seen_at_send: list[list[str]] = []
    original = adapter.submit_order

    async def spy(request: OrderRequest) -> Any:
        # Read the journal file with a separate connection: what a restarted process would see.
        other = SqliteJournal(tmp_path / "j.sqlite")
        seen_at_send.append([r.payload["status"] for r in other.records(kinds=("order",))])
        other.close()
        return await original(request)

    adapter.submit_order = spy  # type: ignore[method-assign]
    await engine.connect()
    await engine.submit(market(engine))
    assert seen_at_send == [["PENDING"]]  # the intent is on disk; SUBMITTED rides with the next commit
    state = load_state(engine.journal)  # type: ignore[arg-type]
    (order,) = state.orders.values()
    assert order.status is OrderStatus.FILLED
    assert state.positions["BTCUSDT"].quantity == D(1)
    assert [f.trade_id for f in state.fills] == ["t1"]


async def test_resume_sends_an_intent_the_venue_never_got(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = market(first)
    first.oms.track(request)  # the intent is journaled ... and the process dies before the send
    assert venue.venue == {}

    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    assert report.resent == (request.client_order_id,)
    assert list(venue.venue) == [request.client_order_id] and venue.submit_calls == 1
    assert second.oms.get_order(request.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


async def test_an_intent_cancelled_before_the_send_is_never_sent_after_a_crash(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = market(first)
    first.oms.track(request)
    await first.oms.cancel_order(request.client_order_id)  # ... and the process dies right after

    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    assert report.resent == () and venue.submit_calls == 0
    assert second.oms.get_order(request.client_order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


async def test_resume_after_send_before_ack_reconciles_without_resending(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = market(first, "2")
    first.oms.track(request)
    venue._listeners = ()  # the first process is dead: nobody hears the venue
    await venue.submit_order(request)  # reached the venue and filled; we died before hearing back

    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    assert report.resent == () and venue.submit_calls == 1
    order = second.oms.get_order(request.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED and order.filled_quantity == D(2)
    assert report.new_fills == 1
    assert second.oms.positions.quantity("BTCUSDT") == D(2)


async def test_resume_adopts_venue_orders_the_journal_lacks(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    stranger = OrderRequest("manual-1", "BTCUSDT", OrderSide.SELL, OrderType.LIMIT, D(1), price=D(200))
    await venue.submit_order(stranger)
    engine = make_engine(tmp_path / "j.sqlite", venue)
    report = await engine.resume()
    assert report.adopted == ("manual-1",)
    assert engine.oms.get_order("manual-1").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]


async def test_restart_does_not_double_count_a_repeated_fill(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = OrderRequest(
        first.oms.new_client_order_id(), "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D(2), price=D(99)
    )
    await first.submit(request)
    venue._listeners = ()
    fill = venue.fill(request.client_order_id, D(1), D(99))

    second = make_engine(tmp_path / "j.sqlite", venue)
    await second.resume()
    second.oms.on_event(fill)  # the venue replays it after the reconnect
    order = second.oms.get_order(request.client_order_id)
    assert order is not None and order.filled_quantity == D(1)
    assert second.oms.positions.quantity("BTCUSDT") == D(1)


async def test_dead_letters_survive_a_restart(tmp_path: Path) -> None:
    from autotrader.errors import TransientError

    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    venue.submit_script.extend([TransientError("503")] * 4)
    await first.submit(market(first))
    second = make_engine(tmp_path / "j.sqlite", venue)
    await second.resume()
    assert len(second.resiliency.dead_letters) == 1


async def test_fill_is_journaled_before_the_status_it_causes(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "j.sqlite")
    await engine.connect()
    await engine.submit(market(engine))
    kinds = [(r.kind, r.payload.get("status")) for r in engine.journal.records()]  # type: ignore[union-attr]
    assert kinds.index(("fill", None)) < kinds.index(("order_change", "FILLED"))


async def test_recovery_refetches_fills_the_journal_lost(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    await first.submit(market(first, "3"))
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal._db.execute("DELETE FROM events WHERE kind = 'fill'")  # a crash lost the fill records
    journal.close()
    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    (order,) = second.oms.get_completed_orders()
    assert order.status is OrderStatus.FILLED and order.filled_quantity == D(3)
    assert report.new_fills == 1 and second.oms.positions.quantity("BTCUSDT") == D(3)
    assert second.oms.get_metrics()["anomalies"] == 0


@pytest.mark.parametrize(
    ("status", "filled"), [(OrderStatus.FILLED, "2"), (OrderStatus.EXPIRED, "0.5")], ids=["filled", "expired"]
)
async def test_fills_an_ack_reported_survive_a_crash_before_they_arrive(
    tmp_path: Path, status: OrderStatus, filled: str
) -> None:
    """The ack says FILLED (or EXPIRED, partly filled) before the fill events come: a crash then
    leaves a terminal order in the journal whose fills only the venue has."""
    venue = ScriptedAdapter()
    venue.fill_market_orders_at = None
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = market(first, "2")
    original = venue.submit_order

    async def ack_before_the_fills(sent: OrderRequest) -> Any:
        await original(sent)
        venue._listeners = ()  # the process dies before the fill events reach it
        venue.fill(sent.client_order_id, D(filled), D(100), emit=False)
        return OrderUpdate(sent.client_order_id, status, venue.name, "v1", filled_quantity=D(filled))

    venue.submit_order = ack_before_the_fills  # type: ignore[method-assign,assignment]
    order = await first.submit(request)
    assert order.status is status and order.filled_quantity == 0
    first.journal.flush()  # type: ignore[union-attr]

    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    order = second.oms.get_order(request.client_order_id)  # type: ignore[assignment]
    assert order is not None and order.status is status and order.filled_quantity == D(filled)
    assert report.new_fills == 1 and second.oms.positions.quantity("BTCUSDT") == D(filled)


async def test_resume_adopts_a_partly_filled_venue_order_with_its_fills(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    stranger = OrderRequest("manual-2", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D(3), price=D(90))
    await venue.submit_order(stranger)
    venue.fill("manual-2", D(1), D(90))
    engine = make_engine(tmp_path / "j.sqlite", venue)
    report = await engine.resume()
    assert report.adopted == ("manual-2",) and report.new_fills == 1
    order = engine.oms.get_order("manual-2")
    assert (
        order is not None and order.status is OrderStatus.PARTIALLY_FILLED and order.filled_quantity == D(1)
    )
    assert engine.oms.positions.quantity("BTCUSDT") == D(1) and report.position_differences == {}
    venue.fill("manual-2", D(2), D(90))  # the rest arrives on the stream: counted once
    assert engine.oms.get_order("manual-2").filled_quantity == D(3)  # type: ignore[union-attr]
    assert engine.oms.positions.quantity("BTCUSDT") == D(3)


async def test_resume_reports_and_journals_a_position_the_orders_do_not_explain(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    await venue.submit_order(OrderRequest("by-hand", "BTCUSDT", OrderSide.SELL, OrderType.MARKET, D(2)))
    engine = make_engine(tmp_path / "j.sqlite", venue)  # filled and done before we ever ran
    report = await engine.resume()
    assert report.position_differences == {"BTCUSDT": (D(0), D(-2))} and not report.clean
    assert engine.oms.positions.quantity("BTCUSDT") == 0  # reported, not taken as our own
    anomalies = [r.payload for r in engine.journal.records(kinds=("anomaly",))]  # type: ignore[union-attr]
    assert [a["kind"] for a in anomalies] == ["position_difference"]
    assert "BTCUSDT" in anomalies[0]["detail"]


async def test_resume_reads_the_balances_again_after_reconciling(tmp_path: Path) -> None:
    venue = ScriptedAdapter()
    first = make_engine(tmp_path / "j.sqlite", venue)
    await first.connect()
    request = market(first, "2")
    first.oms.track(request)  # journaled, never sent: resume sends it

    async def balances() -> list[Balance]:
        spent = sum((f.quantity * f.price for fills in venue.venue_fills.values() for f in fills), D(0))
        return [Balance("USDT", D(1000) - spent)]

    venue.get_balances = balances  # type: ignore[method-assign]
    second = make_engine(tmp_path / "j.sqlite", venue)
    report = await second.resume()
    assert report.resent == (request.client_order_id,)
    assert report.balances == {"USDT": Balance("USDT", D(800))} == second.balances
