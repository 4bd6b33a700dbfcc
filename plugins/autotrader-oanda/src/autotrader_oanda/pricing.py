"""The pricing stream in its own thread: live quotes for :meth:`OandaAdapter.quotes`.

oandapyV20's ``PricingStream`` is a blocking generator, so it runs in a thread of its own, like
the transaction feed.  Prices are state, not events: nothing is backfilled after a reconnect,
because the stream starts with the current price of every instrument.  Silence longer than the
read timeout (heartbeats come every 5 s), a torn line, a dropped connection or a 5xx lead to a
reconnect with exponential backoff; an answer that will not change by retrying (401, 403, 400)
ends the feed with the mapped error, which the reader of the quotes sees.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from autotrader.model import Quote
from oandapyV20.endpoints.pricing import PricingStream
from oandapyV20.exceptions import V20Error

from autotrader_oanda.client import V20Client
from autotrader_oanda.errors import map_v20_error
from autotrader_oanda.feedthread import FeedStopped, FeedThread
from autotrader_oanda.mapping import parse_time

__all__ = ["PriceFeed", "quote_from_wire"]

VENUE = "oanda"


def quote_from_wire(message: dict[str, Any]) -> Quote | None:
    """A v20 ``ClientPrice`` as a :class:`Quote`; ``None`` for a heartbeat or an empty book side."""
    if message.get("type") != "PRICE":
        return None
    bids, asks = message.get("bids") or [], message.get("asks") or []
    if not bids or not asks:  # a halted or closed market may publish an empty side
        return None
    return Quote(
        symbol=str(message["instrument"]),
        bid=Decimal(str(bids[0]["price"])),
        ask=Decimal(str(asks[0]["price"])),
        venue=VENUE,
        timestamp=parse_time(message.get("time")),
    )


class PriceFeed(FeedThread):
    """Streams prices of ``instruments`` and calls ``deliver`` (from this thread) with each quote."""

    name = "oanda-pricing"

    def __init__(
        self,
        client: V20Client,
        account_id: str,
        instruments: tuple[str, ...],
        *,
        deliver: Callable[[Quote], None],
        fail: Callable[[BaseException], None],
        read_timeout: float,
        reconnect_initial: float,
        reconnect_max: float,
    ) -> None:
        super().__init__(
            client,
            read_timeout=read_timeout,
            reconnect_initial=reconnect_initial,
            reconnect_max=reconnect_max,
        )
        self.account_id = account_id
        self.instruments = instruments
        self._deliver = deliver
        self._fail = fail
        self.connects = 0

    def _give_up(self, error: Exception) -> bool:
        if not isinstance(error, V20Error) or not _final(int(error.code)):
            return False
        self._fail(
            map_v20_error(
                error, what="GET pricing/stream", mutating=False, retry_after=None, default_retry_after=1.0
            )
        )
        return True

    def _session(self, api: Any) -> None:
        endpoint = PricingStream(self.account_id, params={"instruments": ",".join(self.instruments)})
        first = True
        for message in api.request(endpoint):
            if self._stop.is_set():
                raise FeedStopped
            if first:
                first = False
                self.connects += 1
            quote = quote_from_wire(message)
            if quote is not None:
                try:
                    self._deliver(quote)
                except Exception as exc:  # the event loop is gone: nobody reads the quotes
                    raise FeedStopped from exc


def _final(status: int) -> bool:
    """HTTP answers that a reconnect cannot cure: a bad token, no such account, a bad request.

    429 (slow down) and 5xx (the venue's trouble) are retried with the backoff.
    """
    return 400 <= status < 500 and status != 429
