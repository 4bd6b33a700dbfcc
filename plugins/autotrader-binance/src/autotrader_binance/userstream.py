"""The user data stream through python-binance, kept alive across disconnections.

python-binance 1.0.37 subscribes with ``userDataStream.subscribe.signature`` on its WebSocket API
connection (``BinanceSocketManager.user_socket()``).  When that connection drops, the library
reconnects on its own, but a subscription belongs to a connection, and the library does not
subscribe again: events would silently stop.  This runner notices (the library puts an error
message on the socket's queue; Binance sends ``eventStreamTerminated`` when it ends a
subscription), waits for the library's reconnection to finish, subscribes again, and then calls
``on_resubscribed`` so the adapter reconciles over REST what happened while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from autotrader.errors import RateLimited
from binance import AsyncClient
from binance.ws.constants import WSListenerState
from binance.ws.streams import BinanceSocketManager
from websockets.protocol import State

from autotrader_binance.errors import Operation, translate
from autotrader_binance.ratelimit import RequestBudget
from autotrader_binance.tasks import cancel_until_done

__all__ = ["UserStream"]

log = logging.getLogger(__name__)

_POLL: Final = 0.05


class UserStream:
    def __init__(
        self,
        client: AsyncClient,
        on_event: Callable[[dict[str, Any]], None],
        on_resubscribed: Callable[[], Awaitable[None]],
        *,
        budget: RequestBudget | None = None,
        reconnect_timeout: float = 15.0,
    ) -> None:
        self._client = client
        self._budget = budget or RequestBudget()
        self._on_event = on_event
        self._on_resubscribed = on_resubscribed
        self._reconnect_timeout = reconnect_timeout
        self._manager = BinanceSocketManager(client)
        self._socket = self._manager.user_socket()
        self._subscribed_on: object | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.resubscriptions = 0
        self.live = asyncio.Event()
        """Set while a subscription is believed active."""

    async def start(self) -> None:
        await self._subscribe()
        self._task = asyncio.create_task(self._run(), name="binance-user-stream")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)
        # No unsubscribe: closing the connection ends the subscription, and the library's exit
        # path unregisters our queue first, so the events still in flight would pile up in its
        # main queue until its reader gives up.  Only the socket's keep-alive timer (a no-op for
        # WebSocket API subscriptions, rescheduled forever) needs stopping.
        timer = getattr(self._socket, "_timer", None)
        if timer is not None:
            timer.cancel()
            self._socket._timer = None
        self.live.clear()
        self._subscribed_on = None

    async def _subscribe(self) -> None:
        await self._socket.connect()  # the library subscribes and routes the events to the socket's queue
        self._subscribed_on = self._client.ws_api.ws
        self.live.set()

    def _connection_is_current(self) -> bool:
        """Our subscription lives on the library's current, open connection."""
        ws = self._client.ws_api.ws
        return ws is not None and ws is self._subscribed_on and getattr(ws, "state", None) is State.OPEN

    async def _run(self) -> None:
        while not self._stopping:
            message = await self._socket.recv()
            kind = message.get("e") if isinstance(message, dict) else None
            if kind == "error":
                if self._connection_is_current() and self._reader_alive():
                    continue  # a stale report of a drop we already recovered from
                await self._recover()
            elif kind == "eventStreamTerminated":
                self._subscribed_on = None
                await self._recover()
            else:
                try:
                    self._on_event(message)
                except Exception:
                    log.exception("binance user stream: failed to handle %r", message.get("e"))

    def _reader_alive(self) -> bool:
        """The library's WebSocket API reader is running (it stops for good after its last
        reconnection attempt, or on a message it cannot decode)."""
        return self._client.ws_api._handle_read_loop is not None

    async def _drop_unread_connection(self) -> None:
        """With its reader stopped, the library keeps a connection nobody reads, and would send the
        subscription on it and wait in vain for the answer: drop it, so that the next request
        opens a new connection with a new reader."""
        api = self._client.ws_api
        if self._reader_alive() or api.ws is None:
            return
        ws, api.ws = api.ws, None
        with contextlib.suppress(Exception):
            await ws.close()

    async def _wait_for_reconnection(self) -> None:
        """Let the library finish its own reconnection before subscribing on the new connection."""
        api = self._client.ws_api
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._reconnect_timeout
        while loop.time() < deadline and self._reader_alive():  # a stopped reader reconnects nothing
            ws = api.ws
            if (
                api.ws_state is WSListenerState.STREAMING
                and ws is not None
                and getattr(ws, "state", None) is State.OPEN
                and (ws is not self._subscribed_on or self._subscribed_on is None)
            ):
                return
            await asyncio.sleep(_POLL)

    async def _recover(self) -> None:
        self.live.clear()
        delay = 0.2
        while True:
            await self._wait_for_reconnection()
            await self._drop_unread_connection()
            await self._budget.wait_until_allowed()  # a ban grows for who keeps knocking
            try:
                await self._subscribe()
                break
            except Exception as exc:
                error = translate(exc, Operation.QUERY)
                if isinstance(error, RateLimited):
                    self._budget.block(error.retry_after, ban=error.ban)
                log.warning("binance user stream: subscribing again failed (%s); retrying", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.resubscriptions += 1
        log.info("binance user stream: subscribed again; reconciling over REST")
        try:
            await self._on_resubscribed()
        except Exception:
            log.exception("binance user stream: reconciliation after resubscribing failed")
