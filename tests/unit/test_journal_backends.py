"""One contract for every journal backend: SQLite always, PostgreSQL on a real server.

The PostgreSQL server comes from ``scripts/postgres-for-tests.sh`` (``.ci/run`` starts it and
exports ``AUTOTRADER_TEST_POSTGRES_URL``).  Under CI the URL must be there: a missing server
fails the run instead of skipping quietly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.journal import BufferedJournal, open_journal
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType
from autotrader.risk import RiskLimits
from autotrader.testing.support import IdleStrategy

from .scripted import ScriptedAdapter

POSTGRES_URL = os.environ.get("AUTOTRADER_TEST_POSTGRES_URL")


def _postgres_url(engine: str) -> str:
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("AUTOTRADER_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip(
            "no PostgreSQL: run scripts/postgres-for-tests.sh and export AUTOTRADER_TEST_POSTGRES_URL"
        )
    return f"{POSTGRES_URL}?engine={engine}"


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.sqlite'}"
    else:
        yield _postgres_url(f"test-{uuid.uuid4().hex[:12]}")


def test_round_trip_and_batching(journal_url: str) -> None:
    journal = open_journal(journal_url, max_delay=3600)
    assert isinstance(journal, BufferedJournal)
    journal.append("fill", {"n": 1, "price": "1.5"}, "c1", durable=False)
    journal.append("order", {"n": 2}, "c1")
    journal.append("fill", {"n": 3}, durable=False)
    records = list(journal.records())  # reading flushes
    assert [(r.kind, r.client_order_id, r.payload["n"]) for r in records] == [
        ("fill", "c1", 1),
        ("order", "c1", 2),
        ("fill", None, 3),
    ]
    assert [r.payload["n"] for r in journal.records(since=records[0].seq)] == [2, 3]
    assert [r.payload["n"] for r in journal.records(kinds=("order",))] == [2]
    journal.close()
    again = open_journal(journal_url)
    assert len(list(again.records())) == 3
    again.close()


def test_engines_sharing_a_database_keep_their_own_streams() -> None:
    first = open_journal(_postgres_url(f"a-{uuid.uuid4().hex[:8]}"))
    second = open_journal(_postgres_url(f"b-{uuid.uuid4().hex[:8]}"))
    first.append("order", {"who": "a"})
    second.append("order", {"who": "b"})
    assert [r.payload["who"] for r in first.records()] == ["a"]
    assert [r.payload["who"] for r in second.records()] == ["b"]
    first.close()
    second.close()


@pytest.mark.anyio
async def test_recovery_through_each_backend(journal_url: str, anyio_backend: str) -> None:
    venue = ScriptedAdapter()
    config = ExecutionConfig(initial_backoff=0.001, risk=RiskLimits(price_band_pct=None))
    first = ExecutionEngine(IdleStrategy(), venue, config, journal=journal_url)
    await first.connect()
    request = OrderRequest(
        first.oms.new_client_order_id(), "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal(1)
    )
    first.oms.track(request)  # the process dies right after the intent is journaled
    venue._listeners = ()
    second = ExecutionEngine(IdleStrategy(), venue, config, journal=journal_url)
    report = await second.resume()
    assert report.resent == (request.client_order_id,)
    assert second.oms.get_order(request.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert venue.submit_calls == 1
