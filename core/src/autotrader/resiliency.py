"""Retry with backoff, circuit breaker, dead-letter queue and health -- without duplicate orders.

The rule (DESIGN.md section 5): an operation is retried only when it surely did not execute
(:class:`TransientError`, :class:`RateLimited`) or when it is idempotent (queries, cancels).  A
submit that ends in :class:`AmbiguousOutcome` is *reconciled*: the venue is asked for the order by
its client order id, and the order is sent again only once the venue has twice confirmed, a
``reconcile_delay`` apart, that it has no such order.

Retries and backoff are :mod:`stamina`'s (works under asyncio and trio); Retry-After is honoured
through stamina's backoff hook.
"""

from __future__ import annotations

import collections
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

import anyio
import attrs
import stamina

from autotrader.adapter import BrokerAdapter
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    AutotraderError,
    CircuitOpenError,
    ErrorAction,
    RateLimited,
    TransientError,
)
from autotrader.frozen import positional_constructor
from autotrader.model import ModifyRequest, Order, OrderRequest, OrderUpdate, converter

__all__ = [
    "CircuitBreaker",
    "CircuitState",
    "ConnectionPool",
    "DeadLetter",
    "DeadLetterQueue",
    "FailureRecord",
    "ResiliencyManager",
    "SubmitOutcome",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

_FIVE_MINUTES: Final = 300.0


class CircuitState(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"

    # Identity hashing, as the model's enums: the engine looks a state up once per order, and
    # Enum's own __hash__ is a Python call.
    __hash__ = object.__hash__


# Members bound once (see autotrader.model._BUY): the engine reads the breaker's state for
# every order, and ``CircuitState.OPEN`` inside the property was half its cost (callgrind).
_CLOSED: Final = CircuitState.CLOSED
_OPEN: Final = CircuitState.OPEN
_HALF_OPEN: Final = CircuitState.HALF_OPEN


class CircuitBreaker:
    """CLOSED -> OPEN after ``failure_threshold`` consecutive failures -> HALF_OPEN after
    ``recovery_timeout`` seconds -> CLOSED on the first success (OPEN again on a failure).

    In HALF_OPEN a single trial call is let through at a time.
    """

    def __init__(
        self,
        name: str = "broker",
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState, CircuitState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self._clock = clock
        self._on_change = on_change
        self._state = _CLOSED
        self._opened_at = 0.0
        self._consecutive_failures = 0
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        if self._state is _OPEN and self._clock() - self._opened_at >= self.recovery_timeout:
            self._set(_HALF_OPEN)
        return self._state

    @property
    def failure_count(self) -> int:
        return self._consecutive_failures

    def before_call(self) -> None:
        """Raise :class:`CircuitOpenError` unless a call may go to the venue now."""
        state = self.state
        if state is _OPEN:
            raise CircuitOpenError(
                f"circuit {self.name!r} is open after {self._consecutive_failures} failures",
                retry_at=self._opened_at + self.recovery_timeout,
            )
        if state is _HALF_OPEN:
            if self._trial_in_flight:
                raise CircuitOpenError(f"circuit {self.name!r} is half-open with a trial in flight")
            self._trial_in_flight = True

    def record_success(self) -> None:
        self._trial_in_flight = False
        self._consecutive_failures = 0
        if self._state is not _CLOSED:
            self._set(_CLOSED)

    def record_failure(self) -> None:
        self._trial_in_flight = False
        self._consecutive_failures += 1
        if self._state is _HALF_OPEN or self._consecutive_failures >= self.failure_threshold:
            self.trip()

    def release(self) -> None:
        """A call ended without telling anything about the venue's health."""
        self._trial_in_flight = False

    def trip(self) -> None:
        """Open now (bad credentials, an IP ban, or too many failures)."""
        self._opened_at = self._clock()
        if self._state is not _OPEN:
            self._set(_OPEN)

    def reset(self) -> None:
        self._consecutive_failures = 0
        self._trial_in_flight = False
        if self._state is not _CLOSED:
            self._set(_CLOSED)

    def _set(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        log.warning("circuit %s: %s -> %s", self.name, old.value, new.value)
        if self._on_change is not None:
            self._on_change(self.name, old, new)


@attrs.frozen
class DeadLetter:
    """An operation that was given up, with everything needed to act on it by hand."""

    operation: str
    payload: dict[str, Any]
    error_type: str
    error: str
    attempts: int
    client_order_id: str | None = None
    timestamp: float = attrs.field(factory=time.time)


class DeadLetterQueue:
    """Bounded in memory (the journal keeps every letter durably); never silently drops a count."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._letters: collections.deque[DeadLetter] = collections.deque(maxlen=maxlen)
        self.total = 0

    def put(self, letter: DeadLetter) -> None:
        self._letters.append(letter)
        self.total += 1

    def drain(self) -> list[DeadLetter]:
        letters = list(self._letters)
        self._letters.clear()
        return letters

    def items(self) -> list[DeadLetter]:
        return list(self._letters)

    def __len__(self) -> int:
        return len(self._letters)


@attrs.frozen
class FailureRecord:
    timestamp: float
    operation: str
    error_type: str
    message: str


@attrs.frozen(weakref_slot=False)
class SubmitOutcome:
    """The venue's ack for a submit; ``reconciled`` when it came from a lookup after an ambiguity."""

    update: OrderUpdate
    reconciled: bool = False
    attempts: int = 1


_new_submit_outcome: Final = positional_constructor(SubmitOutcome)


class _ConfirmedAbsent(TransientError):
    """Reconciliation proved the venue never got the order: resending is safe."""


def _update_from_order(order: Order, venue: str) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order.client_order_id,
        status=order.status,
        venue=venue,
        venue_order_id=order.venue_order_id,
        filled_quantity=order.filled_quantity,
        average_price=order.average_fill_price,
        reason=order.reason,
    )


class ResiliencyManager:
    """Wraps an adapter's calls with retries, a circuit breaker, a DLQ and health checks.

    Parameters and defaults are the seed API's.  ``max_retries=0`` gives a pass-through that
    still reconciles ambiguous submits (used when ``enable_resiliency`` is off).
    """

    def __init__(
        self,
        adapter: BrokerAdapter,
        max_retries: int = 3,
        initial_backoff: float = 1.0,
        backoff_multiplier: float = 2.0,
        circuit_breaker_threshold: int = 5,
        circuit_breaker_timeout: float = 60.0,
        *,
        max_backoff: float = 30.0,
        backoff_jitter: float = 0.0,
        health_check_interval: float = 30.0,
        reconcile_delay: float = 0.25,
        reconcile_confirmations: int = 2,
        dead_letter_maxlen: int = 10_000,
        failure_history: int = 1_000,
        hook: Any = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.adapter = adapter
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.backoff_multiplier = backoff_multiplier
        self.max_backoff = max_backoff
        self.backoff_jitter = backoff_jitter
        self.health_check_interval = health_check_interval
        self.reconcile_delay = reconcile_delay
        self.reconcile_confirmations = max(1, reconcile_confirmations)
        self._hook = hook
        self._wall_clock = wall_clock
        self.circuit = CircuitBreaker(
            adapter.name,
            failure_threshold=circuit_breaker_threshold,
            recovery_timeout=circuit_breaker_timeout,
            clock=clock,
            on_change=self._circuit_changed,
        )
        self.dead_letters = DeadLetterQueue(dead_letter_maxlen)
        self._failures: collections.deque[FailureRecord] = collections.deque(maxlen=failure_history)
        self.total_failures = 0
        self.healthy: bool | None = None
        self.last_health_check: float | None = None

    # ------------------------------------------------------------------ classification
    def classify(self, error: BaseException) -> ErrorAction:
        """The hook's answer if a plugin gives one, else the taxonomy's."""
        if self._hook is not None:
            answer = self._hook.autotrader_classify_error(error=error)
            if answer is not None:
                return ErrorAction(answer)
        if isinstance(error, AutotraderError):
            return error.action
        # An exception the adapter failed to map: we cannot know whether it executed.
        return ErrorAction.RECONCILE

    # ------------------------------------------------------------------ generic calls
    async def call(
        self,
        operation: str,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        idempotent: bool = True,
        dead_letter: bool = False,
    ) -> T:
        """Call ``fn(*args)`` through the breaker, retrying what may be retried.

        Idempotent operations (queries, cancels) are also retried after an ambiguous outcome.
        """
        attempts = 0

        async def attempt() -> T:
            nonlocal attempts
            attempts += 1
            return await self._guarded(operation, fn, *args)

        try:
            return await self._with_retries(attempt, idempotent=idempotent)
        except Exception as exc:
            if dead_letter and self.classify(exc) is not ErrorAction.FAIL:
                self._dead_letter(operation, {"args": [str(a) for a in args]}, exc, attempts)
            raise

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """Run ``attempt``; only if it fails with something retryable, hand over to stamina.

        The first attempt runs bare because it almost always succeeds: building stamina's retry
        state costs more than the order path itself (measured: about a third of a paper round
        trip).  The retries then follow the same exponential schedule as if stamina ran them all.
        """
        try:
            return await attempt()
        except Exception as exc:
            verdict = self._retry_verdict(exc, idempotent=idempotent)
            if verdict is False or self.max_retries == 0:
                raise
            await anyio.sleep(verdict if verdict is not True else self.initial_backoff)
        async for retry in stamina.retry_context(
            on=lambda error: self._retry_verdict(error, idempotent=idempotent),
            attempts=self.max_retries,
            timeout=None,
            wait_initial=self.initial_backoff * self.backoff_multiplier,
            wait_max=self.max_backoff,
            wait_jitter=self.backoff_jitter,
            wait_exp_base=self.backoff_multiplier,
        ):
            with retry:
                return await attempt()
        raise AssertionError("unreachable: stamina runs at least one attempt")  # pragma: no cover

    async def _guarded(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        circuit = self.circuit
        # A closed breaker with a clean record needs no bookkeeping around the call: the test
        # spares two method calls on every order (what before_call / record_success would
        # conclude for that state).
        clean = circuit._state is _CLOSED and not circuit._consecutive_failures
        if not clean:
            circuit.before_call()
        try:
            result = await fn(*args)
        except BaseException as exc:
            self._record(operation, exc)
            raise
        if not clean or circuit._state is not _CLOSED or circuit._consecutive_failures:
            circuit.record_success()
        return result

    def _retry_verdict(self, error: Exception, *, idempotent: bool) -> bool | float:
        """stamina's ``on`` hook: False (give up), True (back off) or a delay (Retry-After)."""
        if isinstance(error, CircuitOpenError | AuthenticationError):
            return False
        if isinstance(error, RateLimited):
            if error.ban:
                return False
            return max(error.retry_after or 0.0, self.initial_backoff)
        action = self.classify(error)
        if action is ErrorAction.RETRY:
            return True
        return idempotent and action is ErrorAction.RECONCILE

    def _record(self, operation: str, error: BaseException) -> None:
        if isinstance(error, AuthenticationError) or (isinstance(error, RateLimited) and error.ban):
            self._note_failure(operation, error)
            self.circuit.trip()
        elif isinstance(error, TransientError | AmbiguousOutcome | RateLimited):
            self._note_failure(operation, error)
            self.circuit.record_failure()
        elif isinstance(error, AutotraderError) or not isinstance(error, Exception):
            # A business answer (reject, not found, invalid) or a cancellation: the venue is fine.
            self.circuit.release()
        else:
            self._note_failure(operation, error)
            self.circuit.record_failure()

    def _note_failure(self, operation: str, error: BaseException) -> None:
        self.total_failures += 1
        self._failures.append(FailureRecord(self._wall_clock(), operation, type(error).__name__, str(error)))

    # ------------------------------------------------------------------ order operations
    async def submit_order(self, request: OrderRequest) -> SubmitOutcome:
        """Send a new order; never sends it twice unless the venue proved it lacks the first.

        Raises the venue's final error (e.g. :class:`OrderRejected`), or
        :class:`AmbiguousOutcome` if the order's fate could not be established (the OMS keeps
        it as UNKNOWN and reconciles later).
        """
        # The first attempt is made here, bare, because it almost always succeeds: the closure
        # and the two coroutines of the recovery path were built for every order.
        try:
            update = await self._guarded("submit_order", self.adapter.submit_order, request)
        except Exception as exc:
            first_error = exc
        else:
            return _new_submit_outcome(update, False, 1)
        return await self._submit_recovering(request, first_error)

    async def _submit_recovering(self, request: OrderRequest, first_error: Exception) -> SubmitOutcome:
        """:meth:`submit_order` after its first attempt raised ``first_error``: reconcile an
        ambiguous outcome, retry what surely did not execute, dead-letter what is given up."""
        attempts = 0

        async def attempt() -> SubmitOutcome:
            nonlocal attempts
            attempts += 1
            try:
                if attempts == 1:
                    raise first_error  # the first attempt's outcome, handled as any attempt's
                update = await self._guarded("submit_order", self.adapter.submit_order, request)
                return _new_submit_outcome(update, False, attempts)
            except Exception as exc:
                if self.classify(exc) is not ErrorAction.RECONCILE:
                    raise
                found = await self.lookup(request.client_order_id)
                if found is not None:
                    return SubmitOutcome(
                        _update_from_order(found, self.adapter.name), reconciled=True, attempts=attempts
                    )
                raise _ConfirmedAbsent(
                    f"{request.client_order_id}: the venue confirmed it has no such order"
                ) from exc

        try:
            return await self._with_retries(attempt, idempotent=False)
        except _ConfirmedAbsent as exc:
            self._dead_letter("submit_order", converter.unstructure(request), exc, attempts, request)
            raise TransientError(str(exc)) from exc
        except AmbiguousOutcome:
            raise
        except Exception as exc:
            if self.classify(exc) is ErrorAction.RETRY or isinstance(exc, CircuitOpenError):
                self._dead_letter("submit_order", converter.unstructure(request), exc, attempts, request)
            raise

    async def lookup(self, client_order_id: str) -> Order | None:
        """Ask the venue for the order; ``None`` only after it said so ``reconcile_confirmations`` times.

        Raises :class:`AmbiguousOutcome` when the venue cannot be asked.
        """
        for check in range(self.reconcile_confirmations):
            if check or self.reconcile_delay:
                await anyio.sleep(self.reconcile_delay)
            try:
                order = await self.call("get_order", self.adapter.get_order, client_order_id)
            except CircuitOpenError:
                raise
            except Exception as exc:
                raise AmbiguousOutcome(
                    f"{client_order_id}: outcome unknown and the venue could not be asked: {exc}"
                ) from exc
            if order is not None:
                return order
        return None

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        return await self.call("cancel_order", self.adapter.cancel_order, client_order_id, dead_letter=True)

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        return await self.call(
            "modify_order", self.adapter.modify_order, request, idempotent=False, dead_letter=True
        )

    async def get_order(self, client_order_id: str) -> Order | None:
        return await self.call("get_order", self.adapter.get_order, client_order_id)

    # ------------------------------------------------------------------ dead letters
    def _dead_letter(
        self,
        operation: str,
        payload: dict[str, Any],
        error: BaseException,
        attempts: int,
        request: OrderRequest | None = None,
    ) -> None:
        letter = DeadLetter(
            operation=operation,
            payload=payload,
            error_type=type(error).__name__,
            error=str(error),
            attempts=attempts,
            client_order_id=request.client_order_id if request is not None else None,
            timestamp=self._wall_clock(),
        )
        self.dead_letters.put(letter)
        log.error("dead letter: %s failed after %d attempts: %s", operation, attempts, error)
        if self._hook is not None:
            self._hook.autotrader_dead_letter(letter=letter)

    # ------------------------------------------------------------------ health
    async def health_check(self) -> bool:
        try:
            ok = await self._guarded("health_check", self.adapter.health_check)
        except CircuitOpenError:
            ok = False
        except Exception as exc:
            log.warning("health check of %s failed: %s", self.adapter.name, exc)
            ok = False
        self.healthy = ok
        self.last_health_check = self._wall_clock()
        return ok

    async def monitor_health(self) -> None:
        """Check health every ``health_check_interval`` seconds until cancelled."""
        while True:
            await self.health_check()
            await anyio.sleep(self.health_check_interval)

    def _circuit_changed(self, name: str, old: CircuitState, new: CircuitState) -> None:
        if self._hook is not None:
            self._hook.autotrader_circuit_state_changed(name=name, old=old.value, new=new.value)

    # ------------------------------------------------------------------ stats
    def recent_failures(self, window: float = _FIVE_MINUTES) -> list[FailureRecord]:
        since = self._wall_clock() - window
        return [f for f in self._failures if f.timestamp >= since]

    def get_failure_stats(self) -> dict[str, Any]:
        """The seed's stats dict."""
        last = self._failures[-1] if self._failures else None
        return {
            "circuit_state": self.circuit.state.value,
            "failure_count": self.circuit.failure_count,
            "last_failure": last.timestamp if last else None,
            "recent_failures_5min": len(self.recent_failures()),
            "dlq_size": len(self.dead_letters),
            "total_failures": self.total_failures,
        }

    get_stats = get_failure_stats


class ConnectionPool:
    """Several adapters (e.g. redundant gateways) behind one interface, each with its own breaker.

    Queries fail over to the next healthy adapter; a submit goes to one adapter only (failing
    over a submit whose outcome is unknown could duplicate the order).
    """

    def __init__(self, adapters: Sequence[BrokerAdapter], **resiliency: Any) -> None:
        if not adapters:
            raise ValueError("a ConnectionPool needs at least one adapter")
        self.managers = [ResiliencyManager(a, **resiliency) for a in adapters]
        self._next = 0

    async def connect_all(self) -> dict[str, bool]:
        results = {}
        for manager in self.managers:
            try:
                results[manager.adapter.name] = await manager.call("connect", manager.adapter.connect)
            except Exception as exc:
                log.error("pool: %s failed to connect: %s", manager.adapter.name, exc)
                results[manager.adapter.name] = False
        return results

    async def disconnect_all(self) -> None:
        for manager in self.managers:
            await manager.adapter.disconnect()

    def healthy(self) -> list[ResiliencyManager]:
        return [
            m
            for m in self.managers
            if m.adapter.is_connected and m.circuit.state is not CircuitState.OPEN and m.healthy is not False
        ]

    def get(self) -> ResiliencyManager:
        """The next healthy member, round robin; :class:`CircuitOpenError` if there is none."""
        candidates = self.healthy()
        if not candidates:
            raise CircuitOpenError("no healthy adapter in the pool")
        manager = candidates[self._next % len(candidates)]
        self._next += 1
        return manager

    async def call(self, method: str, *args: Any) -> Any:
        """Call an idempotent adapter method, failing over across healthy members."""
        errors: list[BaseException] = []
        for manager in self.healthy() or self.managers:
            try:
                return await manager.call(method, getattr(manager.adapter, method), *args)
            except (TransientError, CircuitOpenError, AmbiguousOutcome, RateLimited) as exc:
                errors.append(exc)
        raise CircuitOpenError(f"every pool member failed {method}: {errors}")

    async def submit_order(self, request: OrderRequest) -> SubmitOutcome:
        return await self.get().submit_order(request)

    async def health_check_all(self) -> dict[str, bool]:
        return {m.adapter.name: await m.health_check() for m in self.managers}

    def get_stats(self) -> dict[str, dict[str, Any]]:
        return {m.adapter.name: m.get_failure_stats() for m in self.managers}
