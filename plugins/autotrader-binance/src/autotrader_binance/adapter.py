"""The Binance spot adapter on python-binance's ``AsyncClient``.

Orders go out over REST carrying the core's client order id as ``newClientOrderId``; order
updates and fills come back on the user data stream (WebSocket API).  The adapter never resends
an order: any outcome it cannot be sure of is :class:`AmbiguousOutcome`, and the core then asks
:meth:`get_order` (``GET /api/v3/order?origClientOrderId=``), because Binance accepts a reused
client id as soon as the first order is no longer open -- a blind retry of a filled order would
trade twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar

from autotrader.adapter import BrokerAdapter, check_backend
from autotrader.errors import (
    BrokerError,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    UnsupportedOrder,
)
from autotrader.model import (
    ZERO,
    Balance,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderType,
    OrderUpdate,
    Position,
)
from binance import AsyncClient
from binance.exceptions import BinanceAPIException
from binance.ws.constants import WSListenerState

from autotrader_binance import mapping
from autotrader_binance.capabilities import CAPABILITIES
from autotrader_binance.client import create_client
from autotrader_binance.config import BinanceConfig
from autotrader_binance.errors import Operation, translate
from autotrader_binance.ratelimit import RequestBudget
from autotrader_binance.userstream import UserStream

__all__ = ["CAPABILITIES", "BinanceAdapter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Request weights of the endpoints used (Binance spot, rest-api.md).
_W_ORDER: Final = 1
_W_QUERY: Final = 4
_W_OPEN_ALL: Final = 80
_W_OPEN_ONE: Final = 6
_W_ACCOUNT: Final = 20
_W_TRADES_BY_ORDER: Final = 5
_W_TICKER: Final = 2
_W_EXCHANGE_INFO: Final = 20
_RECONCILE_CONCURRENCY: Final = 8


@dataclass
class _Tracked:
    """What the adapter knows of one core order: its symbol and its Binance orders ("legs").

    A modify is a cancel-replace: Binance then has two orders under the same client id, and the
    core's order is their sum.  ``legs`` maps each Binance orderId to its executed quantity and
    quote amount.
    """

    request: OrderRequest
    legs: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    replaced: set[int] = field(default_factory=set)
    fills: dict[str, Decimal] = field(default_factory=dict)
    """Quantity of every fill delivered, by trade id."""
    terminal: bool = False

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def settled(self) -> bool:
        """Finished, and every executed quantity was delivered as fills: nothing left to reconcile."""
        executed = sum((q for q, _ in self.legs.values()), ZERO)
        return self.terminal and sum(self.fills.values(), ZERO) >= executed

    def note(self, order_id: int, executed: Decimal, quote: Decimal) -> None:
        old = self.legs.get(order_id, (ZERO, ZERO))
        self.legs[order_id] = (max(old[0], executed), max(old[1], quote))

    def prior(self, order_id: int) -> tuple[Decimal, Decimal]:
        """Executed quantity and quote of the legs before ``order_id``."""
        qty = sum((q for oid, (q, _) in self.legs.items() if oid != order_id and oid < order_id), ZERO)
        quote = sum((z for oid, (_, z) in self.legs.items() if oid != order_id and oid < order_id), ZERO)
        return qty, quote


class BinanceAdapter(BrokerAdapter):
    """Binance spot.  Asyncio only (python-binance is built on asyncio)."""

    name: ClassVar[str] = "binance"
    capabilities = CAPABILITIES

    def __init__(self, config: BinanceConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else BinanceConfig.from_env(**settings)
        self.budget = RequestBudget()
        self._client: AsyncClient | None = None
        self._stream: UserStream | None = None
        self._instruments: dict[str, Instrument] = {}
        self._orders: dict[str, _Tracked] = {}
        self._connected = False
        self._reconcile_lock = asyncio.Lock()

    def __repr__(self) -> str:
        where = "testnet" if self.config.testnet else (self.config.api_url or "binance.com")
        return f"BinanceAdapter({where}, connected={self._connected})"

    # ------------------------------------------------------------------ lifecycle
    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise NotConnected("the binance adapter is not connected")
        return self._client

    @property
    def user_stream(self) -> UserStream | None:
        return self._stream

    async def connect(self) -> bool:
        check_backend(self)
        if self._connected:
            return True
        try:
            self._client = await create_client(self.config, self.budget.observe)
        except Exception as exc:
            raise translate(exc, Operation.QUERY) from exc
        try:
            info = await self._call(Operation.QUERY, _W_EXCHANGE_INFO, self.client.get_exchange_info)
            self.budget.configure(info.get("rateLimits", []))
            wanted = set(self.config.symbols)
            self._instruments = {
                s["symbol"]: mapping.instrument_from_symbol(s)
                for s in info.get("symbols", [])
                if s.get("status", "TRADING") == "TRADING" and (not wanted or s["symbol"] in wanted)
            }
            self._stream = UserStream(
                self.client,
                self._on_stream_event,
                self.reconcile,
                reconnect_timeout=self.config.stream_reconnect_timeout,
            )
            await self._stream.start()
        except BaseException:
            await self._close_client()
            raise
        self._connected = True
        return True

    async def disconnect(self) -> None:
        self._connected = False
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self._close_client()

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        closing = asyncio.create_task(client.close_connection())
        try:
            # The library stops its WebSocket reader by flagging it and waiting for its next receive
            # (up to 10 s); once flagged, closing the socket ends that wait at once.
            api = client.ws_api
            for _ in range(100):
                if closing.done() or api.ws_state is WSListenerState.EXITING:
                    break
                await asyncio.sleep(0.01)
            if api.ws is not None and api.ws_state is WSListenerState.EXITING:
                await api.ws.close()
            await asyncio.wait_for(closing, 5)
        except Exception:  # closing must not fail the caller
            log.debug("binance: closing the client failed", exc_info=True)

    async def health_check(self) -> bool:
        if not self._connected:
            return False
        try:
            await self._call(Operation.QUERY, 1, self.client.ping)
        except BrokerError:
            return False
        return True

    # ------------------------------------------------------------------ requests
    async def _call(
        self, operation: Operation, weight: int, function: Callable[..., Awaitable[T]], /, **params: Any
    ) -> T:
        """One REST call within the budget; -1021 (clock skew) resyncs the clock and retries once."""
        await self.budget.acquire(weight, order=operation in (Operation.SUBMIT, Operation.MODIFY))
        for attempt in (1, 2):
            try:
                return await function(**dict(params))
            except BinanceAPIException as exc:
                if exc.code == -1021 and attempt == 1:
                    await self._resync_clock()
                    continue
                error = translate(exc, operation)
                if isinstance(error, RateLimited):
                    self.budget.block(error.retry_after, ban=error.ban)
                raise error from exc
            except Exception as exc:
                raise translate(exc, operation) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _resync_clock(self) -> None:
        """Binance said our timestamp is off: measure the server clock again (``timestamp_offset``)."""
        before = time.time()
        answer = await self.client.get_server_time()
        after = time.time()
        local_ms = int((before + after) / 2 * 1000)
        self.client.timestamp_offset = int(answer["serverTime"]) - local_ms
        log.info("binance: clock resynchronised, offset %d ms", self.client.timestamp_offset)

    # ------------------------------------------------------------------ reference data
    async def instruments(self) -> Mapping[str, Instrument]:
        return dict(self._instruments)

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise InvalidOrder(
                "symbol", f"{symbol!r} is not a Binance spot symbol loaded by this adapter"
            ) from None

    async def last_price(self, symbol: str) -> Decimal:
        answer = await self._call(Operation.QUERY, _W_TICKER, self.client.get_symbol_ticker, symbol=symbol)
        return mapping.dec(answer["price"])

    # ------------------------------------------------------------------ orders
    def _check_capabilities(self, request: OrderRequest) -> None:
        caps = self.capabilities
        if request.order_type not in caps.order_types:
            raise UnsupportedOrder(
                "order_type", f"{request.order_type.value} is not supported on Binance spot"
            )
        allowed = caps.market_time_in_force if request.order_type is OrderType.MARKET else caps.time_in_force
        if request.time_in_force not in allowed:
            raise UnsupportedOrder(
                "time_in_force",
                f"Binance spot has no {request.time_in_force.value} {request.order_type.value} orders",
            )

    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        self._check_capabilities(request)
        instrument = self._instrument(request.symbol)
        instrument.validate(request)
        last = await self.last_price(request.symbol) if request.order_type.needs_stop_price else None
        params = mapping.new_order_params(request, mapping.binance_order_type(request, last))
        tracked = self._orders.get(request.client_order_id)
        if tracked is None or tracked.terminal:
            self._orders[request.client_order_id] = _Tracked(request)
        answer = await self._call(Operation.SUBMIT, _W_ORDER, self.client.create_order, **params)
        update = mapping.update_from_json(answer, self.name)
        self._note_leg(request.client_order_id, answer)
        return update

    def _note_leg(self, client_order_id: str, answer: Mapping[str, Any]) -> None:
        tracked = self._orders.get(client_order_id)
        if tracked is None:
            return
        order_id = int(answer["orderId"])
        tracked.note(
            order_id,
            mapping.dec(answer.get("executedQty", "0")),
            mapping.dec(answer.get("cummulativeQuoteQty", "0")),
        )
        if order_id not in tracked.replaced and mapping.order_status(answer.get("status", "NEW")).is_terminal:
            tracked.terminal = True

    async def _symbol_of(self, client_order_id: str) -> str | None:
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.symbol
        if len(self._instruments) == 1:
            return next(iter(self._instruments))
        for order in await self.get_open_orders():
            if order.client_order_id == client_order_id:
                return order.symbol
        for symbol in self.config.symbols:
            if await self._query(symbol, client_order_id) is not None:
                return symbol
        return None

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        symbol = await self._symbol_of(client_order_id)
        if symbol is None:
            raise OrderNotFound(f"binance has no open order {client_order_id!r}")
        answer = await self._call(
            Operation.CANCEL,
            _W_ORDER,
            self.client.cancel_order,
            symbol=symbol,
            origClientOrderId=client_order_id,
        )
        tracked = self._orders.get(client_order_id)
        prior = tracked.prior(int(answer["orderId"])) if tracked else (ZERO, ZERO)
        self._note_leg(client_order_id, answer)
        return mapping.update_from_json(answer, self.name, prior_filled=prior[0], prior_quote=prior[1])

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        """Cancel-replace (``POST /api/v3/order/cancelReplace``, STOP_ON_FAILURE) under the same client id.

        The replacement carries the same ``newClientOrderId`` (Binance admits it: the first order
        is cancelled before the new one is placed), so the core's id keeps naming the order.  The
        new order's quantity is the new total less what already executed.
        """
        current = await self.get_order(request.client_order_id)
        if current is None or not current.is_open:
            raise OrderNotFound(f"binance has no open order {request.client_order_id!r} to modify")
        tracked = self._orders.setdefault(request.client_order_id, _Tracked(current.to_request()))
        total = request.quantity if request.quantity is not None else current.quantity
        remaining = total - current.filled_quantity
        if remaining <= 0:
            raise InvalidOrder(
                "quantity", f"{total} is not above the {current.filled_quantity} already filled"
            )
        new_request = OrderRequest(
            client_order_id=current.client_order_id,
            symbol=current.symbol,
            side=current.side,
            order_type=current.order_type,
            quantity=remaining,
            price=request.price if request.price is not None else current.price,
            stop_price=request.stop_price if request.stop_price is not None else current.stop_price,
            time_in_force=current.time_in_force,
        )
        self._instrument(current.symbol).validate(new_request)
        last = await self.last_price(current.symbol) if new_request.order_type.needs_stop_price else None
        params = mapping.new_order_params(new_request, mapping.binance_order_type(new_request, last))
        params["cancelReplaceMode"] = "STOP_ON_FAILURE"
        params["cancelOrigClientOrderId"] = current.client_order_id
        old_leg = int(current.venue_order_id) if current.venue_order_id else None
        if old_leg is not None:
            tracked.replaced.add(old_leg)  # its CANCELED report is the replace, not the end of the order
        try:
            answer = await self._call(Operation.MODIFY, _W_ORDER, self.client.cancel_replace_order, **params)
        except OrderRejected as exc:
            await self._after_failed_replace(tracked, old_leg, exc)
            raise
        except BrokerError:
            raise
        new_order = answer["newOrderResponse"]
        self._note_leg(current.client_order_id, answer["cancelResponse"])
        self._note_leg(current.client_order_id, new_order)
        prior = tracked.prior(int(new_order["orderId"]))
        return mapping.update_from_json(new_order, self.name, prior_filled=prior[0], prior_quote=prior[1])

    async def _after_failed_replace(self, tracked: _Tracked, old_leg: int | None, exc: OrderRejected) -> None:
        """-2022: nothing was cancelled.  -2021: the old order *was* cancelled, the new one refused."""
        if old_leg is None:
            return
        if exc.code == -2021:
            tracked.replaced.discard(old_leg)
            answer = await self._query(tracked.symbol, tracked.request.client_order_id)
            order = mapping.order_from_json(answer) if answer is not None else None
            if order is not None:
                self._emit(_cancelled_by_failed_replace(order, f"modify failed after cancel: {exc}"))
        else:
            tracked.replaced.discard(old_leg)

    async def _query(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = await self._call(
                Operation.QUERY,
                _W_QUERY,
                self.client.get_order,
                symbol=symbol,
                origClientOrderId=client_order_id,
            )
        except OrderNotFound:
            return None
        return answer

    async def get_order(self, client_order_id: str) -> Order | None:
        symbol = await self._symbol_of(client_order_id)
        if symbol is None:
            return None
        answer = await self._query(symbol, client_order_id)
        if answer is None:
            return None
        tracked = self._orders.get(client_order_id)
        prior = tracked.prior(int(answer["orderId"])) if tracked else (ZERO, ZERO)
        self._note_leg(client_order_id, answer)
        return mapping.order_from_json(answer, prior_filled=prior[0], prior_quote=prior[1])

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        weight = _W_OPEN_ONE if symbol else _W_OPEN_ALL
        params = {"symbol": symbol} if symbol else {}
        answers = await self._call(Operation.QUERY, weight, self.client.get_open_orders, **params)
        orders = []
        for answer in answers:
            tracked = self._orders.get(answer["clientOrderId"])
            prior = tracked.prior(int(answer["orderId"])) if tracked else (ZERO, ZERO)
            orders.append(mapping.order_from_json(answer, prior_filled=prior[0], prior_quote=prior[1]))
        return orders

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        symbol = await self._symbol_of(client_order_id)
        if symbol is None:
            return []
        tracked = self._orders.get(client_order_id)
        legs = set(tracked.legs) if tracked else set()
        answer = await self._query(symbol, client_order_id)
        if answer is not None:
            legs.add(int(answer["orderId"]))
        fills: list[Fill] = []
        for order_id in sorted(legs):
            trades = await self._call(
                Operation.QUERY,
                _W_TRADES_BY_ORDER,
                self.client.get_my_trades,
                symbol=symbol,
                orderId=order_id,
            )
            fills.extend(mapping.fill_from_trade(t, client_order_id, self.name) for t in trades)
        if tracked is not None:
            tracked.fills.update((f.trade_id, f.quantity) for f in fills)
        return fills

    async def cancel_all_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        results = []
        for order in await self.get_open_orders(symbol):
            try:
                results.append(await self.cancel_order(order.client_order_id))
            except OrderNotFound:
                continue
        return results

    # ------------------------------------------------------------------ account
    async def get_balances(self) -> list[Balance]:
        answer = await self._call(Operation.QUERY, _W_ACCOUNT, self.client.get_account)
        return mapping.balances_from_account(answer)

    async def get_positions(self) -> list[Position]:
        """Spot holds assets, not positions: each non-quote asset's total balance is the position of
        ``<asset><quote_asset>`` (spot cannot be short, so these are never negative)."""
        quote = self.config.quote_asset
        positions = []
        for balance in await self.get_balances():
            if balance.asset == quote or balance.total == 0:
                continue
            symbol = f"{balance.asset}{quote}"
            if self._instruments and symbol not in self._instruments:
                continue
            positions.append(Position(symbol=symbol, quantity=balance.total))
        return positions

    # ------------------------------------------------------------------ stream
    def _on_stream_event(self, event: dict[str, Any]) -> None:
        if event.get("e") != "executionReport":
            return  # outboundAccountPosition / balanceUpdate: balances are read on demand
        client_order_id = mapping.report_client_order_id(event)
        order_id = int(event["i"])
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            tracked.note(order_id, mapping.dec(event["z"]), mapping.dec(event["Z"]))
            if event["x"] == "CANCELED" and order_id in tracked.replaced:
                return  # the first half of a cancel-replace: the order lives on as the new leg
        fill = mapping.fill_from_report(event, self.name)
        if fill is not None:
            if tracked is not None:
                tracked.fills[fill.trade_id] = fill.quantity
            self._emit(fill)
        prior = tracked.prior(order_id) if tracked else (ZERO, ZERO)
        update = mapping.update_from_report(event, self.name, prior_filled=prior[0], prior_quote=prior[1])
        if tracked is not None and update.status.is_terminal:
            tracked.terminal = True
        self._emit(update)

    async def reconcile(self) -> None:
        """After a stream gap: replay, from REST, every fill and state of the orders that may have moved.

        Fills already delivered are delivered again (the OMS keys fills by trade id and applies
        each once); none can be lost, since every order not known to be finished is queried.
        """
        async with self._reconcile_lock:
            for attempt in range(5):
                try:
                    await self._reconcile_once()
                    return
                except RateLimited as exc:
                    await asyncio.sleep(exc.retry_after or 1.0)
                except BrokerError as exc:
                    log.warning("binance: reconciliation attempt %d failed: %s", attempt + 1, exc)
                    await asyncio.sleep(0.5 * (attempt + 1))
            log.error("binance: reconciliation gave up; fills may be missing until the next one")

    async def _reconcile_once(self) -> None:
        open_ids = {o.client_order_id for o in await self.get_open_orders()}
        pending = [cid for cid, t in self._orders.items() if not t.settled or cid in open_ids]
        semaphore = asyncio.Semaphore(_RECONCILE_CONCURRENCY)

        async def one(client_order_id: str) -> tuple[list[Fill], Order | None]:
            async with semaphore:
                fills = await self.get_order_fills(client_order_id)
                return fills, await self.get_order(client_order_id)

        results = await asyncio.gather(*(one(cid) for cid in pending))
        for client_order_id, (fills, order) in zip(pending, results, strict=True):
            for fill in fills:
                self._emit(fill)
            if order is not None:
                self._emit(
                    OrderUpdate(
                        client_order_id=client_order_id,
                        status=order.status,
                        venue=self.name,
                        venue_order_id=order.venue_order_id,
                        filled_quantity=order.filled_quantity,
                        average_price=order.average_fill_price,
                        reason=order.reason,
                        quantity=order.quantity,
                        price=order.price,
                        stop_price=order.stop_price,
                    )
                )
                tracked = self._orders.get(client_order_id)
                if tracked is not None and order.status.is_terminal:
                    tracked.terminal = True


def _cancelled_by_failed_replace(order: Order, reason: str) -> OrderUpdate:
    """The update that tells the core a failed cancel-replace left the order cancelled."""
    return OrderUpdate(
        client_order_id=order.client_order_id,
        status=order.status,
        venue="binance",
        venue_order_id=order.venue_order_id,
        filled_quantity=order.filled_quantity,
        reason=reason,
    )
