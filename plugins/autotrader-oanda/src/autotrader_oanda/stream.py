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
from autotrader_oanda.feedthread import FeedStopped, FeedThread

log = logging.getLogger(__name__)

Deliver = Callable[[list[dict[str, Any]]], None]

__all__ = ["FeedStopped", "TransactionFeed"]


class TransactionFeed(FeedThread):
    name = "oanda-transactions"

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
        super().__init__(
            client,
            read_timeout=read_timeout,
            reconnect_initial=reconnect_initial,
            reconnect_max=reconnect_max,
        )
        self.account_id = account_id
        self.last_id = last_id
        self._deliver = deliver
        self.connected = threading.Event()
        self.connects = 0
        self.backfills = 0

    def _disconnected(self) -> None:
        self.connected.clear()

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
