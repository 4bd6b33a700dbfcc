"""The conformance harness: the local TWS, a connected adapter, and the TWS's control handle.

``harness()`` starts :class:`~autotrader_ibkr.tws.TwsServer` on 127.0.0.1 in the running event
loop (the adapter is asyncio-only, so the suite runs this harness under asyncio only), connects
a real :class:`IbkrAdapter` through the unmodified IB client library and yields a
:class:`HarnessSession` trading AAPL (SMART, USD) around 100.00.  A message the client library
could not decode fails the session (:mod:`autotrader_ibkr.decode_guard`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import anyio.lowlevel
import attrs
from autotrader.model import Balance, OrderSide, OrderStatus
from autotrader.testing.harness import Fault, HarnessSession, LedgerOrder, LedgerTrade, VenueControl

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.config import ContractSpec, IbkrConfig
from autotrader_ibkr.decode_guard import DecodeGuard
from autotrader_ibkr.mapping import core_order_type
from autotrader_ibkr.tws import Exchange, TwsFaults, TwsServer, running_tws
from autotrader_ibkr.tws.model import Execution, VenueOrder

__all__ = ["INSTRUMENTS", "TwsVenueControl", "add_history", "connection_settings", "harness", "prepare"]

SYMBOL = "AAPL"
PRICE = Decimal("100.00")
QUANTITY = Decimal(10)
TICK = Decimal("0.01")
REQUEST_TIMEOUT = 1.5

INSTRUMENTS = {
    "AAPL": ContractSpec("STK", symbol="AAPL", currency="USD"),
    "EUR.USD": ContractSpec("CASH", symbol="EUR", currency="USD"),
    "ESZ5": ContractSpec("FUT", local_symbol="ESZ5", exchange="CME", currency="USD"),
}
INITIAL_PRICES = {"EUR.USD": Decimal("1.10000"), "ESZ5": Decimal("5000.00")}
EARLIER_CLIENT = 9
"""The client id :func:`add_history`'s orders were placed with (another application's)."""


class TwsVenueControl(VenueControl):
    """The suite's handle on the local TWS, plus IB's own faults."""

    supported_faults = frozenset(Fault)

    def __init__(self, server: TwsServer, con_ids: dict[str, int]) -> None:
        self.server = server
        self.con_ids = con_ids

    @property
    def exchange(self) -> Exchange:
        return self.server.exchange

    @property
    def faults(self) -> TwsFaults:
        return self.server.faults

    # ------------------------------------------------------------------ market
    async def set_price(self, symbol: str, price: Decimal) -> None:
        self.server.set_price(self.con_ids[symbol], price)
        await anyio.lowlevel.checkpoint()

    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        self.server.set_liquidity(self.con_ids[symbol], quantity)
        await anyio.lowlevel.checkpoint()

    async def without_live_data(self, symbol: str, *, delayed_enabled: bool = True) -> None:
        """The account loses its live market-data subscription for ``symbol`` (354, or 10167
        and delayed quotes for a client that asked for them; 10168 without ``delayed_enabled``)."""
        self.server.without_live_data.add(self.con_ids[symbol])
        self.server.delayed_data_enabled = delayed_enabled

    # ------------------------------------------------------------------ faults
    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        faults = self.faults
        if fault is Fault.REJECT:
            self.exchange.forced_rejects.extend([reason] * count)
        elif fault is Fault.SERVER_ERROR:
            faults.server_errors += count
        elif fault is Fault.RATE_LIMIT:
            faults.rate_limits += count
        elif fault is Fault.ACCEPT_THEN_TIMEOUT:
            faults.hold_orders += count
        elif fault is Fault.DROP_STREAM:
            self.server.drop_connections()
        elif fault is Fault.DUPLICATE_EVENTS:
            faults.duplicate_messages += count
        elif fault is Fault.REORDER_EVENTS:
            faults.reorder_pairs += count
        else:  # pragma: no cover - exhaustive over Fault
            raise ValueError(f"unsupported fault {fault}")

    async def drop_after_accept(self, count: int = 1) -> None:
        """The next new orders are accepted, then the socket closes before TWS answers."""
        self.faults.drop_after_accept += count

    async def connectivity_lost(self) -> None:
        """Error 1100 to every client; order messages are held from now on."""
        self.server.connectivity_lost()

    async def connectivity_restored(self, *, data_lost: bool) -> None:
        """1101 (held messages discarded) or 1102 (held messages delivered)."""
        self.server.connectivity_restored(data_lost=data_lost)

    async def status_before_execution(self, count: int = 1) -> None:
        self.faults.status_first += count

    async def commission_first(self, count: int = 1) -> None:
        self.faults.commission_first += count

    async def duplicate_exec_id(self, count: int = 1) -> None:
        self.faults.duplicate_exec += count

    # ------------------------------------------------------------------ ledger
    async def orders(self) -> list[LedgerOrder]:
        return [self._ledger_order(o) for o in self.exchange.orders]

    def _symbol(self, con_id: int) -> str:
        return next(s for s, c in self.con_ids.items() if c == con_id)

    def _ledger_order(self, order: VenueOrder) -> LedgerOrder:
        if order.rejected:
            status = OrderStatus.REJECTED
        elif order.status == "Filled":
            status = OrderStatus.FILLED
        elif order.status == "Cancelled":
            status = OrderStatus.EXPIRED if order.expired else OrderStatus.CANCELLED
        elif order.filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        else:
            status = OrderStatus.ACCEPTED
        return LedgerOrder(
            client_order_id=order.order_ref,
            symbol=self._symbol(order.contract.con_id),
            side=OrderSide(order.action),
            order_type=core_order_type(order.order_type),
            quantity=order.total_quantity,
            price=order.lmt_price,
            status=status,
            filled_quantity=order.filled,
            venue_order_id=str(order.order_id),
        )

    async def trades(self) -> list[LedgerTrade]:
        return [
            LedgerTrade(
                trade_id=e.exec_id,
                client_order_id=e.order.order_ref,
                symbol=self._symbol(e.order.contract.con_id),
                side=OrderSide(e.order.action),
                quantity=e.shares,
                price=e.price,
                commission=e.commission,
                commission_asset=e.order.contract.currency,
            )
            for e in self.exchange.executions
        ]

    async def balances(self) -> list[Balance]:
        return [
            Balance(asset=currency, free=amount) for currency, amount in sorted(self.exchange.cash.items())
        ]


def add_history(exchange: Exchange, count: int) -> None:
    """A busy day so far: ``count`` filled AAPL market orders of another client, each with its
    execution (``earlier-<i>``), so tests and benchmarks meet the history a real TWS returns."""
    contract = next(c for c in exchange.contracts.values() if c.symbol == "AAPL")
    for i in range(count):
        order = VenueOrder(
            order_id=10_000 + i,
            client_id=EARLIER_CLIENT,
            perm_id=1_800_000_000 + i,
            contract=contract,
            action="BUY",
            total_quantity=Decimal(10),
            order_type="MKT",
            lmt_price=None,
            aux_price=None,
            tif="DAY",
            order_ref=f"earlier-{i}",
            status="Filled",
            filled=Decimal(10),
            avg_fill_price=Decimal(100),
            last_fill_price=Decimal(100),
            completed_time="20261201 09:30:00 UTC",
            completed_status="Filled Size: 10",
        )
        exchange.orders.append(order)
        exchange.executions.append(
            Execution(
                exec_id=f"0000e0d5.{order.perm_id:08x}.01.01",
                order=order,
                time="20261201 09:30:00 UTC",
                shares=Decimal(10),
                price=Decimal(100),
                cum_qty=Decimal(10),
                avg_price=Decimal(100),
                commission=Decimal(1),
                liquidity=2,
            )
        )


def connection_settings(tws: TwsServer, client_id: int, *, request_timeout: float) -> dict[str, Any]:
    """The :class:`IbkrConfig` settings that reach ``tws`` quickly (JSON-serialisable)."""
    return {
        "port": tws.port,
        "client_id": client_id,
        "instruments": {symbol: attrs.asdict(spec) for symbol, spec in INSTRUMENTS.items()},
        "request_timeout": request_timeout,
        "connect_timeout": 2.0,
        "reconnect_initial": 0.05,
        "reconnect_max": 0.5,
        "pacing_retry_after": 1.0,
        "commission_wait": 0.25,
    }


def prepare(tws: TwsServer) -> dict[str, int]:
    """Look up the contract id of each of :data:`INSTRUMENTS` at ``tws`` and set its first price."""
    con_ids = {}
    for symbol, spec in INSTRUMENTS.items():
        query_symbol = spec.local_symbol or spec.symbol
        con_ids[symbol] = next(
            c.con_id for c in tws.exchange.contracts.values() if query_symbol in (c.local_symbol, c.symbol)
        )
    for symbol, price in INITIAL_PRICES.items():
        tws.set_price(con_ids[symbol], price)
    tws.set_price(con_ids[SYMBOL], PRICE)
    return con_ids


@asynccontextmanager
async def harness(
    *, request_timeout: float = REQUEST_TIMEOUT, client_id: int = 1
) -> AsyncIterator[HarnessSession]:
    """Start the TWS, connect an adapter to it, yield the session, tear both down.

    The whole session runs inside a :class:`DecodeGuard`: if the client library dropped any
    message it could not decode (or an adapter callback raised), leaving the block raises
    :class:`UndecodableMessage`, so no conformance or chaos run passes over one.
    """
    with DecodeGuard() as guard:
        try:
            async with _connected(request_timeout, client_id) as session:
                yield session
        finally:
            guard.check()


@asynccontextmanager
async def _connected(request_timeout: float, client_id: int) -> AsyncIterator[HarnessSession]:
    server = TwsServer(Exchange(), faults=TwsFaults(hold_seconds=request_timeout * 3, outage_seconds=0.3))
    async with running_tws(server) as tws:
        con_ids = prepare(tws)
        config = IbkrConfig(**connection_settings(tws, client_id, request_timeout=request_timeout))
        adapter = IbkrAdapter(config)
        try:
            await adapter.connect()
            yield HarnessSession(
                adapter=adapter,
                control=TwsVenueControl(tws, con_ids),
                symbol=SYMBOL,
                price=PRICE,
                quantity=QUANTITY,
                tick=TICK,
                request_timeout=request_timeout,
            )
        finally:
            await adapter.disconnect()
