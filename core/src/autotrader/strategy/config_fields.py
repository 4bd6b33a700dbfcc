"""Field converters and validators for the strategy configuration.

Converters normalize what people write (``0.02`` -> ``Decimal('0.02')``, ``"1e-3"`` -> a number,
``Kelly`` -> ``kelly``) and pass anything they cannot read through unchanged; validators then judge
the value and raise :class:`ConfigError` naming the dotted key (``position_sizing.base_size_pct``).
Splitting the two keeps every error message in one place and lets the key include the section,
which a converter cannot know.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, cast

import attrs

from autotrader.errors import ConfigError

__all__ = [
    "choice_of",
    "decimal_in",
    "did_you_mean",
    "flag",
    "float_in",
    "is_bool",
    "name_text",
    "number_decimal",
    "number_float",
    "sector_map",
    "valid_sector_map",
    "whole_in",
    "whole_number",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else a list of what is allowed."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(options)})" if options else ""


def _key(instance: Any, attribute: attrs.Attribute[Any]) -> str:
    section: str = getattr(type(instance), "SECTION", "")
    return f"{section}.{attribute.name}" if section else attribute.name


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------- converters


def number_decimal(value: object) -> Decimal:
    """Read a number as Decimal (a float by its shortest repr); leave anything else for the validator."""
    if isinstance(value, bool):
        return cast(Decimal, value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else cast(Decimal, value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return cast(Decimal, value)
    return cast(Decimal, value)


def number_float(value: object) -> float:
    """Read a number as float (probabilities and ratios are statistics, not money)."""
    if isinstance(value, bool):
        return cast(float, value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return cast(float, value)
    return cast(float, value)


def whole_number(value: object) -> int:
    """Read a whole number (``50``, ``"50"``, ``50.0``); ``2.5`` is left for the validator to refuse."""
    if isinstance(value, bool):
        return cast(int, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return cast(int, value)


def flag(value: object) -> bool:
    """Booleans are taken as written; the validator refuses ``"yes"`` (the YAML ``yes`` is already a bool)."""
    return cast(bool, value)


def name_text(value: object) -> str:
    """Names compare case-insensitively: ``Kelly`` is ``kelly``."""
    return value.strip().lower() if isinstance(value, str) else cast(str, value)


def sector_map(value: object) -> Mapping[str, str]:
    """A read-only ``{symbol: sector}``; ``None`` (an empty YAML section) is an empty map."""
    if value is None:
        return MappingProxyType({})
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return cast(Mapping[str, str], value)


# --------------------------------------------------------------------------- validators


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = ("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}")
    right = ("inf" if high is None else f"{high:g}") + (")" if high_open else "]")
    return f"{left}, {right}"


def _in_range(
    number: float | Decimal, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    value = float(number)
    if low is not None and (value < low or (low_open and value == low)):
        return False
    return not (high is not None and (value > high or (high_open and value == high)))


def _ranged(
    expected: type[Any],
    what: str,
    low: float | None,
    high: float | None,
    low_open: bool,
    high_open: bool,
) -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        key = _key(instance, attribute)
        if isinstance(value, (float, Decimal)) and not math.isfinite(value):
            raise ConfigError(key, f"expected a finite number, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ConfigError(key, f"expected {what}, got {_describe(value)}")
        if not _in_range(value, low, high, low_open, high_open):
            raise ConfigError(key, f"must be in {_range_text(low, high, low_open, high_open)}, got {value}")

    return check


def decimal_in(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Validator:
    return _ranged(Decimal, "a number", low, high, low_open, high_open)


def float_in(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Validator:
    return _ranged(float, "a number", low, high, low_open, high_open)


def whole_in(low: int | None = None, high: int | None = None) -> Validator:
    return _ranged(int, "a whole number", low, high, False, False)


def is_bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(_key(instance, attribute), f"expected true or false, got {_describe(value)}")


def choice_of(choices: Iterable[str]) -> Validator:
    allowed = frozenset(choices)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        key = _key(instance, attribute)
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a name, got {_describe(value)}")
        if value not in allowed:
            raise ConfigError(key, f"unknown value {value!r}{did_you_mean(value, allowed)}")

    return check


def valid_sector_map(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    key = _key(instance, attribute)
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"expected a mapping of symbol to sector, got {_describe(value)}")
    for symbol, sector in value.items():
        if not isinstance(symbol, str) or not isinstance(sector, str) or not sector:
            raise ConfigError(f"{key}.{symbol}", f"expected a sector name, got {_describe(sector)}")
