"""What a broker can do, by name: the flags the conformance suite gates its tests on.

Kept apart from :mod:`autotrader.adapter` so that plugin discovery (``autotrader brokers``)
imports no event-loop machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from autotrader.errors import UnknownCapability
from autotrader.model import OrderType, TimeInForce

__all__ = ["ALL_BACKENDS", "Capabilities"]

ALL_BACKENDS: Final = frozenset({"asyncio", "trio"})


def _frozen_set(values: Any) -> frozenset[Any]:
    return frozenset(values)


def _pairs(values: Any) -> tuple[tuple[str, str], ...]:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((str(k), str(v)) for k, v in items))


@attrs.frozen
class Capabilities:
    """What an adapter (and its venue) can do.  Conformance tests are gated on these names.

    Flag names are the boolean fields; typed names are ``order_type:<TYPE>``,
    ``time_in_force:<TIF>`` and ``backend:<name>``.
    """

    order_types: frozenset[OrderType] = attrs.field(
        default=frozenset({OrderType.MARKET, OrderType.LIMIT}), converter=_frozen_set
    )
    time_in_force: frozenset[TimeInForce] = attrs.field(
        default=frozenset({TimeInForce.GTC}), converter=_frozen_set
    )
    async_backends: frozenset[str] = attrs.field(default=ALL_BACKENDS, converter=_frozen_set)
    modify: bool = False
    short_selling: bool = False
    streaming: bool = True
    partial_fills: bool = True
    market_data: bool = False
    """Live quotes through :meth:`~autotrader.adapter.BrokerAdapter.quotes`."""
    market_time_in_force: frozenset[TimeInForce] = attrs.field(
        default=frozenset({TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTC}),
        converter=_frozen_set,
    )
    """Time-in-force values a MARKET order may carry (venues differ)."""
    asyncio_only_reason: str = ""
    """Why ``async_backends`` lacks trio, shown to users who try it."""
    absent_reasons: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    """Why the venue lacks a capability (``{"time_in_force:DAY": "spot has no DAY orders"}``): the
    conformance suite states it when it skips a test that needs the capability."""

    def __attrs_post_init__(self) -> None:
        for name, _ in self.absent_reasons:
            if self.has(name):
                raise ValueError(f"capability {name!r} is present, so it has no reason to be absent")

    def reason_absent(self, name: str) -> str:
        """Why the named capability is absent, or ``""`` if no reason was given."""
        return dict(self.absent_reasons).get(name, "")

    @classmethod
    def flag_names(cls) -> frozenset[str]:
        return frozenset(a.name for a in attrs.fields(cls) if a.type in ("bool", bool))

    def has(self, name: str) -> bool:
        """Whether the named capability is present; unknown names raise :class:`UnknownCapability`."""
        kind, _, value = name.partition(":")
        if value:
            if kind == "order_type":
                return _enum_member(OrderType, value, name) in self.order_types
            if kind == "time_in_force":
                return _enum_member(TimeInForce, value, name) in self.time_in_force
            if kind == "backend":
                if value not in ALL_BACKENDS:
                    raise UnknownCapability(name)
                return value in self.async_backends
            raise UnknownCapability(name)
        if name not in self.flag_names():
            raise UnknownCapability(name)
        return bool(getattr(self, name))

    def as_names(self) -> list[str]:
        """Every capability present, by name (for ``autotrader brokers`` and summaries)."""
        names = sorted(n for n in self.flag_names() if getattr(self, n))
        names += sorted(f"order_type:{t.value}" for t in self.order_types)
        names += sorted(f"time_in_force:{t.value}" for t in self.time_in_force)
        names += sorted(f"backend:{b}" for b in self.async_backends)
        return names


def _enum_member(enum_cls: Any, value: str, name: str) -> Any:
    try:
        return enum_cls[value]
    except KeyError:
        raise UnknownCapability(name) from None
