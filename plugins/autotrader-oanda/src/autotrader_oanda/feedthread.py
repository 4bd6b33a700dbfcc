"""A v20 stream in a thread of its own that reconnects with exponential backoff until stopped.

oandapyV20's streams are blocking generators, so each stream (transactions, pricing) runs in a
daemon thread.  Subclasses say what one connected session does (:meth:`FeedThread._session`);
this class owns the thread, the API object of each attempt, the backoff, and stopping.

oandapyV20 reads a stream 60 bytes at a time (``ITER_LINES_CHUNKSIZE``, a module constant like
its ``TRADING_ENVIRONMENTS``).  v20 streams use HTTP/1.1 chunked transfer coding, and urllib3
hands over each chunk as soon as it has arrived, whatever the read size asks for: the size
bounds the work per read, not the latency.  At 60 bytes, a 1.3 KB ORDER_FILL took ~22 passes
through requests' and urllib3's generators; callgrind counted 436k instructions per order in
the transaction thread, 196k at 16 KiB, work that competes for the GIL with the REST answer of
the same order.  (A stream without chunked coding, say behind an HTTP/1.0 proxy, holds a line
back until the read size fills: at 60 bytes until the next line arrived, at 16 KiB until the
read timeout reconnects and backfills.)
"""

from __future__ import annotations

import abc
import logging
import threading
from typing import Final

from oandapyV20 import API
from oandapyV20 import oandapyV20 as v20

from autotrader_oanda.client import V20Client

log = logging.getLogger(__name__)

STREAM_READ_SIZE: Final = 16_384
"""Bytes oandapyV20 asks for per read of a stream (its default is 60; a larger setting stays)."""


class FeedStopped(Exception):
    """The consumer is gone (stopped, or its event loop ended): the feed thread exits."""


class FeedThread(abc.ABC):
    """Run :meth:`_session` in a thread, reconnecting after every failure until :meth:`stop`."""

    name = "oanda-feed"

    def __init__(
        self, client: V20Client, *, read_timeout: float, reconnect_initial: float, reconnect_max: float
    ) -> None:
        self.client = client
        self.read_timeout = read_timeout
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        v20.ITER_LINES_CHUNKSIZE = max(v20.ITER_LINES_CHUNKSIZE, STREAM_READ_SIZE)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @abc.abstractmethod
    def _session(self, api: API) -> None:
        """One connected stream, until it ends or fails; raise :class:`FeedStopped` to exit."""

    def _give_up(self, error: Exception) -> bool:
        """Whether ``error`` ends the feed for good (default: every failure means reconnect)."""
        return False

    def _disconnected(self) -> None:
        """Called after each session, however it ended (default: nothing to undo)."""
        return None

    def _run(self) -> None:
        delay = self.reconnect_initial
        while not self._stop.is_set():
            api = self.client.new_api(self.read_timeout)
            try:
                self._session(api)
                delay = self.reconnect_initial  # the stream ended after working: retry promptly
            except FeedStopped:
                return
            except Exception as exc:
                if self._give_up(exc):
                    return
                log.info("%s: %s: %s; reconnecting", self.name, type(exc).__name__, exc)
            finally:
                self._disconnected()
                self.client.release(api)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.reconnect_max)
