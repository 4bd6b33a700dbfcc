"""Market data of the local TWS: each contract's top of book, and the subscriptions that stream it.

TWS streams level-1 data as ticks: a TICK_PRICE per side (bid 1, ask 2; delayed 66, 67) carrying
its size, and a TICK_SIZE (bid 0, ask 3; delayed 69, 70) when only a size changes.  A side with
no quote is price -1 with size 0.  Each :class:`Subscription` remembers what it last sent, so a
move sends only the sides that changed, as TWS does, and a subscriber first gets both sides.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Final

import attrs

from autotrader_ibkr.tws import messages as m

__all__ = ["NO_QUOTE", "QUOTED_SIZE", "DataType", "Subscription", "TopOfBook"]

NO_QUOTE: Final = Decimal(-1)
"""IB's price of a side nobody quotes (sent with size 0)."""

QUOTED_SIZE: Final = Decimal(100)
"""The size shown on each side when no liquidity cap is set."""

CAN_AUTO_EXECUTE: Final = 1
"""TICK_PRICE attribute bit 0: the quote is executable (a live bid or ask)."""


class DataType(enum.IntEnum):
    """REQ_MARKET_DATA_TYPE / MARKET_DATA_TYPE values."""

    REALTIME = 1
    FROZEN = 2
    DELAYED = 3
    DELAYED_FROZEN = 4

    @property
    def wants_delayed(self) -> bool:
        """Whether the client accepts delayed data where it has no live subscription."""
        return self in (DataType.DELAYED, DataType.DELAYED_FROZEN)


@attrs.frozen
class TopOfBook:
    """One contract's best bid and ask with their sizes (``NO_QUOTE``, 0 for an empty side)."""

    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal

    @classmethod
    def around(cls, last: Decimal | None, tick: Decimal, size: Decimal) -> TopOfBook:
        """One tick either side of the last price; both sides empty without a price or a size."""
        if last is None or size <= 0:
            return cls(NO_QUOTE, Decimal(0), NO_QUOTE, Decimal(0))
        return cls(last - tick, size, last + tick, size)


@attrs.frozen
class _Side:
    price_tick: int
    size_tick: int


_LIVE: Final = (_Side(1, 0), _Side(2, 3))
_DELAYED: Final = (_Side(66, 69), _Side(67, 70))


@attrs.define
class Subscription:
    """One client's REQ_MKT_DATA: what it asked for and what it was last sent."""

    req_id: int
    con_id: int
    delayed: bool = False
    sent: TopOfBook | None = None

    def ticks(self, book: TopOfBook) -> list[m.Message]:
        """TICK_PRICE (+ TICK_SIZE) for each side whose price moved, TICK_SIZE where only its size did."""
        before, self.sent = self.sent, book
        bid_side, ask_side = _DELAYED if self.delayed else _LIVE
        now = ((bid_side, book.bid, book.bid_size), (ask_side, book.ask, book.ask_size))
        was = ((before.bid, before.bid_size), (before.ask, before.ask_size)) if before is not None else None
        out: list[m.Message] = []
        for index, (side, price, size) in enumerate(now):
            if was is not None and was[index][0] == price:
                if was[index][1] != size:
                    out.append(m.tick_size(self.req_id, side.size_tick, size))
                continue
            executable = price != NO_QUOTE and not self.delayed
            attributes = CAN_AUTO_EXECUTE if executable else 0
            out.append(m.tick_price(self.req_id, side.price_tick, price, size, attributes))
            out.append(m.tick_size(self.req_id, side.size_tick, size))
        return out
