"""Settings of the paper broker (the seed API's ``PaperTradingAdapter`` arguments, validated).

Numbers people type (``slippage_bps=5.0``) are taken by their decimal repr, never through
binary floating point: ``decimal_from_user(0.1) == Decimal("0.1")``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from autotrader.errors import ConfigError
from autotrader.model import decimal_from_user

__all__ = ["PaperConfig"]


def _decimal(value: object) -> Decimal:
    return decimal_from_user(value, "paper setting")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < 0:
        raise ConfigError(f"paper.{attribute.name}", f"must not be negative, got {value}")


def _latency(value: object) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ConfigError(
            "paper.latency_ms", f"expected (low, high) in milliseconds, got {value!r}"
        ) from None
    if low < 0 or high < low:
        raise ConfigError("paper.latency_ms", f"expected 0 <= low <= high, got {value!r}")
    return low, high


def _optional_path(value: object) -> Path | None:
    return None if value is None or value == "" else Path(str(value))


def _probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError("paper.fill_probability", f"must be within [0, 1], got {value!r}")


@attrs.frozen
class PaperConfig:
    initial_balance: Decimal = attrs.field(
        default=Decimal(100_000), converter=_decimal, validator=_non_negative
    )
    latency_ms: tuple[float, float] = attrs.field(default=(10.0, 50.0), converter=_latency)
    """Each request sleeps uniformly within this range; ``(0, 0)`` never sleeps at all."""
    slippage_bps: Decimal = attrs.field(default=Decimal("5.0"), converter=_decimal, validator=_non_negative)
    """Against the taker, on market orders and triggered stops."""
    commission_bps: Decimal = attrs.field(
        default=Decimal("10.0"), converter=_decimal, validator=_non_negative
    )
    """Of each trade's notional, charged in the settlement currency."""
    fill_probability: float = attrs.field(default=0.95, converter=float, validator=_probability)
    """Chance that a crossed resting limit fills on a price event."""
    seed: int | None = None
    """Seeds latency and fill draws: the same seed and inputs give the same run."""
    currency: str = "USD"
    reconnect_delay: float = attrs.field(default=0.2, converter=float, validator=_non_negative)
    """After a dropped stream, how long before the adapter re-subscribes and reconciles."""
    request_timeout: float = attrs.field(default=2.0, converter=float, validator=_non_negative)
    """How long an unanswered request waits (only when latency is simulated) before it is ambiguous."""
    session_id: str | None = None
    """Prefix of venue order and trade ids; random by default so that restarts never reuse an id."""
    history: int = attrs.field(default=100_000, converter=int, validator=attrs.validators.ge(0))
    """Closed orders the venue keeps (with their fills) for lookups; older ones are forgotten in
    memory (a state file keeps them all), so a long session's memory stays bounded."""
    state_file: Path | None = attrs.field(default=None, converter=_optional_path)
    """Keep the venue's books in this SQLite file, committed before the venue answers, so that
    they survive the process (``kill -9`` included) and ``--resume`` meets the venue it left.  An
    existing file wins over ``initial_balance`` and ``session_id``; one process owns it at a time.
    ``None``: the venue lives and dies with the adapter."""
