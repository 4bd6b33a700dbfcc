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
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar

import attrs
from autotrader.adapter import BrokerAdapter, QuoteStream, check_backend
from autotrader.errors import (
    AutotraderError,
    BrokerError,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    UnknownSymbol,
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
    Quote,
)
from binance.exceptions import BinanceAPIException

from autotrader_binance import mapping
from autotrader_binance.capabilities import CAPABILITIES
from autotrader_binance.client import BinanceClient, close_client, create_client, socket_manager
from autotrader_binance.config import BinanceConfig
from autotrader_binance.errors import Operation, translate
from autotrader_binance.quotefeed import BookTickerFeed
from autotrader_binance.ratelimit import RequestBudget
from autotrader_binance.redaction import redactor
from autotrader_binance.tasks import cancel_until_done
from autotrader_binance.tracking import TrackedOrder
from autotrader_binance.userstream import UserStream

__all__ = ["CAPABILITIES", "BinanceAdapter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Request weights of the endpoints used (Binance spot, rest-api.md).
_W_ORDER: Final = 1
_W_AMEND: Final = 4
_W_QUERY: Final = 4
_W_OPEN_ALL: Final = 80
_W_OPEN_ONE: Final = 6
_W_ACCOUNT: Final = 20
_W_TRADES_BY_ORDER: Final = 5
_W_TICKER: Final = 2
_W_BOOK_ONE: Final = 2
_W_BOOK_SEVERAL: Final = 4
_W_EXCHANGE_INFO: Final = 20
_W_TIME: Final = 1
_RECONCILE_CONCURRENCY: Final = 8
_MAX_SYMBOL_SEARCH: Final = 20
"""Without ``symbols`` configured, an order of unknown symbol is searched in at most this many."""


class BinanceAdapter(BrokerAdapter):
    """Binance spot.  Asyncio only (python-binance is built on asyncio)."""

    name: ClassVar[str] = "binance"
    capabilities = CAPABILITIES

    def __init__(self, config: BinanceConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else BinanceConfig.from_env(**settings)
        self.budget = RequestBudget()
        self._client: BinanceClient | None = None
        self._stream: UserStream | None = None
        self._instruments: dict[str, Instrument] = {}
        self._amendable: frozenset[str] = frozenset()
        self._orders: dict[str, TrackedOrder] = {}
        self._connected = False
        self._reconcile_lock = asyncio.Lock()
        self._clock_task: asyncio.Task[None] | None = None
        self._quote_feeds: dict[asyncio.Task[None], QuoteStream] = {}
        self._redacting = False

    def __repr__(self) -> str:
        where = "testnet" if self.config.testnet else (self.config.api_url or "binance.com")
        return f"BinanceAdapter({where}, connected={self._connected})"

    # ------------------------------------------------------------------ lifecycle
    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def client(self) -> BinanceClient:
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
        self._redact(True)
        try:
            self._client = await create_client(self.config)
        except Exception as exc:
            self._redact(False)
            raise translate(exc, Operation.QUERY) from exc
        try:
            info = await self._call(Operation.QUERY, _W_EXCHANGE_INFO, self.client.get_exchange_info)
            self.budget.configure(info.get("rateLimits", []))
            wanted = set(self.config.symbols)
            symbols = [
                s
                for s in info.get("symbols", [])
                if s.get("status", "TRADING") == "TRADING" and (not wanted or s["symbol"] in wanted)
            ]
            self._instruments = {s["symbol"]: mapping.instrument_from_symbol(s) for s in symbols}
            self._amendable = frozenset(s["symbol"] for s in symbols if s.get("amendAllowed"))
            self._stream = UserStream(
                self.client,
                self._on_stream_event,
                self.reconcile,
                budget=self.budget,
                reconnect_timeout=self.config.stream_reconnect_timeout,
            )
            await self._stream.start()
        except BaseException as exc:
            await self._close_client()
            if isinstance(exc, Exception):  # e.g. the subscription's -1022: an AuthenticationError
                raise translate(exc, Operation.QUERY) from exc
            raise
        self._clock_task = asyncio.create_task(self._keep_clock(), name="binance-clock")
        self._connected = True
        return True

    async def disconnect(self) -> None:
        self._connected = False
        for task, stream in list(self._quote_feeds.items()):  # quotes() blocks still open end now
            stream.fail(NotConnected("the binance adapter was disconnected"))
            await cancel_until_done(task)
        clock, self._clock_task = self._clock_task, None
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self._close_client()

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await close_client(client)
        self._redact(False)

    def _redact(self, on: bool) -> None:
        """Mask this adapter's credentials in the client libraries' logs while it is connected."""
        if on is self._redacting:
            return
        self._redacting = on
        for value in (self.config.api_key.reveal(), self.config.api_secret.reveal()):
            (redactor.add if on else redactor.discard)(value)

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
        self,
        operation: Operation,
        weight: int,
        function: Callable[..., Awaitable[T]],
        /,
        *,
        counts_order: bool | None = None,
        **params: Any,
    ) -> T:
        """One REST call within the budget; -1021 (clock skew) resyncs the clock and retries once.

        The retry is safe even for an order: Binance answers -1021 before it processes anything.
        ``counts_order`` (default: submits and cancel-replaces) books it against the ORDERS limits.
        """
        if counts_order is None:
            counts_order = operation in (Operation.SUBMIT, Operation.MODIFY)
        await self.budget.acquire(weight, order=counts_order)
        for attempt in (1, 2):
            try:
                result = await function(**params)
            except BinanceAPIException as exc:
                self._observe(getattr(exc, "response", None))
                if exc.code == -1021 and attempt == 1:
                    await self._resync_clock()
                    continue
                error = translate(exc, operation)
                if isinstance(error, RateLimited):
                    self.budget.block(error.retry_after, ban=error.ban)
                raise error from exc
            except Exception as exc:
                raise translate(exc, operation) from exc
            self._observe(self.client.response)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _observe(self, response: Any) -> None:
        """The venue's counts of used weight and orders, from an answer's headers.

        python-binance keeps the latest answer as ``client.response``; with requests in flight
        together it may be another request's, which carries the same counters (at least as new).
        """
        headers = getattr(response, "headers", None)
        if headers is not None:
            self.budget.observe(headers)

    async def _resync_clock(self) -> None:
        """Measure the server clock again (``timestamp_offset``, with which every request is signed).

        The offset is taken against the middle of the round trip, so a slow answer does not put
        our timestamps ahead of Binance's clock (more than 1 s ahead is a -1021 too).
        """
        await self.budget.acquire(_W_TIME)
        before = time.time()
        answer = await self.client.get_server_time()
        after = time.time()
        local_ms = int((before + after) / 2 * 1000)
        self.client.timestamp_offset = int(answer["serverTime"]) - local_ms
        log.info("binance: clock resynchronised, offset %d ms", self.client.timestamp_offset)

    async def _keep_clock(self) -> None:
        """Keep the server-time offset current: clocks drift, and every -1021 costs a round trip."""
        while True:
            await asyncio.sleep(self.config.clock_sync_interval)
            try:
                await self._resync_clock()
            except Exception as exc:  # the next -1021 resynchronises anyway
                log.warning("binance: clock resync failed: %s", translate(exc, Operation.QUERY))

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

    # ------------------------------------------------------------------ live quotes
    @asynccontextmanager
    async def _quote_feed(self, symbols: tuple[str, ...], stream: QuoteStream) -> AsyncIterator[None]:
        """bookTicker streams for ``symbols`` through python-binance, in a task of their own.

        One symbol is a raw stream (``symbol_book_ticker_socket``), several one combined stream
        (``multiplex_socket``); see :mod:`autotrader_binance.quotefeed` for the reconnection.
        """
        client, config = self.client, self.config

        def open_socket(wanted: tuple[str, ...]) -> Any:
            manager = socket_manager(client, config)  # a new one each time: it caches its sockets
            if len(wanted) == 1:
                return manager.symbol_book_ticker_socket(wanted[0])
            return manager.multiplex_socket([f"{symbol.lower()}@bookTicker" for symbol in wanted])

        async def snapshot() -> list[Quote]:
            return await self._book_tickers(symbols)

        feed = BookTickerFeed(
            open_socket,
            symbols,
            snapshot=snapshot,
            deliver=stream.put,
            reconnect_initial=config.market_reconnect_initial,
            reconnect_max=config.market_reconnect_max,
        )
        task = asyncio.create_task(self._run_quote_feed(feed, stream), name="binance-quotes")
        self._quote_feeds[task] = stream
        try:
            yield
        finally:
            self._quote_feeds.pop(task, None)
            await cancel_until_done(task)

    async def _run_quote_feed(self, feed: BookTickerFeed, stream: QuoteStream) -> None:
        try:
            await feed.run()
        except Exception as exc:
            error = exc if isinstance(exc, AutotraderError) else translate(exc, Operation.QUERY)
            log.warning("binance quotes for %s ended: %s", ",".join(feed.symbols), error)
            stream.fail(error)

    async def _book_tickers(self, symbols: tuple[str, ...]) -> list[Quote]:
        """The current best bid and ask of ``symbols`` (``GET /api/v3/ticker/bookTicker``)."""
        try:
            if len(symbols) == 1:
                one = await self._call(
                    Operation.QUERY, _W_BOOK_ONE, self.client.get_orderbook_ticker, symbol=symbols[0]
                )
                answers = [one]
            else:
                answers = await self._call(
                    Operation.QUERY,
                    _W_BOOK_SEVERAL,
                    self.client.get_orderbook_tickers,
                    symbols=json.dumps(list(symbols), separators=(",", ":")),
                )
        except InvalidOrder as exc:
            if exc.code == -1121:  # listed when the quotes were asked for, no longer now
                raise UnknownSymbol(",".join(symbols), list(self._instruments)) from exc
            raise
        quotes = (mapping.quote_from_book_ticker_answer(answer, self.name) for answer in answers)
        return [quote for quote in quotes if quote is not None]

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
        params: dict[str, Any] = mapping.new_order_params(request, mapping.binance_order_type(request, last))
        tracked = self._orders.get(request.client_order_id)
        if tracked is None or tracked.terminal:
            self._orders[request.client_order_id] = TrackedOrder(request)
        answer = await self._call(Operation.SUBMIT, _W_ORDER, self.client.create_order, **params)
        self._note_leg(request.client_order_id, answer)
        self._emit_answer_fills(request.client_order_id, answer)
        return mapping.update_from_json(answer, self.name)

    def _emit_answer_fills(self, client_order_id: str, answer: Mapping[str, Any]) -> None:
        """Deliver the fills a FULL answer carries before the answer's status is returned.

        Otherwise the core would hear "FILLED" (or "EXPIRED" after a partial fill) from the answer
        while the fills are still on their way over the user data stream, and see for a moment an
        order done with nothing filled.  The stream's copies then arrive as duplicates.
        """
        tracked = self._orders.get(client_order_id)
        for fill in mapping.fills_from_new_order(answer, self.name):
            if tracked is not None:
                tracked.fills[fill.trade_id] = fill.quantity
            self._emit(fill)

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

    def _remember(self, answer: Mapping[str, Any]) -> str:
        """Track an order this process did not send (found by a query), so its symbol is known."""
        order = mapping.order_from_json(answer)
        self._orders.setdefault(order.client_order_id, TrackedOrder(order.to_request()))
        return order.symbol

    async def _symbol_of(self, client_order_id: str) -> str | None:
        """The symbol of an order, which Binance needs to find it; ``None`` only if it has none.

        An order this process did not send (after a restart) is looked for among the open orders,
        then in every configured symbol.  Without ``symbols`` and with more instruments than is
        reasonable to search, "no such order" would be a guess, and it is the one answer that
        makes the core send the order again: so that case raises instead of returning ``None``.
        """
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.symbol
        if len(self._instruments) == 1:
            return next(iter(self._instruments))
        answers = await self._call(Operation.QUERY, _W_OPEN_ALL, self.client.get_open_orders)
        for answer in answers:  # remembered all: the next lookup (recovery asks for each) is free
            self._remember(answer)
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.symbol
        candidates = self.config.symbols or tuple(self._instruments)
        if len(candidates) > _MAX_SYMBOL_SEARCH:
            raise BrokerError(
                f"binance cannot tell whether order {client_order_id!r} exists: this process did not "
                f"send it, it is not open, and Binance looks orders up per symbol, among "
                f"{len(candidates)} here; set the broker's `symbols` to the ones you trade"
            )
        for symbol in candidates:
            found = await self._query(symbol, client_order_id)
            if found is not None:
                return self._remember(found)
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
        """A quantity decrease alone is amended in place; anything else is a cancel-replace.

        Amend keep priority (``PUT /api/v3/order/amend/keepPriority``, where the symbol's
        ``amendAllowed``) keeps the order's id and its place in the queue.  A new price, stop price
        or a larger quantity needs ``POST /api/v3/order/cancelReplace`` (STOP_ON_FAILURE), which
        cancels the order and places a new one: the order's time priority is lost.
        """
        current = await self.get_order(request.client_order_id)
        if current is None or not current.is_open:
            raise OrderNotFound(f"binance has no open order {request.client_order_id!r} to modify")
        tracked = self._orders.setdefault(request.client_order_id, TrackedOrder(current.to_request()))
        total = request.quantity if request.quantity is not None else current.quantity
        if total <= current.filled_quantity:
            raise InvalidOrder(
                "quantity", f"{total} is not above the {current.filled_quantity} already filled"
            )
        if self._amends_in_place(current, request, total):
            return await self._amend(current, tracked, total)
        return await self._cancel_replace(current, tracked, request, total)

    def _amends_in_place(self, current: Order, request: ModifyRequest, total: Decimal) -> bool:
        same_price = request.price is None or request.price == current.price
        same_stop = request.stop_price is None or request.stop_price == current.stop_price
        return current.symbol in self._amendable and same_price and same_stop and total < current.quantity

    async def _amend(self, current: Order, tracked: TrackedOrder, total: Decimal) -> OrderUpdate:
        """``newQty`` is the Binance order's own quantity: the new total less earlier legs' executions."""
        leg = int(current.venue_order_id or 0)
        prior_qty, prior_quote = tracked.prior(leg)
        new_qty = total - prior_qty
        self._instrument(current.symbol).validate(attrs.evolve(current.to_request(), quantity=new_qty))
        answer: dict[str, Any] = await self._call(
            Operation.MODIFY,
            _W_AMEND,
            self._amend_keep_priority,
            counts_order=False,  # Binance: an amendment adds 0 to the unfilled order count
            symbol=current.symbol,
            orderId=leg,
            newClientOrderId=current.client_order_id,
            newQty=mapping.plain(new_qty),
        )
        amended = answer["amendedOrder"]
        tracked.note(leg, mapping.dec(amended["executedQty"]), mapping.dec(amended["cumulativeQuoteQty"]))
        return mapping.update_from_amend(answer, self.name, prior_filled=prior_qty, prior_quote=prior_quote)

    async def _amend_keep_priority(self, **params: Any) -> dict[str, Any]:
        """python-binance 1.0.37 has no spot method for this endpoint; its own request layer signs it."""
        answer: dict[str, Any] = await self.client._put("order/amend/keepPriority", True, data=params)
        return answer

    async def _cancel_replace(
        self, current: Order, tracked: TrackedOrder, request: ModifyRequest, total: Decimal
    ) -> OrderUpdate:
        """The replacement carries the same ``newClientOrderId`` (Binance admits it: the first order
        is cancelled before the new one is placed), so the core's id keeps naming the order.  The
        new order's quantity is the new total less what already executed.
        """
        new_request = OrderRequest(
            client_order_id=current.client_order_id,
            symbol=current.symbol,
            side=current.side,
            order_type=current.order_type,
            quantity=total - current.filled_quantity,
            price=request.price if request.price is not None else current.price,
            stop_price=request.stop_price if request.stop_price is not None else current.stop_price,
            time_in_force=current.time_in_force,
        )
        self._instrument(current.symbol).validate(new_request)
        last = await self.last_price(current.symbol) if new_request.order_type.needs_stop_price else None
        params: dict[str, Any] = mapping.new_order_params(
            new_request, mapping.binance_order_type(new_request, last)
        )
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
        new_order = answer["newOrderResponse"]
        self._note_leg(current.client_order_id, answer["cancelResponse"])
        self._note_leg(current.client_order_id, new_order)
        self._emit_answer_fills(current.client_order_id, new_order)
        prior = tracked.prior(int(new_order["orderId"]))
        return mapping.update_from_json(new_order, self.name, prior_filled=prior[0], prior_quote=prior[1])

    async def _after_failed_replace(
        self, tracked: TrackedOrder, old_leg: int | None, exc: OrderRejected
    ) -> None:
        """-2022: nothing was cancelled.  -2021: the old order *was* cancelled, the new one refused."""
        if old_leg is None:
            return
        tracked.replaced.discard(old_leg)
        if exc.code == -2021:
            answer = await self._query(tracked.symbol, tracked.request.client_order_id)
            if answer is not None:
                order = mapping.order_from_json(answer)
                self._emit(_cancelled_by_failed_replace(order, f"modify failed after cancel: {exc}"))

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
        params: dict[str, Any] = {"symbol": symbol} if symbol else {}
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
        """``executionReport`` becomes fills and order updates; the account events are not needed.

        ``outboundAccountPosition``, ``balanceUpdate`` and ``externalLockUpdate`` move balances,
        which the adapter reads on demand; ``listStatus`` concerns order lists, which it does not
        place.
        """
        if event.get("e") != "executionReport":
            return
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
            if order is None:
                continue
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
