"""The four hook groups every autotrader plugin can implement (pluggy project ``autotrader``).

Implement a hook with :data:`autotrader.hookimpl`; names must match these exactly, and the
plugin manager's ``check_pending()`` turns a misspelled ``autotrader_*`` hook into an error
instead of a silent no-op.

Groups:

* **adapter** -- contribute a broker (:func:`autotrader_broker`).
* **oms** -- observe the order book of record (journal, metrics, notifiers).
* **resiliency** -- classify errors, observe the circuit breaker and the dead-letter queue.
* **engine** -- pre-trade checks, decisions, lifecycle and the kill switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from decimal import Decimal

    from autotrader.errors import ErrorAction
    from autotrader.model import Fill, Order, OrderRequest, Position
    from autotrader.plugins import BrokerSpec
    from autotrader.resiliency import DeadLetter
    from autotrader.risk import RiskContext

PROJECT = "autotrader"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- adapter


@hookspec
def autotrader_broker() -> BrokerSpec:  # type: ignore[empty-body]
    """Return the :class:`~autotrader.plugins.BrokerSpec` of the broker this plugin provides."""


# ---------------------------------------------------------------- oms


@hookspec
def autotrader_order_updated(order: Order, previous: Order | None) -> None:
    """An order changed state (``previous`` is ``None`` for a new order)."""


@hookspec
def autotrader_fill(fill: Fill, order: Order) -> None:
    """A new fill was applied (duplicates never reach this hook)."""


@hookspec
def autotrader_position_changed(position: Position) -> None:
    """A position changed because of a fill."""


@hookspec
def autotrader_fills_behind(order: Order, venue_filled: Decimal) -> None:
    """The venue reports ``order`` filled to ``venue_filled``, ahead of the fills the OMS holds.

    The missing fills are on their way (the stream) or will be fetched; the journal keeps this so
    that a crash before they arrive does not forget them, whatever status the order reached.
    """


@hookspec
def autotrader_oms_anomaly(kind: str, detail: str) -> None:
    """The OMS refused something a venue said: an illegal transition, an overfill, an unknown id."""


# ---------------------------------------------------------------- resiliency


@hookspec(firstresult=True)
def autotrader_classify_error(error: BaseException) -> ErrorAction | None:
    """Return RETRY, FAIL or RECONCILE for an error the taxonomy does not cover (first answer wins)."""


@hookspec
def autotrader_circuit_state_changed(name: str, old: str, new: str) -> None:
    """The circuit breaker ``name`` moved between CLOSED, OPEN and HALF_OPEN."""


@hookspec
def autotrader_dead_letter(letter: DeadLetter) -> None:
    """An operation was given up and parked in the dead-letter queue."""


# ---------------------------------------------------------------- engine


@hookspec
def autotrader_pretrade_check(request: OrderRequest, context: RiskContext) -> list[str] | None:
    """Return violations (human-readable reasons) to refuse ``request``; ``None`` or ``[]`` to pass."""


@hookspec
def autotrader_decision(decision: Any, order: Order | None) -> None:
    """The engine acted on a strategy decision (``order`` is ``None`` when nothing was sent)."""


@hookspec
def autotrader_engine_started(engine: Any) -> None:
    """The engine connected and is ready to trade."""


@hookspec
def autotrader_engine_stopped(engine: Any) -> None:
    """The engine stopped (normally or by the kill switch)."""


@hookspec
def autotrader_trading_state_changed(old: str, new: str, reason: str) -> None:
    """Trading state moved between ACTIVE, REDUCING and HALTED."""


@hookspec
def autotrader_kill_switch(engine: Any, reason: str, close_positions: bool) -> None:
    """The kill switch fired (called before orders are cancelled)."""
