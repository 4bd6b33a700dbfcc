"""The user data stream through python-binance, kept alive across disconnections.

The stream is a ``userDataStream.subscribe.signature`` subscription on the client's WebSocket API
connection, requested through the library's signed WebSocket API request, as its ``user_socket()``
does.  The library routes each event of a subscription to the queue registered for it
(``register_subscription_queue``); the one registered here is a :class:`_Dispatch`, which hands
the event to the adapter at once, in the library's reader.  Going through a queue and a task of
our own instead cost two task switches and a ``wait_for`` (a task and a timer) per event, all on
the loop that also reads the answers to orders (``benchmarks/bench_wire_binance.py``).

When that connection drops, the library reconnects on its own, but a subscription belongs to a
connection, and the library does not subscribe again: events would silently stop.  This runner
notices (the library puts an error message on every subscription's queue; Binance sends
``eventStreamTerminated`` when it ends a subscription), waits for the library's reconnection to
finish, subscribes again, and then calls ``on_resubscribed`` so the adapter reconciles over REST
what happened while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

from autotrader.errors import BrokerError, RateLimited
from binance import AsyncClient
from binance.ws.constants import WSListenerState
from websockets.protocol import State

from autotrader_binance.errors import Operation, translate
from autotrader_binance.ratelimit import RequestBudget
from autotrader_binance.tasks import cancel_until_done

__all__ = ["UserStream"]

log = logging.getLogger(__name__)

_POLL: Final = 0.05
_ANSWER_TIMEOUT: Final = 10.0
"""How long the subscription request waits for its answer (the library's own timeout, which
:class:`~autotrader_binance.wsapi.LeanWebsocketAPI` leaves to the caller)."""
_SUBSCRIBE: Final = "userDataStream.subscribe.signature"
_CONTROL: Final = frozenset({"error", "eventStreamTerminated"})
"""What the runner itself acts on: the library's word of a dropped connection, Binance's of an
ended subscription."""


class _Dispatch:
    """Stands where the library expects a subscription's ``asyncio.Queue`` (it calls only
    ``put_nowait``): events go straight to the adapter, control messages to the runner.

    It never raises: an exception here would stop the library's reader for good.
    """

    def __init__(self, on_event: Callable[[dict[str, Any]], None]) -> None:
        self._on_event = on_event
        self.control: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.open = True

    def put_nowait(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if message.get("e") in _CONTROL:
            self.control.put_nowait(message)
        elif self.open:
            try:
                self._on_event(message)
            except Exception:
                log.exception("binance user stream: failed to handle %r", message.get("e"))


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
        self._on_resubscribed = on_resubscribed
        self._reconnect_timeout = reconnect_timeout
        self._dispatch = _Dispatch(on_event)
        self._subscription: Any = None
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
        self._dispatch.open = False
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)
        # No unsubscribe: closing the connection ends the subscription.  The dispatch stays
        # registered (and drops what still arrives): unregistered, the events in flight would
        # pile up in the library's main queue, which nobody reads.
        self.live.clear()
        self._subscribed_on = None

    async def _subscribe(self) -> None:
        api = self._client.ws_api
        request = self._client._ws_api_request(_SUBSCRIBE, signed=True, params={"id": str(uuid.uuid4())})
        answer = await asyncio.wait_for(request, _ANSWER_TIMEOUT)
        subscription = answer.get("subscriptionId") if isinstance(answer, dict) else None
        if subscription is None:
            raise BrokerError(f"binance answered {_SUBSCRIBE} without a subscriptionId")
        if self._subscription is not None:
            api.unregister_subscription_queue(self._subscription)  # the old connection's
        api.register_subscription_queue(subscription, self._dispatch)
        self._subscription = subscription
        self._subscribed_on = api.ws
        self.live.set()

    def _connection_is_current(self) -> bool:
        """Our subscription lives on the library's current, open connection."""
        ws = self._client.ws_api.ws
        return ws is not None and ws is self._subscribed_on and getattr(ws, "state", None) is State.OPEN

    async def _run(self) -> None:
        while not self._stopping:
            message = await self._dispatch.control.get()
            if message.get("e") == "error":
                if self._connection_is_current() and self._reader_alive():
                    continue  # a stale report of a drop we already recovered from
                await self._recover()
            else:  # eventStreamTerminated
                self._subscribed_on = None
                await self._recover()

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
