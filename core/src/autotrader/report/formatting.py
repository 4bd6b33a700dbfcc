"""Status values as text for the report's tables: money from Decimal, rates as percent, seconds in ms."""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["format_metric", "money", "title_case"]

_MONEY_WORDS = ("commission", "notional", "pnl", "equity", "balance", "fees")


def money(value: Decimal) -> str:
    """Two decimals with thousands separators, straight from the Decimal (no float rounding)."""
    return f"{value:,.2f}"


def title_case(key: str) -> str:
    """``avg_fill_latency_seconds`` -> ``avg fill latency seconds``: keys read as words in a table."""
    return key.replace("_", " ")


def format_metric(key: str, value: object) -> str:
    """One status value as a person reads it; the key decides the unit where the value cannot."""
    name = key.lower()
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        if any(word in name for word in _MONEY_WORDS):
            return money(value)
        return f"{value.normalize():,f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if name.endswith("rate"):
            return f"{value:.1%}"
        if name.endswith("seconds"):
            return f"{value * 1000:,.3f} ms"
        return f"{value:,.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(map(str, value)) or "-"
    return str(value)
