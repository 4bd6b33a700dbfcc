"""The Interactive Brokers adapter, on ib_async (or ib_insync: see :mod:`autotrader_ibkr.compat`).

Identity: the core's client order id travels as ``orderRef``; IB's ``orderId`` (from
nextValidId) is kept per order and is the venue order id; a modify re-places the same
``orderId``.  Fills are keyed by ``execId`` and emitted once their COMMISSION_REPORT is in (the
library joins the two when the execution comes first; when the report came first the library
drops it, so after ``commission_wait`` the adapter asks for the executions again, and TWS
replays both in order).

Connectivity: a dropped socket fails every waiting request as ambiguous, then a reconnect loop
with exponential backoff (the libraries have none) reconnects and reconciles: open orders,
executions since the gap began and, only for acknowledged orders those two leave unsettled,
completed orders are matched by ``orderRef`` / ``permId`` / ``execId`` and what was missed is
emitted.

History grows with the session: TWS answers a completed-orders request with every completed
order of the day and an unfiltered executions request with every execution.  So the connect
asks for neither (:func:`~autotrader_ibkr.compat.connect_without_history`; a start-up sync that
outgrows the connect timeout would drop the socket and make every reconnect fail the same way),
lookups answer first from what this adapter already learned from TWS (an order it saw end, with
the fills that make it; an earlier completed-orders answer, whose orders cannot change again),
concurrent lookups share one completed-orders request, and a history request that outlasts
``history_timeout`` fails the lookup (the order stays unknown) without touching the socket.

IB's own link notices: 1100 (lost) marks the venue unhealthy, 1101
(restored, data lost) resubscribes and reconciles, 1102 (restored, data kept) clears the mark.

Live quotes (:mod:`autotrader_ibkr.quotes`): a streaming REQ_MKT_DATA per symbol, requested
again after 1101 and after a reconnect, cancelled when the last quote stream on it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import anyio
import attrs
from autotrader.adapter import BrokerAdapter, QuoteStream, check_backend
from autotrader.errors import (
    AmbiguousOutcome,
    BrokerError,
    ConfigError,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    TransientError,
    UnsupportedOrder,
)
from autotrader.model import (
    Balance,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    TimeInForce,
)

from autotrader_ibkr.capabilities import CAPABILITIES
from autotrader_ibkr.compat import (
    IB,
    CommissionReport,
    Contract,
    ExecutionFilter,
    Trade,
    connect_without_history,
    request_pending,
)
from autotrader_ibkr.compat import Fill as IbFill
from autotrader_ibkr.compat import Order as IbOrder
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.contracts import contract_for, instrument_from_details
from autotrader_ibkr.mapping import (
    CONNECTIVITY_INFO,
    ORDER_TYPE,
    VENUE,
    core_order_type,
    core_status,
    from_wire,
    liquidity,
    order_error,
    wire_float,
)
from autotrader_ibkr.pacing import Pacer, backoff_delays
from autotrader_ibkr.quotes import QuoteSubscriptions
from autotrader_ibkr.shared_request import SharedRequest

__all__ = ["ClientIdInUse", "IbkrAdapter", "create_adapter"]

log = logging.getLogger(__name__)
event_errors = logging.getLogger("autotrader_ibkr.events")
"""Exceptions raised inside the library's event callbacks (watched by the decode guard)."""


T = TypeVar("T")

_EXECUTIONS_OVERLAP = timedelta(seconds=5)
"""How far before the last execution seen a catch-up asks from: TWS stamps executions to the
second, so one in the same second may come after it on the wire."""
_SETTLED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
"""End states a lookup may answer from the adapter's own record (TWS reported them)."""


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (the libraries stamp TWS times aware; naive would be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ClientIdInUse(BrokerError):
    """TWS refused the connection (326): another application is connected with this client id."""


@attrs.define
class _Tracked:
    """What the adapter knows about one of its orders."""

    request: OrderRequest
    order_id: int = 0
    perm_id: int = 0
    client_id: int = 0
    status: OrderStatus = OrderStatus.SUBMITTED
    filled: Decimal = Decimal(0)
    average_price: Decimal | None = None
    cancel_requested: bool = False
    reason: str | None = None
    waiter: _Waiter | None = None
    fill_quantity: Decimal = Decimal(0)
    """What the emitted fills add up to: a status claiming more waits for them (fills first)."""
    deferred: OrderStatus | None = None


class _Waiter:
    """One request waiting for TWS's answer: an update, or an error to raise.

    A bare asyncio future with a timer, not an anyio event in a cancel scope: this wait is in
    every order's acknowledgement, and the cancel scope's bookkeeping doubled its cost
    (~11 us against ~6 us per wait, measured).  The adapter runs only under asyncio.
    """

    def __init__(self, accept: Callable[[OrderStatus], bool]) -> None:
        self.accept = accept
        self._answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.update: OrderUpdate | None = None
        self.error: BaseException | None = None

    def resolve(self, update: OrderUpdate | None = None, error: BaseException | None = None) -> None:
        if self._answered.done():
            return
        self.update, self.error = update, error
        self._answered.set_result(None)

    def _expire(self) -> None:
        if not self._answered.done():
            self._answered.set_exception(TimeoutError())

    async def result(self, wait: float, what: str) -> OrderUpdate:
        timer = asyncio.get_running_loop().call_later(wait, self._expire)
        try:
            await self._answered
        except TimeoutError:
            raise AmbiguousOutcome(f"no answer from TWS within {wait}s to {what}") from None
        finally:
            timer.cancel()
        if self.error is not None:
            raise self.error
        assert self.update is not None
        return self.update


class IbkrAdapter(BrokerAdapter):
    name: ClassVar[str] = VENUE
    capabilities = CAPABILITIES

    def __init__(self, config: IbkrConfig) -> None:
        super().__init__()
        self.config = config
        self.ib = IB()
        self._instruments: dict[str, Instrument] = {}
        self._contracts: dict[str, Contract] = {}
        self._symbols_by_con_id: dict[int, str] = {}
        self._orders: dict[str, _Tracked] = {}
        self._by_order_id: dict[int, str] = {}
        self._by_perm_id: dict[int, str] = {}
        self._emitted_fills: set[str] = set()
        self._awaiting_commission: dict[str, IbFill] = {}
        self._fills: dict[str, list[Fill]] = {}
        """Every fill emitted, per order: a settled order's fills without asking TWS."""
        self._pacer = Pacer(config.max_orders_per_second)
        self._open_orders = SharedRequest(self._request_open_orders)
        self._completed_orders = SharedRequest(self._request_completed_orders)
        self._completed_by_ref: dict[str, Trade] = {}
        """The latest completed-orders answer, by orderRef and by permId."""
        self._completed_by_perm: dict[int, Trade] = {}
        self._ready = False
        self._last_execution: datetime | None = None
        self._session_start: datetime | None = None
        """TWS's clock at the first connect: what happened before is the core's recovery's."""
        self._gap_open = False
        self._gap_from: datetime | None = None
        self._gaps = 0
        self._account = config.account
        self._wanted = False
        self._link_ok = True
        self._reconnecting: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._client_id_in_use = False
        self.reconnects = 0
        self.reconnect_attempts = 0
        self._quotes = QuoteSubscriptions(self.ib, self._contracts)
        self._wire_events()

    # ------------------------------------------------------------------ lifecycle
    def _wire_events(self) -> None:
        ib = self.ib
        subscriptions = (
            (ib.orderStatusEvent, self._on_order_status),
            (ib.openOrderEvent, self._on_open_order),
            (ib.execDetailsEvent, self._on_execution),
            (ib.commissionReportEvent, self._on_commission),
            (ib.errorEvent, self._on_error),
            (ib.disconnectedEvent, self._on_disconnected),
            (ib.pendingTickersEvent, self._quotes.on_tickers),
        )
        for event, callback in subscriptions:
            event += callback
        # aeventkit (ib_async's) hands a listener's exception to the event's error_event and,
        # when nobody listens there, drops it without a word -- including the client's own socket
        # handler.  Listening makes every such exception a log line the decode guard sees.
        for event in (*(e for e, _ in subscriptions), ib.client.conn.hasData):
            if event.error_event is not None:
                event.error_event += self._on_event_error

    @staticmethod
    def _on_event_error(event: Any, error: BaseException) -> None:
        event_errors.error("ibkr: a callback of %s raised %r", event.name(), error, exc_info=error)

    @property
    def is_connected(self) -> bool:
        return bool(self.ib.isConnected()) and self._wanted

    async def connect(self) -> bool:
        check_backend(self)
        if self.is_connected:
            return True
        self._wanted = True
        try:
            await self._open()
        except BaseException:
            self._wanted = False
            raise
        await self._load_instruments()
        try:
            self._session_start = _utc(
                await self._ask(self.ib.reqCurrentTimeAsync(), "current time", self.config.request_timeout)
            )
        except TransientError:
            log.warning("ibkr: no current time from TWS: a catch-up before the first fill reads the day")
        return True

    async def _open(self) -> None:
        self._client_id_in_use = False
        self._ready = False
        try:
            await self._connect()
        except (ConnectionRefusedError, OSError, TimeoutError, ConnectionError) as exc:
            if self._client_id_in_use:
                raise ClientIdInUse(
                    f"TWS refused client id {self.config.client_id}: it is already in use by another "
                    "connection (error 326); choose another ibkr.client_id",
                    code=326,
                ) from None
            raise TransientError(
                f"cannot connect to TWS/Gateway at {self.config.host}:{self.config.port}: {exc!r}"
            ) from exc
        if not self._account:
            accounts = self.ib.managedAccounts()
            if len(accounts) != 1:
                self.ib.disconnect()
                raise ConfigError("ibkr.account", f"TWS manages {accounts}: name the account to trade")
            self._account = accounts[0]
        self._link_ok = True
        if self.config.delayed_quotes:
            self.ib.reqMarketDataType(3)  # delayed where there is no live subscription (per connection)
        self._ready = True

    async def _connect(self) -> None:
        """The library's connect, failed at once if TWS closes the socket during it (326, an
        outage): the libraries would wait out the whole connect timeout for a reply that cannot
        come, and the backoff then starts that late."""
        closed = asyncio.Event()

        def on_socket_closed(_message: str) -> None:
            closed.set()

        socket = self.ib.client.conn
        watching = socket.transport is None  # else the library first closes the old socket itself
        if watching:
            socket.disconnected += on_socket_closed
        connecting = asyncio.ensure_future(
            connect_without_history(
                self.ib,
                self.config.host,
                self.config.port,
                self.config.client_id,
                self.config.connect_timeout,
                self._account,
            )
        )
        closing = asyncio.ensure_future(closed.wait())
        try:
            await asyncio.wait({connecting, closing}, return_when=asyncio.FIRST_COMPLETED)
            if not connecting.done():
                raise ConnectionError("TWS closed the connection while connecting")
            connecting.result()
        finally:
            if watching:
                socket.disconnected -= on_socket_closed
            closing.cancel()
            if not connecting.done():
                connecting.cancel()  # the library disconnects on its way out
                with contextlib.suppress(BaseException):
                    await connecting

    async def disconnect(self) -> None:
        self._wanted = False
        self._quotes.end(NotConnected("the ibkr adapter was disconnected"))
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            self._reconnecting = None
        for task in list(self._tasks):
            task.cancel()
        if self.ib.isConnected():
            self.ib.disconnect()

    async def health_check(self) -> bool:
        if self._wanted and not self.ib.isConnected():
            self._start_reconnect()
            return False
        return self.is_connected and self._link_ok

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_disconnected(self) -> None:
        self._ready = False
        self._open_gap()
        for tracked in self._orders.values():
            if tracked.waiter is not None:
                tracked.waiter.resolve(error=AmbiguousOutcome("the TWS connection dropped before the answer"))
        if self._wanted:
            self._start_reconnect()

    def _start_reconnect(self) -> None:
        if self._reconnecting is None or self._reconnecting.done():
            with contextlib.suppress(RuntimeError):
                self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with exponential backoff, then reconcile what the gap hid."""
        delays = backoff_delays(self.config.reconnect_initial, self.config.reconnect_max)
        while self._wanted and not self.ib.isConnected():
            await asyncio.sleep(next(delays))
            self.reconnect_attempts += 1
            try:
                await self._open()
            except ClientIdInUse:
                log.error("ibkr: reconnect refused, client id %s in use", self.config.client_id)
            except Exception as exc:
                log.warning("ibkr: reconnect attempt %d failed: %s", self.reconnect_attempts, exc)
        if self._wanted and self.ib.isConnected():
            self.reconnects += 1
            log.info("ibkr: reconnected; reconciling")
            self._quotes.resubscribe()
            try:
                await self.reconcile()
            except Exception:
                log.exception("ibkr: reconciliation after reconnect failed")

    def _usable(self) -> bool:
        """Connected and past the start-up sync (whose requests share result slots with ours)."""
        return bool(self.ib.isConnected()) and self._ready

    async def _wait_connected(self) -> None:
        """Give a reconnect in progress up to a request timeout before failing a request."""
        if self._usable():
            return
        if not self._wanted:
            raise NotConnected("the ibkr adapter is not connected")
        self._start_reconnect()
        with anyio.move_on_after(self.config.request_timeout):
            while not self._usable():  # noqa: ASYNC110 - the library offers no awaitable for it
                await anyio.sleep(0.02)
        if not self._usable():
            raise TransientError("TWS is not reachable (reconnecting)")

    # ------------------------------------------------------------------ requests for TWS's view
    async def _ask(self, request: Awaitable[T], what: str, wait: float) -> T:
        """TWS's answer, or TransientError after ``wait`` seconds: the socket stays (not at fault)."""
        try:
            return await asyncio.wait_for(request, wait)
        except TimeoutError:
            raise TransientError(f"TWS did not answer the {what} request within {wait}s") from None

    async def _after_abandoned(self, key: str, what: str, wait: float) -> None:
        """Let an abandoned request's answer finish streaming: the library collects answers to
        requests without a request id (open orders, completed orders) in one slot per kind, so a
        new request sent meanwhile would be answered with the tail of the old one."""
        with anyio.move_on_after(wait):
            while request_pending(self.ib, key):  # noqa: ASYNC110 - the library offers no awaitable for it
                await anyio.sleep(0.02)
        if request_pending(self.ib, key):
            raise TransientError(f"TWS is still answering an earlier {what} request")

    async def _open_trades(self) -> list[Trade]:
        """Every open order at TWS (all clients), as of after this call began (do not modify)."""
        return await self._open_orders.get()

    async def _request_open_orders(self) -> list[Trade]:
        """As many as are working, however long the day."""
        timeout = self.config.request_timeout
        await self._after_abandoned("openOrders", "open orders", timeout)
        return list(await self._ask(self.ib.reqAllOpenOrdersAsync(), "open orders", timeout))

    async def _request_completed_orders(self) -> None:
        """Ask for the day's completed orders and index them."""
        timeout = self.config.history_timeout
        await self._after_abandoned("completedOrders", "completed orders", timeout)
        trades = await self._ask(self.ib.reqCompletedOrdersAsync(False), "completed orders", timeout)
        by_ref, by_perm = {}, {}
        for trade in trades:
            if trade.order.orderRef:
                by_ref[trade.order.orderRef] = trade
            if trade.order.permId:
                by_perm[trade.order.permId] = trade
        self._completed_by_ref, self._completed_by_perm = by_ref, by_perm

    def _completed_trade(self, coid: str) -> Trade | None:
        """``coid`` in the latest completed-orders answer (by orderRef, else the permId we saw)."""
        trade = self._completed_by_ref.get(coid)
        if trade is None:
            tracked = self._orders.get(coid)
            if tracked is not None and tracked.perm_id:
                trade = self._completed_by_perm.get(tracked.perm_id)
                if trade is not None and trade.order.orderRef not in ("", coid):
                    trade = None
        return trade

    async def _completed_order(self, coid: str) -> Trade | None:
        """``coid`` among TWS's completed orders, asking TWS only if no earlier answer had it.

        Call after the open-orders answer that lacked it: an order TWS had then was open or
        completed, so a completed-orders answer begun after that one lists it.
        """
        mark = self._completed_orders.mark()
        trade = self._completed_trade(coid)
        if trade is None:
            await self._completed_orders.get(mark)
            trade = self._completed_trade(coid)
        return trade

    async def _executions(self, since: datetime | None = None) -> list[IbFill]:
        """TWS's executions (this session's day), those from ``since`` on when given."""
        query = ExecutionFilter()
        if since is not None:
            query.time = (since - _EXECUTIONS_OVERLAP).strftime("%Y%m%d-%H:%M:%S")
        request = self.ib.reqExecutionsAsync(query)
        return list(await self._ask(request, "executions", self.config.history_timeout))

    def _open_gap(self) -> None:
        """Messages may be lost from now on: remember the last execution seen before it (or,
        before the first one, when this session began)."""
        if not self._gap_open:
            self._gap_open, self._gap_from = True, self._last_execution or self._session_start
        self._gaps += 1

    # ------------------------------------------------------------------ live quotes
    @asynccontextmanager
    async def _quote_feed(self, symbols: tuple[str, ...], stream: QuoteStream) -> AsyncIterator[None]:
        """A streaming REQ_MKT_DATA per symbol (shared with other open streams), cancelled after."""
        self._quotes.open(symbols, stream)
        try:
            yield
        finally:
            self._quotes.close(stream)

    # ------------------------------------------------------------------ instruments
    async def _load_instruments(self) -> None:
        for symbol, spec in self.config.instruments.items():
            details = await self.ib.reqContractDetailsAsync(contract_for(spec))
            if len(details) != 1:
                raise ConfigError(
                    f"ibkr.instruments.{symbol}",
                    f"TWS found {len(details)} contracts for {spec} (need exactly one)",
                )
            detail = details[0]
            contract = detail.contract
            assert contract is not None
            contract.exchange = spec.routing_exchange
            self._instruments[symbol] = instrument_from_details(symbol, spec, detail)
            self._contracts[symbol] = contract
            self._symbols_by_con_id[contract.conId] = symbol

    async def instruments(self) -> Mapping[str, Instrument]:
        return dict(self._instruments)

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise InvalidOrder("symbol", f"{symbol!r} is not a configured IB instrument") from None

    # ------------------------------------------------------------------ orders
    def _check_supported(self, request: OrderRequest) -> None:
        caps = self.capabilities
        if request.order_type not in caps.order_types:
            raise UnsupportedOrder("order_type", f"{request.order_type.value} is not supported")
        if request.time_in_force not in caps.time_in_force:
            raise UnsupportedOrder("time_in_force", f"{request.time_in_force.value} is not supported")
        if request.order_type is OrderType.MARKET and request.time_in_force not in caps.market_time_in_force:
            raise UnsupportedOrder("time_in_force", f"a market order cannot be {request.time_in_force.value}")

    def _ib_order(self, request: OrderRequest) -> IbOrder:
        order = IbOrder(
            action=request.side.value,
            totalQuantity=wire_float(request.quantity),
            orderType=ORDER_TYPE[request.order_type],
            tif=request.time_in_force.value,
            orderRef=request.client_order_id,
            account=self._account,
            transmit=True,
        )
        if request.price is not None:
            order.lmtPrice = wire_float(request.price)
        if request.stop_price is not None:
            order.auxPrice = wire_float(request.stop_price)
        return order

    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        instrument = self._instrument(request.symbol)
        self._check_supported(request)
        instrument.validate(request)
        try:
            order = self._ib_order(request)
        except ValueError as exc:
            raise InvalidOrder("price", str(exc)) from None
        await self._wait_connected()
        await self._pacer.wait()
        tracked = _Tracked(request, client_id=self.config.client_id)
        waiter = _Waiter(lambda status: True)
        tracked.waiter = waiter
        try:
            trade = self.ib.placeOrder(self._contracts[request.symbol], order)
        except ConnectionError as exc:
            raise TransientError(f"not sent: {exc}") from exc
        tracked.order_id = trade.order.orderId
        self._orders[request.client_order_id] = tracked
        self._by_order_id[tracked.order_id] = request.client_order_id
        try:
            return await waiter.result(self.config.request_timeout, f"order {request.client_order_id}")
        finally:
            tracked.waiter = None

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        await self._wait_connected()
        trade = await self._live_trade(client_order_id)
        if trade is None:
            raise OrderNotFound(f"ibkr has no open order {client_order_id!r}")
        tracked = self._orders.get(client_order_id)
        if tracked is None:
            tracked = self._adopt(trade)
        tracked.cancel_requested = True
        waiter = _Waiter(lambda status: status.is_terminal)
        tracked.waiter = waiter
        self.ib.cancelOrder(trade.order)
        try:
            return await waiter.result(self.config.request_timeout, f"cancel of {client_order_id}")
        except AmbiguousOutcome:
            return self._update(tracked, OrderStatus.PENDING_CANCEL)
        finally:
            tracked.waiter = None

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        await self._wait_connected()
        coid = request.client_order_id
        trade = await self._live_trade(coid)
        if trade is None:
            raise OrderNotFound(f"ibkr has no open order {coid!r}")
        tracked = self._orders.get(coid) or self._adopt(trade)
        old = tracked.request
        new = attrs.evolve(
            old,
            quantity=request.quantity if request.quantity is not None else old.quantity,
            price=request.price if request.price is not None else old.price,
            stop_price=request.stop_price if request.stop_price is not None else old.stop_price,
        )
        self._instrument(new.symbol).validate(new)
        order = trade.order
        order.totalQuantity = wire_float(new.quantity)
        if new.price is not None:
            order.lmtPrice = wire_float(new.price)
        if new.stop_price is not None:
            order.auxPrice = wire_float(new.stop_price)
        waiter = _Waiter(lambda status: True)
        tracked.waiter = waiter
        await self._pacer.wait()
        self.ib.placeOrder(trade.contract, order)
        try:
            await waiter.result(self.config.request_timeout, f"modify of {coid}")
        finally:
            tracked.waiter = None
        tracked.request = new
        return attrs.evolve(
            self._update(tracked, tracked.status),
            quantity=new.quantity,
            price=new.price,
            stop_price=new.stop_price,
        )

    async def cancel_all_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        """The kill switch: IB's global cancel (every order of every client), then their outcome."""
        if symbol is not None:
            return await super().cancel_all_orders(symbol)
        await self._wait_connected()
        open_orders = await self.get_open_orders()
        for order in open_orders:
            tracked = self._orders.get(order.client_order_id)
            if tracked is not None:
                tracked.cancel_requested = True
        self.ib.reqGlobalCancel()  # type: ignore[no-untyped-call]
        coids = [o.client_order_id for o in open_orders]
        with anyio.move_on_after(self.config.request_timeout):
            while not self._all_done(coids):  # noqa: ASYNC110 - statuses arrive through library callbacks
                await anyio.sleep(0.02)
        updates = []
        for coid in coids:
            tracked = self._orders.get(coid)
            status = tracked.status if tracked is not None else OrderStatus.PENDING_CANCEL
            if tracked is not None:
                updates.append(
                    self._update(tracked, status if status.is_terminal else OrderStatus.PENDING_CANCEL)
                )
        return updates

    def _all_done(self, coids: list[str]) -> bool:
        return all((t := self._orders.get(c)) is None or t.status.is_terminal for c in coids)

    # ------------------------------------------------------------------ queries
    async def _live_trade(self, coid: str) -> Trade | None:
        """The open trade carrying ``coid`` as orderRef, asking TWS if this session has not seen it."""
        for trade in self.ib.openTrades():
            if trade.order.orderRef == coid:
                return trade
        for trade in await self._open_trades():
            if trade.order.orderRef == coid and trade.orderStatus.status not in (
                "Cancelled",
                "Filled",
                "Inactive",
            ):
                return trade
        return None

    def _adopt(self, trade: Trade) -> _Tracked:
        """Track an order placed by an earlier session (found at TWS by its orderRef)."""
        order = self._order_from_trade(trade)
        tracked = _Tracked(
            order.to_request(),
            order_id=trade.order.orderId,
            perm_id=trade.order.permId,
            client_id=trade.order.clientId,
            status=order.status,
            filled=order.filled_quantity,
        )
        self._orders[order.client_order_id] = tracked
        self._by_order_id[tracked.order_id] = order.client_order_id
        if tracked.perm_id:
            self._by_perm_id[tracked.perm_id] = order.client_order_id
        return tracked

    # ------------------------------------------------------------------ identity
    def _refers_to(self, coid: str, order_ref: str, perm_id: int) -> bool:
        """Whether an order or execution at TWS is ``coid``: by orderRef, else by the permId we saw."""
        if order_ref:
            return order_ref == coid
        tracked = self._orders.get(coid)
        return tracked is not None and tracked.perm_id != 0 and perm_id == tracked.perm_id

    def _owner(self, order_ref: str, perm_id: int, order_id: int, client_id: int) -> str | None:
        """Which tracked order a TWS message is about: orderRef, permId, then our client's orderId."""
        if order_ref in self._orders:
            return order_ref
        if perm_id and perm_id in self._by_perm_id:
            return self._by_perm_id[perm_id]
        return self._by_order_id.get(order_id) if client_id == self.config.client_id else None

    def _learn_perm_id(self, tracked: _Tracked, perm_id: int) -> None:
        if perm_id and not tracked.perm_id:
            tracked.perm_id = perm_id
            self._by_perm_id[perm_id] = tracked.request.client_order_id

    def _settled(self, coid: str) -> _Tracked | None:
        """The tracked order if TWS reported it ended and every fill making it has been emitted."""
        tracked = self._orders.get(coid)
        if tracked is None or tracked.status not in _SETTLED or tracked.fill_quantity < tracked.filled:
            return None
        return tracked

    def _settled_order(self, tracked: _Tracked) -> Order:
        return attrs.evolve(
            Order.from_request(tracked.request),
            status=tracked.status,
            filled_quantity=tracked.filled,
            average_fill_price=tracked.average_price if tracked.filled else None,
            venue_order_id=str(tracked.order_id) if tracked.order_id else None,
            reason=tracked.reason,
        )

    async def get_order(self, client_order_id: str) -> Order | None:
        """TWS's view: open orders, then completed orders, then executions (orderRef, permId).

        This is what decides whether an order whose submit was ambiguous is resent, so it only
        answers None when none of the three knows the order; a request TWS did not answer in
        time raises (the order stays unknown).  An order this adapter saw end, and a completed
        order from an earlier answer, are answered without asking: neither can change again.
        """
        await self._wait_connected()
        settled = self._settled(client_order_id)
        if settled is not None:
            return self._settled_order(settled)
        known = self._completed_trade(client_order_id)
        if known is not None:
            return self._order_from_trade(known, client_order_id, completed=True)
        for trade in await self._open_trades():
            if self._refers_to(client_order_id, trade.order.orderRef, trade.order.permId):
                return self._order_from_trade(trade, client_order_id)
        completed = await self._completed_order(client_order_id)
        if completed is not None:
            return self._order_from_trade(completed, client_order_id, completed=True)
        fills = await self.get_order_fills(client_order_id)
        if fills:
            return self._order_from_fills(client_order_id, fills)
        return None

    def _order_from_trade(self, trade: Trade, coid: str | None = None, *, completed: bool = False) -> Order:
        ib_order = trade.order
        coid = coid or ib_order.orderRef
        tracked = self._orders.get(coid)
        symbol = self._symbols_by_con_id.get(
            trade.contract.conId, trade.contract.localSymbol or trade.contract.symbol
        )
        order_type = core_order_type(ib_order.orderType)
        tif = TimeInForce(ib_order.tif) if ib_order.tif in TimeInForce.__members__ else TimeInForce.DAY
        if completed:
            filled = from_wire(getattr(ib_order, "filledQuantity", None)) or Decimal(0)
        else:
            filled = from_wire(trade.orderStatus.filled) or Decimal(0)
        cancel_requested = tracked.cancel_requested if tracked is not None else False
        status = core_status(
            trade.orderStatus.status,
            filled,
            order_type=order_type,
            time_in_force=tif,
            cancel_requested=cancel_requested,
        )
        if status is None:
            status = OrderStatus.ACCEPTED
        average = from_wire(trade.orderStatus.avgFillPrice) if trade.orderStatus.avgFillPrice else None
        if average is None and tracked is not None:
            average = tracked.average_price
        reason = tracked.reason if tracked is not None else None
        return Order(
            client_order_id=coid,
            symbol=symbol,
            side=OrderSide(ib_order.action),
            order_type=order_type,
            quantity=from_wire(ib_order.totalQuantity) or Decimal(0),
            price=from_wire(ib_order.lmtPrice) if order_type.needs_price else None,
            stop_price=from_wire(ib_order.auxPrice) if order_type.needs_stop_price else None,
            time_in_force=tif,
            status=status,
            filled_quantity=filled,
            average_fill_price=average,
            venue_order_id=str(ib_order.orderId or (tracked.order_id if tracked else "")) or None,
            reason=reason,
        )

    def _order_from_fills(self, coid: str, fills: list[Fill]) -> Order:
        """An order TWS lists neither as open nor as completed, known only by its executions.

        It is not working (it would be open), so it is done: FILLED when the fills cover it, else
        cancelled with its partial fills (EXPIRED for an immediate order nobody cancelled).  An
        order this session never tracked (after a restart) is taken as exactly what was filled.
        """
        filled = sum((f.quantity for f in fills), Decimal(0))
        notional = sum((f.quantity * f.price for f in fills), Decimal(0))
        first = fills[0]
        tracked = self._orders.get(coid)
        if tracked is not None:
            request = tracked.request
        else:
            request = OrderRequest(coid, first.symbol, first.side, OrderType.MARKET, filled)
        if filled >= request.quantity:
            status = OrderStatus.FILLED
        else:
            status = (
                core_status(
                    "Cancelled",
                    filled,
                    order_type=request.order_type,
                    time_in_force=request.time_in_force,
                    cancel_requested=tracked is not None and tracked.cancel_requested,
                )
                or OrderStatus.CANCELLED
            )
        return attrs.evolve(
            Order.from_request(request),
            status=status,
            filled_quantity=filled,
            average_fill_price=notional / filled,
            commission=sum((f.commission for f in fills), Decimal(0)),
            venue_order_id=first.venue_order_id,
            reason="TWS lists it neither open nor completed; known from its executions",
        )

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        await self._wait_connected()
        trades = await self._open_trades()
        orders = []
        for trade in trades:
            if not trade.order.orderRef or trade.orderStatus.status in ("Cancelled", "Filled", "Inactive"):
                continue
            order = self._order_from_trade(trade)
            if order.is_open and (symbol is None or order.symbol == symbol):
                orders.append(order)
        return orders

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        """The order's fills: from this adapter's record once the order is settled, else TWS's."""
        await self._wait_connected()
        if self._settled(client_order_id) is not None:
            return list(self._fills.get(client_order_id, ()))
        joined = {f.execution.execId: f for f in self.ib.fills()}
        fills = []
        for ib_fill in await self._executions():
            execution = ib_fill.execution
            if not self._refers_to(client_order_id, execution.orderRef, execution.permId):
                continue
            known = joined.get(execution.execId, ib_fill)
            report = known.commissionReport if known.commissionReport.execId else ib_fill.commissionReport
            fills.append(self._core_fill(ib_fill, report, client_order_id))
        return fills

    # ------------------------------------------------------------------ account
    async def get_positions(self) -> list[Position]:
        positions = []
        for item in self.ib.positions(self._account):
            symbol = self._symbols_by_con_id.get(item.contract.conId)
            quantity = from_wire(item.position) or Decimal(0)
            if symbol is None or quantity == 0:
                continue
            multiplier = Decimal(item.contract.multiplier) if item.contract.multiplier else Decimal(1)
            average = (from_wire(item.avgCost) or Decimal(0)) / multiplier
            positions.append(Position(symbol=symbol, quantity=quantity, average_price=average))
        return positions

    async def get_balances(self) -> list[Balance]:
        """Cash per currency (IB's CashBalance), as TWS streams it to the account subscription."""
        balances = []
        for value in self.ib.accountValues(self._account):
            if value.tag == "CashBalance" and value.currency and value.currency != "BASE":
                balances.append(Balance(asset=value.currency, free=Decimal(value.value)))
        return balances

    async def account_summary(self) -> dict[str, Decimal]:
        """NetLiquidation, AvailableFunds, BuyingPower... in the base currency."""
        return {
            v.tag: Decimal(v.value)
            for v in self.ib.accountValues(self._account)
            if v.tag in ("NetLiquidation", "AvailableFunds", "BuyingPower") and v.currency != "BASE"
        }

    # ------------------------------------------------------------------ reconciliation
    async def reconcile(self) -> None:
        """Emit what this session missed, in proportion to what changed rather than to the day.

        Open orders; the executions since the last one seen before the gap (all of them when
        no gap is open or none was seen); then, only if an order TWS acknowledged is neither
        open nor filled by those, one completed-orders request for how it ended.
        """
        gaps, gap_open, since = self._gaps, self._gap_open, self._gap_from
        open_trades = await self._open_trades()
        mark = self._completed_orders.mark()
        executions = await self._executions(since if gap_open else None)
        joined = {f.execution.execId: f for f in self.ib.fills()}
        for ib_fill in executions:
            execution = ib_fill.execution
            coid = self._owner(execution.orderRef, execution.permId, execution.orderId, execution.clientId)
            if coid is not None and execution.execId not in self._emitted_fills:
                known = joined.get(execution.execId, ib_fill)
                report = known.commissionReport if known.commissionReport.execId else ib_fill.commissionReport
                self._emit_fill(ib_fill, report, coid)
        seen = set()
        for trade in open_trades:
            coid = self._coid_of(trade)
            if coid is not None:
                seen.add(coid)
                self._settle(coid, trade, completed=False)
        unsettled = []
        for coid, tracked in list(self._orders.items()):
            if coid in seen or tracked.status.is_terminal:
                continue
            if tracked.fill_quantity >= tracked.request.quantity:
                self._set_status(tracked, OrderStatus.FILLED, tracked.fill_quantity)  # not open, all filled
            elif tracked.perm_id or tracked.status not in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
                unsettled.append(coid)  # an unacknowledged submit is the core's lookup's to settle
        if unsettled:
            await self._completed_orders.get(mark)
            for coid in unsettled:
                ended = self._completed_trade(coid)
                if ended is not None:
                    self._settle(coid, ended, completed=True)
        if gaps == self._gaps:
            self._gap_open = False

    def _settle(self, coid: str, trade: Trade, *, completed: bool) -> None:
        """Take TWS's status of ``coid`` from an open or completed order it sent."""
        tracked = self._orders[coid]
        order = self._order_from_trade(trade, coid, completed=completed)
        self._learn_perm_id(tracked, trade.order.permId)
        self._set_status(tracked, order.status, order.filled_quantity)

    def _set_status(self, tracked: _Tracked, status: OrderStatus, filled: Decimal) -> None:
        if (status, filled) != (tracked.status, tracked.filled):
            tracked.status, tracked.filled = status, filled
            self._emit(self._update(tracked, status))

    # ------------------------------------------------------------------ events from the library
    def _coid_of(self, trade: Trade) -> str | None:
        order = trade.order
        return self._owner(order.orderRef, order.permId, order.orderId, order.clientId)

    def _update(self, tracked: _Tracked, status: OrderStatus) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=tracked.request.client_order_id,
            status=status,
            venue=VENUE,
            venue_order_id=str(tracked.order_id) if tracked.order_id else None,
            filled_quantity=tracked.filled,
            average_price=tracked.average_price,
            reason=tracked.reason,
        )

    def _on_order_status(self, trade: Trade) -> None:
        coid = self._coid_of(trade)
        if coid is None:
            return
        tracked = self._orders[coid]
        last = trade.log[-1] if trade.log else None
        error_code = getattr(last, "errorCode", 0) if last is not None else 0
        if error_code not in (0, 202):
            return  # an error turned the trade Cancelled locally: _on_error reports it
        status_text = trade.orderStatus.status
        filled = from_wire(trade.orderStatus.filled) or Decimal(0)
        status = core_status(
            status_text,
            filled,
            order_type=tracked.request.order_type,
            time_in_force=tracked.request.time_in_force,
            cancel_requested=tracked.cancel_requested,
        )
        if status is None:
            return
        self._learn_perm_id(tracked, trade.order.permId)
        if trade.orderStatus.avgFillPrice:
            tracked.average_price = from_wire(trade.orderStatus.avgFillPrice)
        changed = (status, filled) != (tracked.status, tracked.filled)
        if filled >= tracked.filled:
            tracked.status, tracked.filled = status, filled
        update = self._update(tracked, status)
        if filled > tracked.fill_quantity:
            # The status ran ahead of its fills (ORDER_STATUS before COMMISSION_REPORT): report it
            # once the fills are out, so the core never sees FILLED without the fills that make it.
            tracked.deferred = status
            partial = OrderStatus.PARTIALLY_FILLED if tracked.fill_quantity else OrderStatus.ACCEPTED
            update = attrs.evolve(update, status=partial, filled_quantity=tracked.fill_quantity)
        elif changed:
            tracked.deferred = None
            self._emit(update)
        waiter = tracked.waiter
        if waiter is not None and waiter.accept(update.status):
            waiter.resolve(update)

    def _on_open_order(self, trade: Trade) -> None:
        """OPEN_ORDER: acknowledges a modify (ORDER_STATUS may not change on a price change)."""
        coid = self._coid_of(trade)
        if coid is None:
            return
        tracked = self._orders[coid]
        self._learn_perm_id(tracked, trade.order.permId)
        waiter = tracked.waiter
        if waiter is not None and tracked.status not in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            waiter.resolve(self._update(tracked, tracked.status))

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if req_id == -1 or code in CONNECTIVITY_INFO:
            self._on_notice(code, text)
            return
        if self._quotes.on_error(req_id, code, text):
            return
        coid = self._by_order_id.get(req_id)
        if coid is None:
            return
        tracked = self._orders[coid]
        if code == 202:
            return  # the cancel confirmation; ORDER_STATUS carries the status
        if code in (10147, 161):
            waiter = tracked.waiter
            if waiter is not None:
                waiter.resolve(error=OrderNotFound(f"IB error {code}: {text}", code=code))
            return
        error = order_error(code, text, pacing_retry_after=self.config.pacing_retry_after)
        if error is None:
            log.info("ibkr: order %s: IB message %s: %s", coid, code, text)
            return
        waiter = tracked.waiter
        modifying = tracked.status not in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)
        if not modifying and code not in (100, 322):
            tracked.status, tracked.reason = OrderStatus.REJECTED, f"IB error {code}: {text}"
            update = self._update(tracked, OrderStatus.REJECTED)
            if waiter is None:
                self._emit(update)
        if waiter is not None:
            waiter.resolve(error=error)

    def _on_notice(self, code: int, text: str) -> None:
        if code == 326:
            self._client_id_in_use = True
            log.error("ibkr: %s", text)
        elif code == 1100:
            self._link_ok = False
            self._open_gap()
            log.warning("ibkr: TWS lost its connection to IB (1100)")
        elif code == 1101:
            self._link_ok = True
            log.warning("ibkr: IB connectivity restored, data lost (1101): resubscribing and reconciling")
            self._quotes.resubscribe()
            self._spawn(self._resubscribe())
        elif code == 1102:
            self._link_ok = True
            log.info("ibkr: IB connectivity restored, data maintained (1102)")
        elif code in CONNECTIVITY_INFO:
            log.debug("ibkr: %s %s", code, text)
        else:
            log.info("ibkr: TWS notice %s: %s", code, text)

    async def _resubscribe(self) -> None:
        self.ib.client.reqAccountUpdates(True, self._account)  # type: ignore[no-untyped-call]
        await self.reconcile()

    def _fill_owner(self, fill: IbFill) -> str | None:
        execution = fill.execution
        return self._owner(execution.orderRef, execution.permId, execution.orderId, execution.clientId)

    def _on_execution(self, trade: Trade, fill: IbFill) -> None:
        exec_id = fill.execution.execId
        coid = self._fill_owner(fill)
        if exec_id in self._emitted_fills or coid is None:
            return
        if fill.commissionReport.execId:
            self._emit_fill(fill, fill.commissionReport, coid)
            return
        self._awaiting_commission[exec_id] = fill
        self._spawn(self._chase_commission(exec_id))

    def _on_commission(self, trade: Trade, fill: IbFill, report: CommissionReport) -> None:
        self._awaiting_commission.pop(fill.execution.execId, None)
        coid = self._fill_owner(fill)
        if coid is not None:
            self._emit_fill(fill, report, coid)

    async def _chase_commission(self, exec_id: str) -> None:
        """COMMISSION_REPORT overdue (it may have come first and been dropped): ask again."""
        for _attempt in range(3):
            await asyncio.sleep(self.config.commission_wait)
            if exec_id not in self._awaiting_commission or not self.ib.isConnected():
                return
            fill = self._awaiting_commission.get(exec_id)
            try:
                await self._executions(_utc(fill.execution.time) if fill is not None else None)
            except Exception as exc:
                log.warning("ibkr: re-requesting executions failed: %s", exc)
        fill = self._awaiting_commission.pop(exec_id, None)
        coid = self._fill_owner(fill) if fill is not None else None
        if fill is not None and coid is not None:
            log.warning("ibkr: no commission report for %s; emitting the fill without it", exec_id)
            self._emit_fill(fill, fill.commissionReport, coid)

    def _emit_fill(self, ib_fill: IbFill, report: CommissionReport, coid: str) -> None:
        exec_id = ib_fill.execution.execId
        if exec_id in self._emitted_fills:
            return
        self._emitted_fills.add(exec_id)
        self._awaiting_commission.pop(exec_id, None)
        fill = self._core_fill(ib_fill, report, coid)
        self._fills.setdefault(coid, []).append(fill)
        when = _utc(ib_fill.execution.time)
        if self._last_execution is None or when > self._last_execution:
            self._last_execution = when
        self._emit(fill)
        tracked = self._orders.get(fill.client_order_id)
        if tracked is None:
            return
        tracked.fill_quantity += fill.quantity
        if tracked.deferred is not None and tracked.fill_quantity >= tracked.filled:
            status, tracked.deferred = tracked.deferred, None
            self._emit(self._update(tracked, status))

    def _core_fill(self, ib_fill: IbFill, report: CommissionReport, coid: str) -> Fill:
        execution = ib_fill.execution
        contract = ib_fill.contract
        symbol = self._symbols_by_con_id.get(contract.conId, contract.localSymbol or contract.symbol)
        return Fill(
            venue=VENUE,
            trade_id=execution.execId,
            client_order_id=coid,
            symbol=symbol,
            side=OrderSide.BUY if execution.side == "BOT" else OrderSide.SELL,
            quantity=from_wire(execution.shares) or Decimal(0),
            price=from_wire(execution.price) or Decimal(0),
            commission=from_wire(report.commission) or Decimal(0),
            commission_asset=report.currency or None,
            liquidity=liquidity(execution.lastLiquidity),
            venue_order_id=str(execution.orderId),
            timestamp=execution.time.timestamp(),
        )


def create_adapter(config: IbkrConfig | None = None, **values: Any) -> IbkrAdapter:
    """The BrokerSpec factory: ``create_adapter(config=IbkrConfig(...))`` or keyword settings."""
    if config is None:
        config = IbkrConfig.from_env(**values)
    return IbkrAdapter(config)
