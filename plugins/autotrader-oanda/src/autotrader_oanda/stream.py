"""The transaction stream in its own thread: heartbeats, reconnects, and gap-free backfill.

The feed hands transactions to its ``deliver`` callback strictly in id order, each exactly once:

* a transaction whose id is not above the last one delivered is a repeat and is dropped;
* a jump in ids (or a HEARTBEAT whose ``lastTransactionID`` is ahead) means events were lost or
  reordered: ``transactions/sinceid`` from the last delivered id fills the gap;
* after every (re)connect, the same backfill picks up what happened while the stream was down;
* silence longer than the read timeout (the heartbeat gap plus margin), a torn line, an error
  or the end of the stream all lead to a reconnect with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from oandapyV20 import API
from oandapyV20.endpoints.transactions import TransactionsSinceID, TransactionsStream

from autotrader_oanda.client import V20Client

log = logging.getLogger(__name__)

Deliver = Callable[[list[dict[str, Any]]], None]


class FeedStopped(Exception):
    """The consumer is gone (the event loop ended): the feed thread exits."""


class TransactionFeed:
    def __init__(
        self,
        client: V20Client,
        account_id: str,
        *,
        last_id: int,
        deliver: Deliver,
        read_timeout: float,
        reconnect_initial: float,
        reconnect_max: float,
    ) -> None:
        self.client = client
        self.account_id = account_id
        self.last_id = last_id
        self._deliver = deliver
        self.read_timeout = read_timeout
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.connects = 0
        self.backfills = 0
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="oanda-transactions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        delay = self.reconnect_initial
        while not self._stop.is_set():
            api = self.client.new_api(self.read_timeout)
            try:
                self._session(api)
                delay = self.reconnect_initial  # the stream ended after working: retry promptly
            except FeedStopped:
                return
            except Exception as exc:  # every failure of a stream means: reconnect
                log.info("oanda transaction stream: %s: %s; reconnecting", type(exc).__name__, exc)
            finally:
                self.connected.clear()
                self.client.release(api)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.reconnect_max)

    def _session(self, api: API) -> None:
        endpoint = TransactionsStream(self.account_id)
        first = True
        for message in self.client.request(endpoint, api=api):
            if self._stop.is_set():
                raise FeedStopped
            if first:
                first = False
                self.connects += 1
                self.connected.set()
                self._backfill(api)
            self._handle(message, api)

    def _handle(self, message: dict[str, Any], api: API) -> None:
        if message.get("type") == "HEARTBEAT":
            if int(message.get("lastTransactionID", 0)) > self.last_id:
                self._backfill(api)
            return
        txn_id = int(message["id"])
        if txn_id <= self.last_id:
            return
        if txn_id > self.last_id + 1:
            self._backfill(api)
            if txn_id <= self.last_id:
                return
            log.warning(
                "oanda stream: transaction %s arrived after %s and backfill lacks the gap",
                txn_id,
                self.last_id,
            )
        self._emit([message])

    def _backfill(self, api: API) -> None:
        """Fetch and deliver every transaction after the last one delivered."""
        while True:
            response = self.client.request(
                TransactionsSinceID(self.account_id, params={"id": str(self.last_id)}), api=api
            )
            fresh = sorted(
                (t for t in response.get("transactions", []) if int(t["id"]) > self.last_id),
                key=lambda t: int(t["id"]),
            )
            if not fresh:
                return
            self.backfills += 1
            self._emit(fresh)
            if self.last_id >= int(response.get("lastTransactionID", self.last_id)):
                return

    def _emit(self, transactions: list[dict[str, Any]]) -> None:
        if self._stop.is_set():
            raise FeedStopped
        try:
            self._deliver(transactions)
        except Exception as exc:
            self._stop.set()
            raise FeedStopped(str(exc)) from exc
        self.last_id = max(self.last_id, max(int(t["id"]) for t in transactions))
