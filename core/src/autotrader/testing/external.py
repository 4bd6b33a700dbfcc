"""Drive a plugin's :class:`~autotrader.testing.harness.ExternalVenue` from synchronous code.

A test that starts, kills and restarts engine processes blocks on those processes; the venue
must keep serving meanwhile.  :func:`venue_thread` enters the plugin's external-venue harness
in an event loop of its own thread (anyio's blocking portal, under asyncio) and hands back a
:class:`VenueThread` whose methods call the venue's control in that loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import anyio.from_thread

from autotrader.plugins import BrokerSpec
from autotrader.testing.harness import ExternalVenue, LedgerOrder, LedgerTrade

__all__ = ["VenueThread", "venue_thread"]


class VenueThread:
    """Blocking access to a running external venue (its loop is another thread's)."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, venue: ExternalVenue) -> None:
        self._portal = portal
        self.venue = venue

    def orders(self) -> list[LedgerOrder]:
        return self._portal.call(self.venue.control.orders)

    def trades(self) -> list[LedgerTrade]:
        return self._portal.call(self.venue.control.trades)

    def set_price(self, symbol: str, price: Decimal) -> None:
        self._portal.call(self.venue.control.set_price, symbol, price)


@contextmanager
def venue_thread(spec: BrokerSpec) -> Iterator[VenueThread]:
    """Start ``spec``'s external venue in a thread; stop it when the block ends."""
    if spec.external_venue is None:
        raise ValueError(f"the {spec.name} plugin offers no external venue")
    with (
        anyio.from_thread.start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(spec.external_venue()) as venue,
    ):
        yield VenueThread(portal, venue)
