"""A running (or stopped) engine's status, read from its journal alone.

``autotrader status --journal state.sqlite`` needs neither a status file nor a metrics port: the
journal already holds every order snapshot, fill and dead letter, in order, and SQLite's WAL
lets this reader run beside the engine that writes it.  The status is folded from those events
(:func:`autotrader.journal.load_state`), so it shows what is durable: at most the last few
milliseconds of acknowledgements and fills that the engine has not yet flushed are missing.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from autotrader.errors import ConfigError
from autotrader.journal import RecoveredState, load_state, open_journal
from autotrader.model import OrderStatus

__all__ = ["journal_status", "status_from_state"]

ZERO = Decimal(0)


def journal_status(url: str | Path) -> dict[str, Any]:
    """The status dict of the engine whose journal is at ``url`` (a path or a journal URL).

    A path that does not exist is an error: opening it would create an empty journal and report
    an engine that never ran.
    """
    text = str(url)
    if "://" not in text or text.startswith("sqlite:///"):
        path = Path(text.removeprefix("sqlite:///"))
        if not path.is_file():
            raise ConfigError("journal", f"{path} does not exist (give the file a run wrote with --journal)")
    journal = open_journal(url)
    try:
        state = load_state(journal)
    finally:
        journal.close()
    return {"source": "journal", "journal": text, **status_from_state(state)}


def status_from_state(state: RecoveredState) -> dict[str, Any]:
    """The seed's status sections that a journal can tell: OMS metrics, positions, DLQ size."""
    statuses = Counter(order.status for order in state.orders.values())
    total = len(state.orders)
    filled = statuses[OrderStatus.FILLED]
    open_orders = sorted(coid for coid, order in state.orders.items() if not order.status.is_terminal)
    positions = {symbol: p.quantity for symbol, p in state.positions.items() if p.quantity != 0}
    return {
        "trading_state": state.trading_state or "ACTIVE",
        "last_event_seq": state.last_seq,
        "oms": {
            "total_orders": total,
            "filled_orders": filled,
            "cancelled_orders": statuses[OrderStatus.CANCELLED],
            "rejected_orders": statuses[OrderStatus.REJECTED],
            "fill_rate": filled / total if total else 0.0,
            "total_filled_notional": sum((f.notional for f in state.fills), ZERO),
            "total_commission": sum((f.commission for f in state.fills), ZERO),
            "open_orders": len(open_orders),
            "total_fills": len(state.fills),
            "unknown_orders": statuses[OrderStatus.UNKNOWN],
        },
        "resiliency": {"dlq_size": len(state.dead_letters)},
        "open_order_ids": open_orders,
        "positions": positions,
        "realized_pnl": sum((p.realized_pnl for p in state.positions.values()), ZERO),
    }
