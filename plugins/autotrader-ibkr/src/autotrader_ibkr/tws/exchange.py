"""The local TWS's market: contracts, order validation with IB's error codes, matching, account.

Synchronous and free of I/O: every operation returns :data:`Notice` objects (what happened to
which order) that the server turns into wire messages for the right client.  Matching is the
same simple model as the other local venues: one last price per contract, an optional liquidity
cap that each price move replenishes, marketable orders filling at the last price, resting limits
filling at their limit when the price crosses them, stops turning into market (or limit) orders
when the last price reaches them.  The quote it streams is one tick either side of the last price.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

import attrs

from autotrader_ibkr.tws.marketdata import QUOTED_SIZE, TopOfBook
from autotrader_ibkr.tws.model import ACCOUNT, Execution, Position, VenueContract, VenueOrder
from autotrader_ibkr.tws.requests import ContractQuery, PlaceOrder

__all__ = [
    "AccountChanged",
    "Exchange",
    "Executed",
    "Notice",
    "OrderChanged",
    "OrderError",
    "default_contracts",
]

ORDER_TYPES = frozenset({"MKT", "LMT", "STP", "STP LMT"})
TIFS = frozenset({"DAY", "GTC", "IOC", "FOK"})


@attrs.frozen
class OrderChanged:
    """OPEN_ORDER + ORDER_STATUS for the order's client, as the order stood at that moment.

    A snapshot: an order that is accepted and filled by one request is reported ``Submitted``
    first and ``Filled`` after its execution, as TWS does, not twice in its final state.
    """

    order: VenueOrder

    @classmethod
    def of(cls, order: VenueOrder) -> OrderChanged:
        return cls(attrs.evolve(order))


@attrs.frozen
class Executed:
    """EXECUTION_DATA + COMMISSION_REPORT for the order's client."""

    execution: Execution


@attrs.frozen
class OrderError:
    """ERR_MSG about an order id (201, 202, 103, 104, 110, 10147, 161, ...)."""

    client_id: int
    order_id: int
    code: int
    text: str
    perm_id: int = 0


@attrs.frozen
class AccountChanged:
    """Account values, portfolio and positions changed: push them to subscribers."""


Notice: TypeAlias = OrderChanged | Executed | OrderError | AccountChanged


def default_contracts() -> list[VenueContract]:
    """A stock (SMART), an FX pair (IDEALPRO) and a future (CME), as IB describes them."""
    return [
        VenueContract(
            con_id=265598,
            symbol="AAPL",
            sec_type="STK",
            exchange="SMART",
            primary_exchange="NASDAQ",
            currency="USD",
            local_symbol="AAPL",
            trading_class="NMS",
            min_tick=Decimal("0.01"),
            size_increment=Decimal(1),
            min_size=Decimal(1),
            long_name="APPLE INC",
            valid_exchanges="SMART,NASDAQ,ISLAND,ARCA",
        ),
        VenueContract(
            con_id=12087792,
            symbol="EUR",
            sec_type="CASH",
            exchange="IDEALPRO",
            currency="USD",
            local_symbol="EUR.USD",
            trading_class="EUR.USD",
            min_tick=Decimal("0.00005"),
            size_increment=Decimal(1),
            min_size=Decimal(1),
            long_name="European Monetary Union Euro",
            valid_exchanges="IDEALPRO",
        ),
        VenueContract(
            con_id=495512563,
            symbol="ES",
            sec_type="FUT",
            exchange="CME",
            currency="USD",
            local_symbol="ESZ5",
            trading_class="ES",
            min_tick=Decimal("0.25"),
            size_increment=Decimal(1),
            min_size=Decimal(1),
            last_trade_date="20251219",
            multiplier="50",
            long_name="E-mini S&P 500",
            valid_exchanges="CME,QBALGO",
        ),
    ]


def _stamp(now: float) -> str:
    """IB's execution time with an explicit zone: ``20240102 15:04:05 UTC``."""
    return time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime(now))


@attrs.define
class Book:
    """One contract's market: last price and the liquidity left at it."""

    last: Decimal | None = None
    cap: Decimal | None = None
    available: Decimal | None = None


class Exchange:
    """Orders, matching, account and the ledger of the local TWS."""

    def __init__(
        self,
        contracts: Iterable[VenueContract] | None = None,
        *,
        cash: Decimal = Decimal(10_000_000),
        base_currency: str = "USD",
        commission_per_unit: Decimal = Decimal("0.005"),
        min_commission: Decimal = Decimal("1.00"),
        clock: Iterable[float] | None = None,
    ) -> None:
        self.contracts = {c.con_id: c for c in (contracts if contracts is not None else default_contracts())}
        self.books = {con_id: Book() for con_id in self.contracts}
        self.base_currency = base_currency
        self.cash: dict[str, Decimal] = {base_currency: cash}
        self.positions: dict[int, Position] = {}
        self.commission_per_unit = commission_per_unit
        self.min_commission = min_commission
        self.orders: list[VenueOrder] = []
        """The ledger: every order the venue accepted or rejected, in arrival order."""
        self.executions: list[Execution] = []
        self._by_key: dict[tuple[int, int], VenueOrder] = {}
        self._highest_id: dict[int, int] = {}
        self._perm_ids = itertools.count(1_900_000_001)
        self._exec_seq = itertools.count(1)
        self.forced_rejects: list[str] = []

    # ------------------------------------------------------------------ contracts
    def resolve(self, query: ContractQuery) -> list[VenueContract]:
        """Contracts matching a request's contract fields, as TWS's contract lookup does."""
        if query.con_id:
            found = self.contracts.get(query.con_id)
            return [found] if found is not None else []
        matches = []
        for c in self.contracts.values():
            if query.sec_type and query.sec_type != c.sec_type:
                continue
            if query.symbol and query.symbol != c.symbol:
                continue
            if query.local_symbol and query.local_symbol != c.local_symbol:
                continue
            if query.currency and query.currency != c.currency:
                continue
            if query.last_trade_date and not c.last_trade_date.startswith(query.last_trade_date):
                continue
            if query.exchange and query.exchange not in [*c.valid_exchanges.split(","), c.exchange]:
                continue
            if not (query.symbol or query.local_symbol):
                continue
            matches.append(c)
        return matches

    def next_order_id(self, client_id: int) -> int:
        """What NEXT_VALID_ID tells a client: above every id it used (and above 0)."""
        return max(self._highest_id.get(client_id, 0), max(self._highest_id.values(), default=0)) + 1

    # ------------------------------------------------------------------ orders
    def find(self, client_id: int, order_id: int) -> VenueOrder | None:
        return self._by_key.get((client_id, order_id))

    def place(self, client_id: int, request: PlaceOrder) -> list[Notice]:
        """PLACE_ORDER: a new order, or a modification of an open one with the same id."""
        existing = self.find(client_id, request.order_id)
        if existing is not None:
            return self._modify(existing, request)

        def refuse(code: int, text: str) -> list[Notice]:
            return [OrderError(client_id, request.order_id, code, text)]

        if request.order_id <= self._highest_id.get(client_id, 0):
            return refuse(103, "Duplicate order id")
        matches = self.resolve(request.contract)
        if len(matches) != 1:
            return refuse(200, "No security definition has been found for the request")
        contract = matches[0]
        problem = self._invalid(contract, request)
        if problem is not None:
            return refuse(*problem)
        self._highest_id[client_id] = request.order_id
        order = VenueOrder(
            order_id=request.order_id,
            client_id=client_id,
            perm_id=next(self._perm_ids),
            contract=contract,
            action=request.action,
            total_quantity=request.total_quantity,
            order_type=request.order_type,
            lmt_price=request.lmt_price if request.order_type in ("LMT", "STP LMT") else None,
            aux_price=request.aux_price if request.order_type in ("STP", "STP LMT") else None,
            tif=request.tif or "DAY",
            order_ref=request.order_ref,
            account=request.account or ACCOUNT,
        )
        self.orders.append(order)
        self._by_key[(client_id, order.order_id)] = order
        if self.forced_rejects:
            reason = self.forced_rejects.pop(0)
            order.status, order.rejected, order.reason = "Inactive", True, reason
            self._complete(order, f"Rejected: {reason}")
            return [
                OrderError(client_id, order.order_id, 201, f"Order rejected - reason:{reason}", order.perm_id)
            ]
        notices: list[Notice] = [OrderChanged.of(order)]
        notices += self._match(order, arriving=True)
        return notices

    def _invalid(self, contract: VenueContract, request: PlaceOrder) -> tuple[int, str] | None:
        if request.action not in ("BUY", "SELL"):
            return 201, f"Order rejected - reason:invalid action {request.action!r}"
        if request.order_type not in ORDER_TYPES:
            return 387, f"Unsupported order type for this exchange and security type: {request.order_type}"
        if (request.tif or "DAY") not in TIFS:
            return 201, f"Order rejected - reason:invalid time in force {request.tif!r}"
        if request.total_quantity <= 0:
            return 434, "The order size cannot be zero."
        if request.total_quantity % contract.size_increment or request.total_quantity < contract.min_size:
            return 201, (
                f"Order rejected - reason:the size {request.total_quantity} is not a multiple of the "
                f"size increment {contract.size_increment}"
            )
        needs_limit = request.order_type in ("LMT", "STP LMT")
        needs_stop = request.order_type in ("STP", "STP LMT")
        if needs_limit and request.lmt_price is None:
            return 201, "Order rejected - reason:a limit price is required"
        if needs_stop and request.aux_price is None:
            return 201, "Order rejected - reason:a stop price is required"
        for price, used in ((request.lmt_price, needs_limit), (request.aux_price, needs_stop)):
            if used and price is not None and (price <= 0 or price % contract.min_tick):
                return 110, "The price does not conform to the minimum price variation for this contract."
        return None

    def _modify(self, order: VenueOrder, request: PlaceOrder) -> list[Notice]:
        if not order.is_working:
            if order.status == "Filled":
                return [OrderError(order.client_id, order.order_id, 104, "Can't modify a filled order.")]
            return [OrderError(order.client_id, order.order_id, 103, "Duplicate order id")]
        problem = self._invalid(order.contract, request)
        if problem is not None:
            return [OrderError(order.client_id, order.order_id, *problem)]
        if request.order_type != order.order_type or request.action != order.action:
            return [
                OrderError(
                    order.client_id,
                    order.order_id,
                    105,
                    "Order being modified does not match original order.",
                )
            ]
        if request.total_quantity <= order.filled:
            return [
                OrderError(order.client_id, order.order_id, 201, "Order rejected - reason:size below filled")
            ]
        order.total_quantity = request.total_quantity
        if order.order_type in ("LMT", "STP LMT"):
            order.lmt_price = request.lmt_price
        if order.order_type in ("STP", "STP LMT"):
            order.aux_price = request.aux_price
        order.tif = request.tif or order.tif
        notices: list[Notice] = [OrderChanged.of(order)]
        notices += self._match(order, arriving=True)
        return notices

    def cancel(self, client_id: int, order_id: int) -> list[Notice]:
        order = self.find(client_id, order_id)
        if order is None:
            return [
                OrderError(
                    client_id, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                )
            ]
        if not order.is_working:
            return [
                OrderError(
                    client_id,
                    order_id,
                    161,
                    "Cancel attempted when order is not in a cancellable state.  "
                    f"Order permId ={order.perm_id}",
                )
            ]
        return self._cancelled(order, "Cancelled by Trader", expired=False)

    def global_cancel(self) -> list[Notice]:
        notices: list[Notice] = []
        for order in self.orders:
            if order.is_working:
                notices += self._cancelled(order, "Cancelled by Trader", expired=False)
        return notices

    def _cancelled(self, order: VenueOrder, why: str, *, expired: bool) -> list[Notice]:
        order.status, order.expired = "Cancelled", expired
        self._complete(order, why)
        notices: list[Notice] = [OrderChanged.of(order)]
        if not expired:
            notices.append(
                OrderError(order.client_id, order.order_id, 202, "Order Canceled - reason:", order.perm_id)
            )
        return notices

    def _complete(self, order: VenueOrder, status_text: str) -> None:
        order.completed_time = time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime())
        order.completed_status = status_text

    # ------------------------------------------------------------------ market
    def set_price(self, con_id: int, price: Decimal) -> list[Notice]:
        book = self.books[con_id]
        book.last = price
        book.available = book.cap
        notices: list[Notice] = []
        for order in list(self.orders):
            if order.contract.con_id == con_id and order.is_working:
                notices += self._match(order, arriving=False)
        if notices:
            notices.append(AccountChanged())
        return notices

    def top_of_book(self, con_id: int) -> TopOfBook:
        """The quote: one tick either side of the last price, showing the liquidity cap (or
        :data:`QUOTED_SIZE`) on each side.  Orders still fill at the last price."""
        book = self.books[con_id]
        size = book.cap if book.cap is not None else QUOTED_SIZE
        return TopOfBook.around(book.last, self.contracts[con_id].min_tick, size)

    def set_liquidity(self, con_id: int, quantity: Decimal | None) -> None:
        book = self.books[con_id]
        book.cap = quantity
        book.available = quantity

    def _match(self, order: VenueOrder, *, arriving: bool) -> list[Notice]:
        book = self.books[order.contract.con_id]
        last = book.last
        immediate = order.tif in ("IOC", "FOK") or order.order_type == "MKT"
        if last is None:
            if immediate:
                return self._cancelled(order, "No market", expired=True)
            return []
        buy = order.is_buy
        just_triggered = False
        if order.order_type in ("STP", "STP LMT") and not order.triggered:
            assert order.aux_price is not None
            if (buy and last >= order.aux_price) or (not buy and last <= order.aux_price):
                order.triggered = just_triggered = True
            else:
                return self._expire_unfilled(order) if order.tif in ("IOC", "FOK") else []
        limit = order.lmt_price if order.order_type in ("LMT", "STP LMT") else None
        marketable = limit is None or (last <= limit if buy else last >= limit)
        if not marketable:
            return self._expire_unfilled(order) if order.tif in ("IOC", "FOK") else []
        wanted = order.remaining
        available = wanted if book.available is None else min(wanted, book.available)
        if order.tif == "FOK" and available < wanted:
            return self._expire_unfilled(order)
        notices: list[Notice] = []
        if available > 0:
            # An arriving (or just triggered) order takes the last price; a resting limit that the
            # market moved through is filled at its own limit.
            taker = arriving or just_triggered or limit is None
            price = last if taker or limit is None else limit
            notices += self._fill(order, available, price, taker=taker)
            if book.available is not None:
                book.available -= available
        if (
            order.is_working
            and order.remaining > 0
            and (order.tif in ("IOC", "FOK") or order.order_type == "MKT")
        ):
            notices += self._cancelled(order, "Unfilled remainder cancelled", expired=True)
        if notices and arriving:
            notices.append(AccountChanged())
        return notices

    def _expire_unfilled(self, order: VenueOrder) -> list[Notice]:
        return self._cancelled(order, "Unfilled", expired=True)

    def _fill(self, order: VenueOrder, quantity: Decimal, price: Decimal, *, taker: bool) -> list[Notice]:
        before = order.filled
        order.filled += quantity
        order.avg_fill_price = (order.avg_fill_price * before + price * quantity) / order.filled
        order.avg_fill_price = order.avg_fill_price.quantize(Decimal("0.00000001"), ROUND_HALF_UP).normalize()
        order.last_fill_price = price
        if order.remaining == 0:
            order.status = "Filled"
            self._complete(order, f"Filled Size: {order.filled}")
        commission = max(self.min_commission, quantity * self.commission_per_unit).quantize(Decimal("0.0001"))
        realized = self._book_fill(order, quantity, price, commission)
        seq = next(self._exec_seq)
        execution = Execution(
            exec_id=f"0000e0d5.{order.perm_id:08x}.{seq:02d}.01",
            order=order,
            time=_stamp(time.time()),
            shares=quantity,
            price=price,
            cum_qty=order.filled,
            avg_price=order.avg_fill_price,
            commission=commission,
            liquidity=2 if taker else 1,
            realized_pnl=realized,
        )
        self.executions.append(execution)
        return [Executed(execution), OrderChanged.of(order)]

    def _book_fill(
        self, order: VenueOrder, quantity: Decimal, price: Decimal, commission: Decimal
    ) -> Decimal:
        """Cash and position after a fill; returns the realized P&L of the part that closed."""
        contract = order.contract
        multiplier = contract.multiplier_value
        signed = quantity if order.is_buy else -quantity
        currency = contract.currency
        # futures settle variation margin, not the notional
        notional = Decimal(0) if contract.sec_type == "FUT" else signed * price * multiplier
        cash_move = -notional - commission
        self.cash[currency] = self.cash.get(currency, Decimal(0)) + cash_move
        if contract.sec_type == "CASH":
            self.cash[contract.symbol] = self.cash.get(contract.symbol, Decimal(0)) + signed
        position = self.positions.setdefault(contract.con_id, Position(contract))
        old = position.quantity
        new = old + signed
        realized = Decimal(0)
        cost = price * multiplier
        if old == 0 or (old > 0) == (signed > 0):
            position.average_cost = (position.average_cost * abs(old) + cost * quantity) / abs(new)
        else:
            closed = min(abs(old), quantity)
            realized = (cost - position.average_cost) * closed * (1 if old > 0 else -1)
            if contract.sec_type == "FUT":
                self.cash[currency] += realized
            if new == 0:
                position.average_cost = Decimal(0)
            elif (new > 0) != (old > 0):
                position.average_cost = cost
        position.quantity = new
        position.realized_pnl += realized
        return realized

    # ------------------------------------------------------------------ account
    def account_values(self) -> list[tuple[str, str, str]]:
        """(tag, value, currency) as reqAccountUpdates reports them."""
        values: list[tuple[str, str, str]] = [("AccountCode", ACCOUNT, ""), ("AccountType", "INDIVIDUAL", "")]
        total = Decimal(0)
        for currency, amount in sorted(self.cash.items()):
            values.append(("CashBalance", _text(amount), currency))
            values.append(("TotalCashBalance", _text(amount), currency))
            if currency == self.base_currency:
                total += amount
        values.append(("CashBalance", _text(total), "BASE"))
        net = total + self._positions_value()
        values.append(("NetLiquidation", _text(net), self.base_currency))
        values.append(("AvailableFunds", _text(net), self.base_currency))
        values.append(("BuyingPower", _text(net * 4), self.base_currency))
        return values

    def _positions_value(self) -> Decimal:
        value = Decimal(0)
        for position in self.positions.values():
            contract = position.contract
            if contract.sec_type != "STK":
                continue
            last = self.books[contract.con_id].last or Decimal(0)
            value += position.quantity * last * contract.multiplier_value
        return value

    def mark(self, con_id: int) -> Decimal:
        return self.books[con_id].last or Decimal(0)


def _text(amount: Decimal) -> str:
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
