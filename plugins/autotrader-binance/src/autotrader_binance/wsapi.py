"""python-binance's WebSocket API connection, without three costs it adds to every message.

The user data stream arrives on the client's ``ws_api`` connection, in the event loop that also
reads the REST answers to orders: whatever the library spends per message delays those answers.
Three of its costs buy nothing here (measured with ``benchmarks/bench_wire_binance.py``):

* **permessage-deflate.**  websockets offers it by default; a venue that accepts then deflates
  every frame and the client inflates it again -- zlib at both ends of the order path, for the
  few hundred bytes of an ``executionReport``.  The connection is opened without it.
* **A debug line with the whole message in it.**  The library formats each decoded message into
  an f-string before the logger drops it (about 5 us for an ``executionReport``).  A subscription
  event, nearly all of the traffic, is decoded here once and handed to the queue registered for
  its subscription, which is what the library does with it; anything else (answers to requests,
  frames that are not JSON) takes the library's own path, which logs and raises as it always did.
* **A timeout around every receive.**  The reader waits for each message through
  ``asyncio.wait_for(ws.recv(), TIMEOUT)``, and when the 10 s pass it only logs at debug level and
  waits again; but each call makes a task and a timer and costs three turns of the loop per
  message.  ``TIMEOUT`` is ``None`` here, for which ``wait_for`` awaits ``recv()`` directly.  The
  one wait whose timeout matters, the answer to a WebSocket API request, is bounded by the caller
  instead (:class:`~autotrader_binance.userstream.UserStream` bounds its subscription request).
"""

from __future__ import annotations

from typing import Any

from binance.ws.websocket_api import WebsocketAPI

__all__ = ["LeanWebsocketAPI"]


class LeanWebsocketAPI(WebsocketAPI):  # type: ignore[misc]  # python-binance ships no type information
    """``WebsocketAPI`` that negotiates no compression and routes subscription events directly."""

    TIMEOUT = None  # the library's is 10 (seconds) for every receive and request answer

    def __init__(self, url: str, *, tld: str, https_proxy: str | None) -> None:
        super().__init__(url=url, tld=tld, https_proxy=https_proxy)
        self._ws_kwargs["compression"] = None  # the keyword arguments of websockets.connect()

    def _handle_message(self, msg: Any) -> Any:
        try:
            parsed = self.json_loads(msg)
        except ValueError:
            parsed = None
        if type(parsed) is dict and "event" in parsed:
            subscription = parsed.get("subscriptionId")
            queue = self._subscription_queues.get(subscription) if type(subscription) is int else None
            if queue is not None:
                queue.put_nowait(parsed["event"])
                return None
        return super()._handle_message(msg)
