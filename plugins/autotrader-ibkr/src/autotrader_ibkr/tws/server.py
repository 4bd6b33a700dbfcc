"""The local TWS: an anyio TCP server speaking the TWS API socket protocol on 127.0.0.1.

One :class:`Session` per client connection: the handshake (``API\\0``, version range, the reply
``[176, time]``), START_API (then NEXT_VALID_ID, MANAGED_ACCTS and the farm-status notices TWS
sends), and a request loop that answers each request with the messages and end markers the
clients wait for.  What the :class:`~autotrader_ibkr.tws.exchange.Exchange` reports is routed
to the owning client's session, through the fault switches.  Market data streams to each
session's subscriptions (:mod:`~autotrader_ibkr.tws.marketdata`) whenever a price or a size
moves.  Writes go through a per-session queue drained by one writer task, so notices can be
routed from synchronous code in order; what is queued when the writer runs goes out in one socket
write, and a request may ask for what it answered so far to be on the socket before it goes on
(an order's acknowledgement before its fill, as TWS sends them).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from autotrader_ibkr.tws import messages as m
from autotrader_ibkr.tws import requests as rq
from autotrader_ibkr.tws.exchange import (
    AccountChanged,
    Exchange,
    Executed,
    Notice,
    OrderChanged,
    OrderError,
)
from autotrader_ibkr.tws.faults import TwsFaults
from autotrader_ibkr.tws.marketdata import DataType, Subscription
from autotrader_ibkr.tws.model import ACCOUNT, Execution, VenueOrder
from autotrader_ibkr.tws.wire import (
    API_SIGN,
    SERVER_VERSION,
    FrameBuffer,
    In,
    decode_payload,
    encode_message,
    negotiate_version,
    parse_version_range,
)

__all__ = ["Session", "TwsServer", "running_tws"]

log = logging.getLogger(__name__)

FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)

Tagged = tuple[m.Message, int]
"""A message and the permId of the order it concerns (0: none)."""
Follow = Callable[[], None]
"""The rest of a request's answer, run once what was answered before it is on the socket."""


class Session:
    """One client connection."""

    def __init__(self, server: TwsServer, stream: anyio.abc.SocketStream) -> None:
        self.server = server
        self.stream = stream
        self.client_id: int | None = None
        self.account_updates = False
        self.positions = False
        self.multi_req_ids: set[int] = set()
        self.pending: list[Tagged] = []
        """Order messages kept while IB connectivity is lost (flushed on 1102, dropped on 1101)."""
        self.market_data: dict[int, Subscription] = {}
        """Streaming REQ_MKT_DATA subscriptions by request id."""
        self.market_data_type = DataType.REALTIME
        self._send: MemoryObjectSendStream[bytes | anyio.Event]
        self._receive: MemoryObjectReceiveStream[bytes | anyio.Event]
        self._send, self._receive = anyio.create_memory_object_stream[bytes | anyio.Event](math.inf)
        self._scope = anyio.CancelScope()
        self.closed = False
        self._flushing = False

    def write(self, message: m.Message) -> None:
        if not self.closed:
            self._send.send_nowait(encode_message(message))

    def write_encoded(self, data: bytes) -> None:
        """Messages already framed (kept encoded by the server), in one socket write."""
        if not self.closed and data:
            self._send.send_nowait(data)

    def write_all(self, messages: Sequence[m.Message]) -> None:
        for message in messages:
            self.write(message)

    def write_together(self, messages: Sequence[m.Message]) -> None:
        """Several messages in one socket write: a quote's bid and ask ticks arrive in one read."""
        if not self.closed and messages:
            self._send.send_nowait(b"".join(encode_message(message) for message in messages))

    def close(self, *, flush: bool = False) -> None:
        """Drop the connection: at once, or (``flush``) after what is queued has been written."""
        self.closed = True
        if flush:
            self._flushing = True
            self._send.close()
        else:
            self._scope.cancel()

    async def run(self) -> None:
        with self._scope:
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._writer)
                    await self._reader()
                    if not self._flushing:
                        tg.cancel_scope.cancel()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
        self.closed = True
        with anyio.CancelScope(shield=True):
            await self.stream.aclose()

    async def flushed(self) -> None:
        """Return once everything written so far is on the socket."""
        if self.closed:
            return
        written = anyio.Event()
        self._send.send_nowait(written)
        await written.wait()

    async def _writer(self) -> None:
        """What is queued goes out in one socket write; a flush mark splits the writes."""
        async for item in self._receive:
            queued = [item]
            with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):  # all there is, for now
                while True:
                    queued.append(self._receive.receive_nowait())
            chunks: list[bytes] = []
            for entry in queued:
                if isinstance(entry, bytes):
                    chunks.append(entry)
                    continue
                if chunks:
                    await self.stream.send(b"".join(chunks))
                    chunks = []
                entry.set()
            if chunks:
                await self.stream.send(b"".join(chunks))
        self._scope.cancel()  # the queue was closed: the connection ends once it is written

    async def _reader(self) -> None:
        buffer = FrameBuffer()
        sign_seen = handshaken = False
        while True:
            try:
                data = await self.stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return
            buffer.append(data)
            if not sign_seen:
                sign = buffer.take(len(API_SIGN))
                if sign is None:
                    continue
                if sign != API_SIGN:
                    log.warning("local TWS: a client opened with %r, not API\\0", sign)
                    return
                sign_seen = True
            payloads = buffer.feed()
            if not handshaken:
                if not payloads:
                    continue
                handshaken = True
                if not self._answer_handshake(payloads.pop(0)):
                    return
            for payload in payloads:
                fields = decode_payload(payload)
                if not fields:
                    continue
                try:
                    follow = self.server.dispatch(self, fields)
                    if follow is not None:
                        await self.flushed()
                        follow()
                except Exception:
                    log.exception("local TWS: cannot process %s", fields[:4])
                    self.write(m.error(-1, 320, "Server error when reading an API client request."))
                if self.closed:
                    return

    def _answer_handshake(self, payload: bytes) -> bool:
        low, high, _options = parse_version_range(payload.decode())
        version = negotiate_version(low, high)
        if version is None:
            log.warning("local TWS: client versions %s..%s exclude %s", low, high, SERVER_VERSION)
            return False
        stamp = time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime())
        self.write([version, stamp])
        return True


class TwsServer:
    """The TWS: the exchange, the sessions, the fault switches, and the routing between them."""

    def __init__(self, exchange: Exchange | None = None, *, faults: TwsFaults | None = None) -> None:
        self.exchange = exchange if exchange is not None else Exchange()
        self.faults = faults if faults is not None else TwsFaults()
        self.sessions: dict[int, Session] = {}
        self.connected: list[Session] = []
        self.port = 0
        self.connectivity = "ok"
        self._outage_until = 0.0
        self._held: dict[int, float] = {}
        """When each held order's messages may go out (by permId: the accept-then-timeout fault)."""
        self._held_messages: dict[int, list[m.Message]] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self.requests: list[list[str]] = []
        """Every request received, in order (for tests of what the client sent)."""
        self.without_live_data: set[int] = set()
        """conIds the account has no live market-data subscription for: REQ_MKT_DATA is refused
        with 354, or answered with delayed data (10167) for a client that asked for it."""
        self.delayed_data_enabled = True
        """Whether delayed data is offered where live is not (else 10168)."""
        self._completed_wire: dict[int, tuple[VenueOrder, tuple[str, Decimal, str], bytes]] = {}
        """Each completed order's COMPLETED_ORDER, encoded once (keyed by the order's identity,
        kept with the state it shows): TWS sends every completed order of the day on each
        request, and encoding them all again made each one cost ~18 us per order."""

    # ------------------------------------------------------------------ lifecycle
    async def serve(
        self, *, port: int = 0, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port)
        self.port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
        async with anyio.create_task_group() as tg, listener:
            self._task_group = tg
            task_status.started(self.port)
            await listener.serve(self._accept, task_group=tg)

    async def _accept(self, stream: anyio.abc.SocketStream) -> None:
        if anyio.current_time() < self._outage_until:
            await stream.aclose()
            return
        session = Session(self, stream)
        self.connected.append(session)
        try:
            await session.run()
        finally:
            self.connected.remove(session)
            if session.client_id is not None and self.sessions.get(session.client_id) is session:
                del self.sessions[session.client_id]

    # ------------------------------------------------------------------ requests
    def dispatch(self, session: Session, fields: list[str]) -> Follow | None:
        """Answer one request; what it returns is to run once the answer so far is on the socket."""
        self.requests.append(fields)
        request = rq.parse_request(fields)
        if request is None:
            log.warning("local TWS: request %s not supported", fields[0])
            return None
        if session.client_id is None and not isinstance(request, rq.StartApi):
            session.write(m.error(-1, 504, "Not connected"))
            return None
        return self._handle(session, request)

    def _handle(self, s: Session, request: rq.Request) -> Follow | None:
        """Answer one request with what TWS sends for it (and its end marker)."""
        client_id = s.client_id or 0
        match request:
            case rq.StartApi():
                self._start_api(s, request)
            case rq.ReqIds():
                s.write(m.next_valid_id(self.exchange.next_order_id(client_id)))
            case rq.NoArguments(msg_id=msg_id):
                self._no_arguments(s, msg_id)
            case rq.AutoOpenOrders():
                pass  # nothing to answer: manual TWS orders do not exist here
            case rq.MarketDataType(data_type=data_type):
                s.market_data_type = DataType(data_type)
            case rq.CompletedOrdersQuery():
                self._req_completed_orders(s)
            case rq.AccountUpdates():
                self._req_account_updates(s, request)
            case rq.AccountUpdatesMulti():
                self._req_account_updates_multi(s, request)
            case rq.CancelRequest(msg_id=In.CANCEL_ACCOUNT_UPDATES_MULTI, req_id=req_id):
                s.multi_req_ids.discard(req_id)
            case rq.CancelRequest(msg_id=In.CANCEL_MKT_DATA, req_id=req_id):
                self._cancel_mkt_data(s, req_id)
            case rq.CancelRequest():
                pass  # an account summary is a snapshot here: nothing keeps streaming
            case rq.AccountSummaryQuery():
                self._req_account_summary(s, request)
            case rq.ExecutionQuery():
                self._req_executions(s, request)
            case rq.ContractDetailsQuery():
                self._req_contract_data(s, request)
            case rq.PlaceOrder():
                return self._place_order(s, request)
            case rq.CancelOrder(order_id=order_id):
                self.route(self.exchange.cancel(client_id, order_id))
            case rq.MarketDataQuery():
                self._req_mkt_data(s, request)
        return None

    def _no_arguments(self, s: Session, msg_id: In) -> None:
        if msg_id is In.REQ_CURRENT_TIME:
            s.write(m.current_time(int(time.time())))
        elif msg_id is In.REQ_MANAGED_ACCTS:
            s.write(m.managed_accounts([ACCOUNT]))
        elif msg_id is In.REQ_POSITIONS:
            self._req_positions(s)
        elif msg_id is In.CANCEL_POSITIONS:
            s.positions = False
        elif msg_id in (In.REQ_OPEN_ORDERS, In.REQ_ALL_OPEN_ORDERS):
            self._req_open_orders(s, everyone=msg_id is In.REQ_ALL_OPEN_ORDERS)
        elif msg_id is In.REQ_GLOBAL_CANCEL:
            self.route(self.exchange.global_cancel())
        else:  # pragma: no cover - PARSERS maps only the ids above to NoArguments
            raise ValueError(f"no handler for {msg_id!r}")

    def _start_api(self, session: Session, request: rq.StartApi) -> None:
        client_id = request.client_id
        holder = self.sessions.get(client_id)
        if holder is not None and not holder.closed:
            session.write(
                m.error(
                    -1,
                    326,
                    "Unable to connect as the client id is already in use. Retry with a unique client id.",
                )
            )
            session.close(flush=True)
            return
        session.client_id = client_id
        self.sessions[client_id] = session
        session.write(m.next_valid_id(self.exchange.next_order_id(client_id)))
        session.write(m.managed_accounts([ACCOUNT]))
        for code, text in FARM_NOTICES:
            session.write(m.error(-1, code, text))

    def _req_positions(self, session: Session) -> None:
        session.positions = True
        session.write_all([m.position(p) for p in self.exchange.positions.values()])
        session.write(m.position_end())

    def _req_open_orders(self, session: Session, *, everyone: bool) -> None:
        for order in self.exchange.orders:
            if order.is_working and (everyone or order.client_id == session.client_id):
                session.write_all([m.open_order(order), m.order_status(order)])
        session.write(m.open_order_end())

    def _req_completed_orders(self, session: Session) -> None:
        if not self.faults.completed_orders_lost:
            ended = (self._completed_message(o) for o in self.exchange.orders if not o.is_working)
            session.write_encoded(b"".join(ended))
        session.write(m.completed_orders_end())

    def _completed_message(self, order: VenueOrder) -> bytes:
        state = (order.status, order.filled, order.completed_time)
        kept = self._completed_wire.get(id(order))
        if kept is not None and kept[0] is order and kept[1] == state:
            return kept[2]
        data = encode_message(m.completed_order(order))
        self._completed_wire[id(order)] = (order, state, data)
        return data

    def _account_messages(self) -> list[m.Message]:
        out = [
            m.account_value(tag, value, currency) for tag, value, currency in self.exchange.account_values()
        ]
        for position in self.exchange.positions.values():
            out.append(m.portfolio_value(position, self.exchange.mark(position.contract.con_id)))
        out.append(m.account_update_time(time.strftime("%H:%M", time.gmtime())))
        return out

    def _req_account_updates(self, session: Session, request: rq.AccountUpdates) -> None:
        session.account_updates = request.subscribe
        if request.subscribe:
            session.write_all(self._account_messages())
            session.write(m.account_download_end(request.account or ACCOUNT))

    def _req_account_updates_multi(self, session: Session, request: rq.AccountUpdatesMulti) -> None:
        req_id = request.req_id
        session.multi_req_ids.add(req_id)
        for tag, value, currency in self.exchange.account_values():
            session.write(m.account_update_multi(req_id, tag, value, currency))
        session.write(m.account_update_multi_end(req_id))

    def _req_account_summary(self, session: Session, query: rq.AccountSummaryQuery) -> None:
        for tag, value, currency in self.exchange.account_values():
            if query.wants(tag):
                session.write(m.account_summary(query.req_id, tag, value, currency))
        session.write(m.account_summary_end(query.req_id))

    def _req_executions(self, session: Session, query: rq.ExecutionQuery) -> None:
        for execution in self.exchange.executions:
            order = execution.order
            if query.client_id is not None and order.client_id != query.client_id:
                continue
            if query.symbol and query.symbol != order.contract.symbol:
                continue
            if query.sec_type and query.sec_type != order.contract.sec_type:
                continue
            if query.side and query.side not in (order.action, execution.side):
                continue
            if not query.wants_time(execution.time):
                continue
            session.write(m.execution_data(query.req_id, execution))
            session.write(m.commission_report(execution))
        session.write(m.execution_data_end(query.req_id))

    def _req_contract_data(self, session: Session, query: rq.ContractDetailsQuery) -> None:
        found = self.exchange.resolve(query.contract)
        if not found:
            session.write(m.error(query.req_id, 200, "No security definition has been found for the request"))
            return
        session.write_all([m.contract_details(query.req_id, c) for c in found])
        session.write(m.contract_details_end(query.req_id))

    def _req_mkt_data(self, session: Session, query: rq.MarketDataQuery) -> None:
        """TICK_REQ_PARAMS, MARKET_DATA_TYPE, then both sides of the book; a snapshot ends there."""
        req_id = query.req_id
        if req_id in session.market_data:
            session.write(m.error(req_id, 102, "Duplicate ticker ID."))
            return
        found = self.exchange.resolve(query.contract)
        if len(found) != 1:
            session.write(m.error(req_id, 200, "No security definition has been found for the request"))
            return
        contract = found[0]
        delayed = contract.con_id in self.without_live_data
        if delayed:
            if not session.market_data_type.wants_delayed:
                session.write(m.error(req_id, 354, "Requested market data is not subscribed."))
                return
            if not self.delayed_data_enabled:
                text = "Requested market data is not subscribed. Delayed market data is not enabled."
                session.write(m.error(req_id, 10168, text))
                return
            text = "Requested market data is not subscribed. Displaying delayed market data."
            session.write(m.error(req_id, 10167, text))
        subscription = Subscription(req_id, contract.con_id, delayed=delayed)
        session.write(m.tick_req_params(req_id, contract.min_tick, "", 3))
        session.write(m.market_data_type(req_id, DataType.DELAYED if delayed else DataType.REALTIME))
        book = self.exchange.top_of_book(contract.con_id)
        if query.snapshot or query.regulatory_snapshot:
            session.write_together([*subscription.ticks(book), m.tick_snapshot_end(req_id)])
            return
        session.market_data[req_id] = subscription
        if self.connectivity == "ok":
            session.write_together(subscription.ticks(book))

    def _cancel_mkt_data(self, session: Session, req_id: int) -> None:
        if session.market_data.pop(req_id, None) is None:
            session.write(m.error(req_id, 300, f"Can't find EId with tickerId:{req_id}"))

    def push_quotes(self, con_id: int | None = None) -> None:
        """Send each subscriber of ``con_id`` (None: of every contract) the sides that moved."""
        if self.connectivity != "ok":
            return  # TWS has no data from IB; what moved meanwhile goes out on 1102
        for session in list(self.sessions.values()):
            for subscription in list(session.market_data.values()):
                wanted = con_id is None or subscription.con_id == con_id
                if wanted and subscription.con_id in self.exchange.contracts:
                    book = self.exchange.top_of_book(subscription.con_id)
                    session.write_together(subscription.ticks(book))

    def _place_order(self, session: Session, request: rq.PlaceOrder) -> Follow | None:
        """The acknowledgement (OPEN_ORDER, ORDER_STATUS) now; what the matching did once it is out.

        TWS acknowledges an order when it takes it, and an execution comes back from the exchange
        later, never in the same write: a client reading them as one burst would also decode the
        fill, the account update and the position before it could see its acknowledgement.
        """
        client_id = session.client_id or 0
        faults = self.faults
        if faults.rate_limits:
            faults.rate_limits -= 1
            session.write(
                m.error(
                    request.order_id,
                    100,
                    "Max rate of messages per second has been exceeded:max=50 rec=51 (1)",
                )
            )
            return None
        if faults.server_errors:
            faults.server_errors -= 1
            session.write(
                m.error(
                    request.order_id, 322, "Error processing request.-'bW' : cause - injected server error"
                )
            )
            return None
        is_new = self.exchange.find(client_id, request.order_id) is None
        notices = self.exchange.place(client_id, request)
        accepted = is_new and self.exchange.find(client_id, request.order_id) is not None
        if accepted and faults.drop_after_accept:
            faults.drop_after_accept -= 1
            session.close()
            return None
        if accepted and faults.hold_orders:
            faults.hold_orders -= 1
            order = self.exchange.find(client_id, request.order_id)
            assert order is not None
            self._held[order.perm_id] = anyio.current_time() + faults.hold_seconds
        if len(notices) > 1 and isinstance(notices[0], OrderChanged):
            acknowledged, matched = notices[:1], notices[1:]
            self.route(acknowledged)
            return lambda: self.route(matched)
        self.route(notices)
        return None

    # ------------------------------------------------------------------ routing
    def route(self, notices: Sequence[Notice]) -> None:
        """Turn the exchange's notices into messages for the owning clients, through the faults."""
        per_client: dict[int, list[Tagged]] = {}
        account_changed = False
        index = 0
        while index < len(notices):
            notice = notices[index]
            index += 1
            if isinstance(notice, AccountChanged):
                account_changed = True
                continue
            if isinstance(notice, OrderError):
                per_client.setdefault(notice.client_id, []).append(
                    (m.error(notice.order_id, notice.code, notice.text), notice.perm_id)
                )
                continue
            if isinstance(notice, OrderChanged):
                order = notice.order
                per_client.setdefault(order.client_id, []).extend(self._order_messages(order))
                continue
            assert isinstance(notice, Executed)
            follow: OrderChanged | None = None
            if index < len(notices):
                nxt = notices[index]
                if isinstance(nxt, OrderChanged) and nxt.order.perm_id == notice.execution.order.perm_id:
                    follow, index = nxt, index + 1
            order = notice.execution.order
            per_client.setdefault(order.client_id, []).extend(self._fill_messages(notice.execution, follow))
        for client_id, tagged in per_client.items():
            self._deliver(client_id, self._mangle(tagged))
        if account_changed:
            self.push_account()

    def _order_messages(self, order: VenueOrder) -> list[Tagged]:
        return [(m.open_order(order), order.perm_id), (m.order_status(order), order.perm_id)]

    def _fill_messages(self, execution: Execution, follow: OrderChanged | None) -> list[Tagged]:
        perm = execution.order.perm_id
        execution_msg = (m.execution_data(-1, execution), perm)
        commission = (m.commission_report(execution), perm)
        status = self._order_messages(follow.order) if follow is not None else []
        faults = self.faults
        if faults.status_first:
            faults.status_first -= 1
            out = [*status, execution_msg, commission]
        elif faults.commission_first:
            faults.commission_first -= 1
            out = [commission, execution_msg, *status]
        else:
            out = [execution_msg, *status, commission]
        if faults.duplicate_exec:
            faults.duplicate_exec -= 1
            out += [execution_msg, commission]
        return out

    def _mangle(self, tagged: list[Tagged]) -> list[Tagged]:
        """The generic duplicate / reorder faults, applied to order messages in sending order."""
        faults = self.faults
        out: list[Tagged] = []
        for item in tagged:
            out.append(item)
            if faults.duplicate_messages:
                faults.duplicate_messages -= 1
                out.append(item)
        if faults.reorder_pairs and len(out) >= 2:
            faults.reorder_pairs -= 1
            for i in range(len(out) - 1):
                if out[i][0][0] != out[i + 1][0][0]:
                    out[i], out[i + 1] = out[i + 1], out[i]
                    break
        return out

    def _deliver(self, client_id: int, tagged: list[Tagged]) -> None:
        now = anyio.current_time()
        immediate: list[Tagged] = []
        for item in tagged:
            message, perm_id = item
            release = self._held.get(perm_id)
            if perm_id in self._held_messages or (release is not None and release > now):
                self._later(client_id, message, perm_id, release or now)
            else:
                immediate.append(item)
        session = self.sessions.get(client_id)
        if session is None or session.closed:
            return  # a disconnected client's messages are lost; it reconciles when it comes back
        if self.connectivity == "lost":
            session.pending.extend(immediate)
            return
        session.write_all([message for message, _ in immediate])

    def _later(self, client_id: int, message: m.Message, perm_id: int, release: float) -> None:
        """Hold an order's message until ``release``: its messages come out together, in order
        (its acknowledgement and its fill are routed at different moments)."""
        held = self._held_messages.get(perm_id)
        if held is not None:
            held.append(message)
            return
        self._held_messages[perm_id] = [message]

        async def deliver_held() -> None:
            await anyio.sleep_until(release)
            self._deliver(client_id, [(held_message, 0) for held_message in self._held_messages.pop(perm_id)])

        if self._task_group is not None:
            self._task_group.start_soon(deliver_held)

    def push_account(self) -> None:
        """Account values, portfolio and positions to every subscribed session (as TWS streams them)."""
        values = self.exchange.account_values()
        for session in list(self.sessions.values()):
            if session.account_updates:
                session.write_all(self._account_messages())
            for req_id in session.multi_req_ids:
                session.write_all([m.account_update_multi(req_id, t, v, c) for t, v, c in values])
            if session.positions:
                session.write_all([m.position(p) for p in self.exchange.positions.values()])

    # ------------------------------------------------------------------ control
    def set_price(self, con_id: int, price: Decimal) -> None:
        self.route(self.exchange.set_price(con_id, price))
        self.push_quotes(con_id)

    def set_liquidity(self, con_id: int, quantity: Decimal | None) -> None:
        """Cap what each price move can fill; the quoted sizes show the cap."""
        self.exchange.set_liquidity(con_id, quantity)
        self.push_quotes(con_id)

    def drop_connections(self, outage: float | None = None) -> None:
        """Close every client socket now; refuse new ones for ``outage`` seconds."""
        self._outage_until = anyio.current_time() + (self.faults.outage_seconds if outage is None else outage)
        for session in list(self.connected):
            session.close()

    def notify(self, code: int, text: str) -> None:
        """A notice (no request id) to every client: farm status 2103/2104/2106/2158, 1100...."""
        for session in list(self.sessions.values()):
            session.write(m.error(-1, code, text))

    def connectivity_lost(self) -> None:
        """1100: TWS lost its link to IB; order messages stop reaching the clients."""
        self.connectivity = "lost"
        self.notify(1100, "Connectivity between IB and Trader Workstation has been lost.")

    def connectivity_restored(self, *, data_lost: bool) -> None:
        """1101 (data lost: the held messages and the market-data subscriptions are gone, the
        clients must request again) or 1102 (data maintained: the held messages arrive now, and
        the quotes that moved meanwhile)."""
        self.connectivity = "ok"
        for session in list(self.sessions.values()):
            if data_lost:
                session.pending.clear()
                session.market_data.clear()
                session.write(
                    m.error(
                        -1,
                        1101,
                        "Connectivity between IB and Trader Workstation has been restored - data lost.",
                    )
                )
            else:
                session.write(
                    m.error(
                        -1,
                        1102,
                        "Connectivity between IB and Trader Workstation has been restored - data maintained.",
                    )
                )
                session.write_all([message for message, _ in session.pending])
                session.pending.clear()
        if not data_lost:
            self.push_quotes()


@asynccontextmanager
async def running_tws(server: TwsServer | None = None, *, port: int = 0) -> AsyncIterator[TwsServer]:
    """Run a TWS on 127.0.0.1 (``port`` 0: a free one) for the duration of the block."""
    tws = server if server is not None else TwsServer()
    async with anyio.create_task_group() as tg:
        await tg.start(lambda task_status: tws.serve(port=port, task_status=task_status))
        try:
            yield tws
        finally:
            for session in list(tws.connected):
                session.close()
            tg.cancel_scope.cancel()
