"""The OANDA v20 broker adapter, on the synchronous oandapyV20 client.

Every REST call runs in a worker thread (:mod:`autotrader_oanda.workers`), so the event loop never blocks
and the adapter works under asyncio and trio alike.  The transaction stream runs in its own
thread (:class:`~autotrader_oanda.stream.TransactionFeed`) and queues transactions on the event
loop, in order, through the loop's thread-safe scheduler captured at connect, one loop wake-up
per burst (:class:`autotrader_oanda.handoff.Inbox`).

The core's client order id is the order's ``clientExtensions.id``; every query goes through
``orders/@{client id}``.  A modify is v20's replace (``PUT orders/{spec}``: cancel plus a new
order with ``replacesOrderID`` that keeps the client extensions), so the client id stays the
order's identity, and the core's quantity is what the replaced orders filled plus the new units.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from autotrader.adapter import BrokerAdapter, ExecutionEvent, QuoteStream, check_backend
from autotrader.errors import (
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderRejected,
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
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Quote,
    TimeInForce,
)
from oandapyV20.endpoints import accounts, orders, positions, transactions
from oandapyV20.endpoints.apirequest import APIRequest

from autotrader_oanda.capabilities import CAPABILITIES
from autotrader_oanda.client import V20Client
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import known_environment, register_environment
from autotrader_oanda.handoff import Inbox, loop_scheduler
from autotrader_oanda.mapping import (
    VENUE,
    InstrumentDetails,
    balances_from_summary,
    cancel_status,
    check_symbol,
    core_type,
    instrument_from_wire,
    order_body,
    order_from_wire,
    order_spec,
    positions_from_wire,
    side_of,
)
from autotrader_oanda.pricing import PriceFeed
from autotrader_oanda.stream import TransactionFeed
from autotrader_oanda.transactions import TransactionTranslator
from autotrader_oanda.workers import WorkerPool

log = logging.getLogger(__name__)
T = TypeVar("T")

VENUE_ID_PREFIX = "#"
"""Open orders placed without a client id (by hand, elsewhere) are named ``#<order id>``."""


class OandaAdapter(BrokerAdapter):
    name: ClassVar[str] = VENUE
    capabilities = CAPABILITIES

    def __init__(self, config: OandaConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else OandaConfig.from_env(**settings)
        self._client = V20Client(self.config)
        self._workers = WorkerPool()
        self._instruments: dict[str, InstrumentDetails] = {}
        self._translator = TransactionTranslator()
        self._feed: TransactionFeed | None = None
        self._inbox: Inbox[dict[str, Any]] | None = None
        self._connected = False
        self.currency: str | None = None

    def __repr__(self) -> str:
        return f"OandaAdapter(account_id={self.config.account_id!r}, environment={self.config.environment!r})"

    # ------------------------------------------------------------------ plumbing
    @property
    def account_id(self) -> str:
        return self.config.account_id

    async def _call(self, endpoint: APIRequest, *, mutating: bool = False) -> Any:
        """One v20 request in a worker thread, its failure mapped to the core's taxonomy."""
        return await self._workers.run(functools.partial(self._client.request, endpoint, mutating=mutating))

    def _require_connected(self) -> None:
        if not self._connected:
            raise NotConnected(f"the {self.name} adapter is not connected")

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> bool:
        check_backend(self)
        if self._connected:
            return True
        if self.config.api_url is not None and self.config.stream_url is not None:
            register_environment(self.config.environment, self.config.api_url, self.config.stream_url)
        elif not known_environment(self.config.environment):
            raise NotConnected(f"unknown OANDA environment {self.config.environment!r}")
        summary = await self._call(accounts.AccountSummary(self.account_id))
        self.currency = str(summary["account"]["currency"])
        self._translator.currency = self.currency
        params = {"instruments": ",".join(self.config.instruments)} if self.config.instruments else None
        listing = await self._call(accounts.AccountInstruments(self.account_id, params=params))
        self._instruments = {
            d.instrument.symbol: d for d in (instrument_from_wire(i) for i in listing["instruments"])
        }
        self._inbox = Inbox(loop_scheduler(), self._apply_transactions)
        self._feed = TransactionFeed(
            self._client,
            self.account_id,
            last_id=int(summary["lastTransactionID"]),
            deliver=self._deliver_from_thread,
            read_timeout=self.config.stream_timeout,
            reconnect_initial=self.config.reconnect_initial,
            reconnect_max=self.config.reconnect_max,
        )
        self._feed.start()
        self._connected = True
        await anyio.to_thread.run_sync(self._feed.connected.wait, self.config.request_timeout)
        return True

    async def disconnect(self) -> None:
        self._connected = False
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()
            await anyio.to_thread.run_sync(feed.join, self.config.stream_timeout + 1)
        self._workers.close()
        self._client.close()

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def stream_connected(self) -> bool:
        return self._feed is not None and self._feed.connected.is_set()

    async def health_check(self) -> bool:
        """A summary round trip, and the stream thread alive (it reconnects by itself)."""
        if not self._connected or self._feed is None or not self._feed.alive:
            return False
        try:
            await self._call(accounts.AccountSummary(self.account_id))
        except Exception as exc:
            log.info("oanda health check failed: %s", exc)
            return False
        return True

    # ------------------------------------------------------------------ live quotes
    @asynccontextmanager
    async def _quote_feed(self, symbols: tuple[str, ...], stream: QuoteStream) -> AsyncIterator[None]:
        """v20's pricing stream for ``symbols``, in a thread of its own, into ``stream``."""
        token = anyio.lowlevel.current_token()

        def deliver(item: Quote | BaseException) -> None:
            anyio.from_thread.run_sync(stream.put, item, token=token)

        feed = PriceFeed(
            self._client,
            self.account_id,
            symbols,
            deliver=deliver,
            fail=deliver,
            read_timeout=self.config.stream_timeout,
            reconnect_initial=self.config.reconnect_initial,
            reconnect_max=self.config.reconnect_max,
        )
        feed.start()
        try:
            yield
        finally:
            feed.stop()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(feed.join, self.config.stream_timeout + 1)

    # ------------------------------------------------------------------ the stream, in the loop
    def _deliver_from_thread(self, txns: list[dict[str, Any]]) -> None:
        """Runs in the feed thread: queue the batch on the event loop (raises once it is gone)."""
        assert self._inbox is not None
        self._inbox.put(txns)

    def _apply_transactions(self, txns: list[dict[str, Any]]) -> None:
        for txn in txns:
            try:
                events = self._translator.events(txn)
            except Exception:  # a malformed transaction must not stop the feed
                log.exception("oanda: could not translate transaction %s", txn.get("id"))
                continue
            for event in events:
                self._emit(event)

    def _emit_all(self, events: list[ExecutionEvent]) -> None:
        for event in events:
            self._emit(event)

    # ------------------------------------------------------------------ reference data
    async def instruments(self) -> Mapping[str, Instrument]:
        self._require_connected()
        return {symbol: d.instrument for symbol, d in self._instruments.items()}

    def instrument_details(self, symbol: str) -> InstrumentDetails:
        """Pip location, display and units precision, margin rate: v20's view of ``symbol``."""
        return check_symbol(symbol, self._instruments)

    # ------------------------------------------------------------------ orders
    def _check_request(self, request: OrderRequest) -> InstrumentDetails:
        details = check_symbol(request.symbol, self._instruments)
        caps = self.capabilities
        if request.order_type not in caps.order_types:
            raise UnsupportedOrder("order_type", f"OANDA has no {request.order_type.value} orders")
        allowed = caps.market_time_in_force if request.order_type is OrderType.MARKET else caps.time_in_force
        if request.time_in_force not in allowed:
            raise UnsupportedOrder(
                "time_in_force",
                f"{request.time_in_force.value} is not allowed for {request.order_type.value}",
            )
        details.instrument.validate(request)
        return details

    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        self._require_connected()
        details = self._check_request(request)
        body = order_body(request, details)
        response = await self._call(orders.OrderCreate(self.account_id, data=body), mutating=True)
        return self._settle(
            request.client_order_id,
            request.quantity,
            response,
            create_key="orderCreateTransaction",
            cancel_key="orderCancelTransaction",
        )

    def _settle(
        self,
        client_order_id: str,
        total: Decimal,
        response: dict[str, Any],
        *,
        create_key: str,
        cancel_key: str,
        filled_before: Decimal = ZERO,
        **update_fields: Any,
    ) -> OrderUpdate:
        """Emit the fills an order response carries and return the order's state after it."""
        create = response.get(create_key) or {}
        order_id = str(create.get("id")) if create.get("id") is not None else None
        filled = filled_before
        fill_txn = response.get("orderFillTransaction")
        if isinstance(fill_txn, dict):
            filled += abs(Decimal(str(fill_txn["units"])))
            self._emit_all(self._translator.events(fill_txn))
        cancel = response.get(cancel_key)
        if isinstance(cancel, dict):
            reason = str(cancel.get("reason"))
            status = cancel_status(reason, filled - filled_before)
            if status is OrderStatus.REJECTED:
                raise OrderRejected(f"OANDA cancelled the order at once: {reason}", code=reason)
            extra: dict[str, Any] = {"reason": None if status is OrderStatus.CANCELLED else reason}
        elif filled >= total:
            status, extra = OrderStatus.FILLED, {}
        elif filled > 0:
            status, extra = OrderStatus.PARTIALLY_FILLED, {}
        else:
            status, extra = OrderStatus.ACCEPTED, {}
        return OrderUpdate(
            client_order_id=client_order_id,
            status=status,
            venue=VENUE,
            venue_order_id=order_id,
            filled_quantity=filled,
            average_price=Decimal(str(fill_txn["fullVWAP"])) if isinstance(fill_txn, dict) else None,
            **extra,
            **update_fields,
        )

    @staticmethod
    def _spec(client_order_id: str) -> str:
        """The ``{spec}`` path segment: ``@`` + the client id, or an order id for ``#<id>``."""
        if client_order_id.startswith(VENUE_ID_PREFIX):
            return client_order_id[len(VENUE_ID_PREFIX) :]
        return "@" + quote(client_order_id, safe="")

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        self._require_connected()
        endpoint = orders.OrderCancel(self.account_id, orderID=self._spec(client_order_id))
        response = await self._call(endpoint, mutating=True)
        cancel = response.get("orderCancelTransaction") or {}
        return OrderUpdate(
            client_order_id=client_order_id,
            status=OrderStatus.CANCELLED,
            venue=VENUE,
            venue_order_id=str(cancel["orderID"]) if cancel.get("orderID") else None,
        )

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        self._require_connected()
        current = await self._chain(request.client_order_id)
        if current is None:
            raise OrderNotFound(f"OANDA has no order {request.client_order_id!r}")
        head, chain_ids = current
        fills = await self._fills_of(chain_ids)
        filled = sum((f.quantity for f in fills), start=ZERO)
        order_type, price, stop = core_type(head)
        old_units = Decimal(str(head["units"]))
        side = side_of(old_units)
        head_filled = sum((f.quantity for f in fills if f.venue_order_id == str(head["id"])), start=ZERO)
        quantity = request.quantity if request.quantity is not None else filled - head_filled + abs(old_units)
        new = OrderRequest(
            client_order_id=request.client_order_id,
            symbol=str(head["instrument"]),
            side=side,
            order_type=order_type,
            quantity=quantity,
            price=request.price if request.price is not None and order_type.needs_price else price,
            stop_price=request.stop_price
            if request.stop_price is not None and order_type.needs_stop_price
            else stop,
            time_in_force=TimeInForce.DAY if head.get("timeInForce") == "GFD" else TimeInForce.GTC,
        )
        details = self._check_request(new)
        remaining = quantity - filled
        if remaining <= 0:
            raise InvalidOrder("quantity", f"{quantity} is not above the {filled} already filled")
        spec = order_spec(
            new.order_type,
            new.time_in_force,
            side,
            remaining,
            details,
            price=new.price,
            stop_price=new.stop_price,
            client_order_id=request.client_order_id,
            reduce_only=head.get("positionFill") == "REDUCE_ONLY",
        )
        spec["timeInForce"] = head.get("timeInForce", spec.get("timeInForce"))
        endpoint = orders.OrderReplace(self.account_id, orderID=str(head["id"]), data={"order": spec})
        response = await self._call(endpoint, mutating=True)
        return self._settle(
            request.client_order_id,
            quantity,
            response,
            create_key="orderCreateTransaction",
            cancel_key="replacingOrderCancelTransaction",
            filled_before=filled,
            quantity=quantity,
            price=new.price,
            stop_price=new.stop_price,
        )

    # ------------------------------------------------------------------ queries
    async def _get_order_json(self, spec: str) -> dict[str, Any] | None:
        try:
            response = await self._call(orders.OrderDetails(self.account_id, orderID=spec))
        except OrderNotFound:
            return None
        order: dict[str, Any] = response["order"]
        return order

    async def _chain(self, client_order_id: str) -> tuple[dict[str, Any], list[str]] | None:
        """The newest order carrying the client id, and the ids of the orders it replaced."""
        head = await self._get_order_json(self._spec(client_order_id))
        if head is None:
            return None
        ids = [str(head["id"])]
        previous = head.get("replacesOrderID")
        while previous:
            older = await self._get_order_json(str(previous))
            if older is None:
                break
            ids.append(str(older["id"]))
            previous = older.get("replacesOrderID")
        return head, ids

    async def _transactions_since(self, since: int) -> list[dict[str, Any]]:
        collected: list[dict[str, Any]] = []
        while True:
            endpoint = transactions.TransactionsSinceID(self.account_id, params={"id": str(since)})
            response = await self._call(endpoint)
            batch = [t for t in response.get("transactions", []) if int(t["id"]) > since]
            if not batch:
                return collected
            collected.extend(batch)
            since = max(int(t["id"]) for t in batch)
            if since >= int(response.get("lastTransactionID", since)):
                return collected

    async def _order_transactions(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """Every transaction about these orders (an order's id is its create transaction's id)."""
        wanted = set(order_ids)
        since = min(int(i) for i in order_ids) - 1
        return [t for t in await self._transactions_since(since) if str(t.get("orderID")) in wanted]

    async def _fills_of(self, order_ids: list[str]) -> list[Fill]:
        fills = []
        for txn in await self._order_transactions(order_ids):
            if txn.get("type") == "ORDER_FILL":
                fill = self._translator.fill(txn)
                if fill is not None:
                    fills.append(fill)
        return fills

    async def get_order(self, client_order_id: str) -> Order | None:
        self._require_connected()
        chain = await self._chain(client_order_id)
        if chain is None:
            return None
        head, ids = chain
        related = await self._order_transactions(ids)
        return self._order_view(client_order_id, head, related)

    def _order_view(self, client_order_id: str, head: dict[str, Any], related: list[dict[str, Any]]) -> Order:
        head_id = str(head["id"])
        fills = [t for t in related if t.get("type") == "ORDER_FILL"]
        filled = sum((abs(Decimal(str(t["units"]))) for t in fills), start=ZERO)
        before = sum(
            (abs(Decimal(str(t["units"]))) for t in fills if str(t["orderID"]) != head_id), start=ZERO
        )
        notional = sum(
            (abs(Decimal(str(t["units"]))) * Decimal(str(t.get("fullVWAP") or t["price"])) for t in fills),
            start=ZERO,
        )
        commission = sum((Decimal(str(t.get("commission", "0"))) for t in fills), start=ZERO)
        cancels = [t for t in related if t.get("type") == "ORDER_CANCEL" and str(t["orderID"]) == head_id]
        return order_from_wire(
            head,
            client_order_id=client_order_id,
            filled=filled,
            filled_before=before,
            average_price=notional / filled if filled else None,
            commission=commission,
            cancel_reason=str(cancels[-1]["reason"]) if cancels else None,
        )

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        self._require_connected()
        response = await self._call(orders.OrdersPending(self.account_id))
        pending = [o for o in response.get("orders", []) if symbol is None or o.get("instrument") == symbol]
        pending = [o for o in pending if o.get("type") in ("MARKET", "LIMIT", "STOP", "MARKET_IF_TOUCHED")]
        if not pending:
            return []
        related = await self._transactions_since(min(int(o["id"]) for o in pending) - 1)
        result = []
        for head in pending:
            client_id = (head.get("clientExtensions") or {}).get("id") or f"{VENUE_ID_PREFIX}{head['id']}"
            if head.get("replacesOrderID"):  # the replaced orders' fills count too: walk the chain
                chain = await self._chain(client_id)
                mine = await self._order_transactions(chain[1]) if chain is not None else []
            else:
                mine = [t for t in related if str(t.get("orderID")) == str(head["id"])]
            result.append(self._order_view(client_id, head, mine))
        return result

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        self._require_connected()
        chain = await self._chain(client_order_id)
        if chain is None:
            return []
        return await self._fills_of(chain[1])

    # ------------------------------------------------------------------ account
    async def get_positions(self) -> list[Position]:
        self._require_connected()
        response = await self._call(positions.OpenPositions(self.account_id))
        return positions_from_wire(response.get("positions", []))

    async def get_balances(self) -> list[Balance]:
        self._require_connected()
        response = await self._call(accounts.AccountSummary(self.account_id))
        return balances_from_summary(response["account"])

    async def account_summary(self) -> dict[str, Any]:
        """v20's account summary (NAV, margin used and available, P&L) as returned."""
        self._require_connected()
        response = await self._call(accounts.AccountSummary(self.account_id))
        summary: dict[str, Any] = response["account"]
        return summary


def create_adapter(config: OandaConfig | None = None, **settings: Any) -> OandaAdapter:
    """The plugin's factory: ``OandaAdapter(OandaConfig(...))`` or keyword settings / env vars."""
    return OandaAdapter(config, **settings)
