"""Retries, Retry-After, the circuit breaker, the DLQ -- and the rule that prevents duplicate orders."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    CircuitOpenError,
    ErrorAction,
    OrderRejected,
    RateLimited,
    TransientError,
)
from autotrader.hookspecs import hookimpl
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType
from autotrader.plugins import make_plugin_manager
from autotrader.resiliency import CircuitBreaker, CircuitState, ConnectionPool, ResiliencyManager

from .scripted import ScriptedAdapter, ambiguous

pytestmark = pytest.mark.anyio


def limit(coid: str = "c1") -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=Decimal(100))


def manager(adapter: ScriptedAdapter, **kw: object) -> ResiliencyManager:
    settings: dict[str, object] = {"initial_backoff": 0.001, "reconcile_delay": 0.001}
    settings.update(kw)
    return ResiliencyManager(adapter, **settings)  # type: ignore[arg-type]


async def test_transient_errors_are_retried_then_succeed() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.extend([TransientError("refused"), TransientError("refused")])
    outcome = await manager(adapter).submit_order(limit())
    assert outcome.update.status is OrderStatus.ACCEPTED
    assert adapter.submit_calls == 3
    assert len(adapter.venue) == 1


async def test_retries_exhausted_dead_letters_and_raises() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.extend([TransientError("down")] * 4)
    res = manager(adapter)
    with pytest.raises(TransientError):
        await res.submit_order(limit())
    assert adapter.submit_calls == 4  # 1 + max_retries
    assert len(res.dead_letters) == 1
    letter = res.dead_letters.items()[0]
    assert letter.client_order_id == "c1" and letter.attempts == 4 and letter.payload["price"] == "100"


async def test_rate_limit_waits_at_least_retry_after() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(RateLimited("429", retry_after=0.3))
    started = anyio.current_time()
    await manager(adapter).submit_order(limit())
    assert anyio.current_time() - started >= 0.3
    assert len(adapter.venue) == 1


async def test_ban_is_not_retried_and_opens_the_circuit() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(RateLimited("418", retry_after=60, ban=True))
    res = manager(adapter)
    with pytest.raises(RateLimited):
        await res.submit_order(limit())
    assert adapter.submit_calls == 1
    assert res.circuit.state is CircuitState.OPEN


async def test_reject_is_final() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(OrderRejected("insufficient balance", code=-2010))
    res = manager(adapter)
    with pytest.raises(OrderRejected):
        await res.submit_order(limit())
    assert adapter.submit_calls == 1
    assert res.circuit.state is CircuitState.CLOSED and res.circuit.failure_count == 0


async def test_ambiguous_submit_that_reached_the_venue_is_never_resent() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(("accept", ambiguous()))
    outcome = await manager(adapter).submit_order(limit())
    assert outcome.reconciled
    assert outcome.update.status is OrderStatus.ACCEPTED
    assert adapter.submit_calls == 1
    assert len(adapter.venue) == 1


async def test_ambiguous_filled_market_order_is_not_resent() -> None:
    """The Binance/OANDA trap: a filled order's client id is free again; a resend trades twice."""
    adapter = ScriptedAdapter()
    adapter.submit_script.append(("accept", ambiguous()))
    request = OrderRequest("m1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal(1))
    outcome = await manager(adapter).submit_order(request)
    assert outcome.update.status is OrderStatus.FILLED
    assert adapter.submit_calls == 1


async def test_ambiguous_submit_proven_absent_is_resent_once() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(ambiguous())  # lost before the venue saw it
    outcome = await manager(adapter, reconcile_confirmations=2).submit_order(limit())
    assert not outcome.reconciled and outcome.attempts == 2
    assert adapter.submit_calls == 2
    assert adapter.lookup_calls == 2  # absence confirmed twice before the resend
    assert len(adapter.venue) == 1


async def test_ambiguous_submit_with_unreachable_venue_stays_ambiguous() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(("accept", ambiguous()))
    adapter.lookup_script.extend([TransientError("down")] * 10)
    with pytest.raises(AmbiguousOutcome):
        await manager(adapter).submit_order(limit())
    assert adapter.submit_calls == 1


async def test_unmapped_adapter_exception_is_treated_as_ambiguous() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(("accept", OSError("connection reset by peer")))
    outcome = await manager(adapter).submit_order(limit())
    assert outcome.reconciled and adapter.submit_calls == 1


async def test_authentication_error_trips_without_retry() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.append(AuthenticationError("bad signature", code=-1022))
    res = manager(adapter)
    with pytest.raises(AuthenticationError):
        await res.submit_order(limit())
    assert adapter.submit_calls == 1
    with pytest.raises(CircuitOpenError):
        await res.submit_order(limit("c2"))
    assert adapter.submit_calls == 1


async def test_classify_hook_overrides_taxonomy() -> None:
    class Plugin:
        @hookimpl
        def autotrader_classify_error(self, error: BaseException) -> ErrorAction | None:
            return ErrorAction.RETRY if isinstance(error, KeyError) else None

    pm, _ = make_plugin_manager(load_entry_points=False, plugins=[Plugin()])
    adapter = ScriptedAdapter()
    res = manager(adapter, hook=pm.hook)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise KeyError("x")
        return "ok"

    assert await res.call("flaky", flaky, idempotent=False) == "ok"
    assert res.classify(TransientError("x")) is ErrorAction.RETRY


def state(breaker: CircuitBreaker) -> CircuitState:
    """The breaker's state, read afresh (mypy keeps a property narrowed across the calls that
    change it)."""
    return breaker.state


def test_circuit_breaker_cycle() -> None:
    now = [0.0]
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        "b",
        failure_threshold=5,
        recovery_timeout=60,
        clock=lambda: now[0],
        on_change=lambda name, old, new: changes.append((old.value, new.value)),
    )
    for _ in range(4):
        breaker.before_call()
        breaker.record_failure()
    assert state(breaker) is CircuitState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    now[0] = 59.9
    assert state(breaker) is CircuitState.OPEN
    now[0] = 60.0
    assert state(breaker) is CircuitState.HALF_OPEN
    breaker.before_call()
    with pytest.raises(CircuitOpenError):  # one trial at a time
        breaker.before_call()
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN
    now[0] = 120.0
    breaker.before_call()
    breaker.record_success()
    assert state(breaker) is CircuitState.CLOSED
    assert changes == [
        ("CLOSED", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "CLOSED"),
    ]


async def test_stats_dict_has_the_seed_keys() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.extend([TransientError("x")] * 4)
    res = manager(adapter)
    with pytest.raises(TransientError):
        await res.submit_order(limit())
    stats = res.get_failure_stats()
    assert set(stats) == {
        "circuit_state",
        "failure_count",
        "last_failure",
        "recent_failures_5min",
        "dlq_size",
        "total_failures",
    }
    assert stats["total_failures"] == 4 and stats["recent_failures_5min"] == 4 and stats["dlq_size"] == 1


async def test_health_check_records_state() -> None:
    adapter = ScriptedAdapter()
    res = manager(adapter)
    assert await res.health_check() is False  # not connected
    await adapter.connect()
    assert await res.health_check() is True and res.last_health_check is not None


async def test_connection_pool_fails_over_queries() -> None:
    first, second = ScriptedAdapter(), ScriptedAdapter()
    pool = ConnectionPool([first, second], initial_backoff=0.001, max_retries=0)
    assert await pool.connect_all() == {"scripted": True}
    await second.submit_order(limit("only-on-second"))
    first.lookup_script.append(TransientError("down"))
    order = await pool.call("get_order", "only-on-second")
    assert order is not None and order.client_order_id == "only-on-second"
    await first.disconnect()
    assert pool.get().adapter is second


async def test_backoff_follows_the_exponential_schedule() -> None:
    adapter = ScriptedAdapter()
    adapter.submit_script.extend([TransientError("x")] * 3)
    res = ResiliencyManager(adapter, initial_backoff=0.05, backoff_multiplier=2.0)
    started = anyio.current_time()
    outcome = await res.submit_order(limit())
    elapsed = anyio.current_time() - started
    assert outcome.attempts == 4
    assert 0.35 <= elapsed < 1.0  # 0.05 + 0.1 + 0.2, no jitter by default
