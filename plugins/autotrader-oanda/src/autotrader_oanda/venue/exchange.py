"""The venue's engine: orders, matching against bid/ask, the transaction log, the ledger.

Every state change is a v20 transaction with the next id (ids have no holes, as at OANDA), and
every transaction is handed to the subscribers (the transaction streams) in id order.  Requests
answer with the ``(status, body)`` pairs the real REST API gives.  Single-threaded: the server
calls it from its event loop only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import attrs

from autotrader_oanda.venue.account import Account
from autotrader_oanda.venue.instruments import DEFAULT_INSTRUMENTS, DEFAULT_PRICES, InstrumentSpec
from autotrader_oanda.venue.orders import OrderRefused, VenueOrder, parse_order, rejected_shell
from autotrader_oanda.venue.wire import ZERO, error_body, header, money, money_str, timestamp, units_str

Reply = tuple[int, dict[str, Any]]
Listener = Callable[[dict[str, Any]], None]

IMMEDIATE_TIF = frozenset({"FOK", "IOC"})
USER_ID = 1


@attrs.frozen
class LedgerFill:
    """A fill as the venue booked it (the ORDER_FILL transaction id is the trade id)."""

    trade_id: str
    client_order_id: str
    instrument: str
    is_buy: bool
    units: Decimal
    price: Decimal
    commission: Decimal


class Exchange:
    def __init__(
        self,
        *,
        account_id: str = "101-001-0000001-001",
        currency: str = "USD",
        balance: Decimal = Decimal(100_000),
        instruments: tuple[InstrumentSpec, ...] = DEFAULT_INSTRUMENTS,
        prices: dict[str, Decimal] | None = None,
        commission_rate: Decimal = ZERO,
    ) -> None:
        self.instruments = {spec.name: spec for spec in instruments}
        self.quotes: dict[str, tuple[Decimal, Decimal]] = {}
        self._price_listeners: list[Callable[[str], None]] = []
        for name, mid in (prices or DEFAULT_PRICES).items():
            if name in self.instruments:
                self._quote(name, mid)
        self.account = Account(account_id, currency, ZERO, self.instruments, self.quote)
        self.commission_rate = commission_rate
        self.liquidity: dict[str, Decimal] = {}
        self.halted: set[str] = set()
        self.orders: dict[str, VenueOrder] = {}
        self._by_client_id: dict[str, list[VenueOrder]] = {}
        """Orders per client id, oldest first: a request's lookup must not scan the whole history."""
        self.ledger_orders: list[VenueOrder] = []
        self.ledger_fills: list[LedgerFill] = []
        self.transactions: list[dict[str, Any]] = []
        self.forced_rejects: list[tuple[str, str]] = []
        self._listeners: list[Listener] = []
        self._batch: int | None = None
        self._cap_left: dict[tuple[str, bool], Decimal] = {}
        with self._batched():
            self._record(
                self._txn("CREATE")
                | {
                    "divisionID": 1,
                    "siteID": 101,
                    "accountUserID": USER_ID,
                    "accountNumber": 1,
                    "homeCurrency": currency,
                }
            )
            funding = self._txn("TRANSFER_FUNDS")
            self.account.balance = money(balance)
            funding.update(
                amount=money_str(balance),
                fundingReason="ADJUSTMENT",
                accountBalance=money_str(self.account.balance),
            )
            self._record(funding)

    # ------------------------------------------------------------------ transactions
    @property
    def account_id(self) -> str:
        return self.account.id

    @property
    def last_id(self) -> int:
        return len(self.transactions)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def on_price(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(instrument)`` after every move of the instrument's bid or ask."""
        self._price_listeners.append(listener)
        return lambda: self._price_listeners.remove(listener)

    def _txn(self, txn_type: str) -> dict[str, Any]:
        txn_id = self.last_id + 1
        batch = self._batch if self._batch is not None else txn_id
        return header(txn_id, txn_type, self.account_id, batch, USER_ID)

    def _record(self, txn: dict[str, Any]) -> dict[str, Any]:
        if int(txn["id"]) != self.last_id + 1:  # pragma: no cover - a bug, not a venue state
            raise AssertionError(f"transaction {txn['id']} recorded out of order")
        self.transactions.append(txn)
        for listener in tuple(self._listeners):
            listener(txn)
        return txn

    @contextlib.contextmanager
    def _batched(self) -> Iterator[None]:
        """Transactions made by one request share the batch id of the first."""
        self._batch = self.last_id + 1
        try:
            yield
        finally:
            self._batch = None

    def transactions_since(self, since: int) -> list[dict[str, Any]]:
        return self.transactions[max(since, 0) :]

    def transaction(self, txn_id: int) -> dict[str, Any] | None:
        return self.transactions[txn_id - 1] if 1 <= txn_id <= self.last_id else None

    # ------------------------------------------------------------------ prices
    def _quote(self, instrument: str, mid: Decimal) -> None:
        spec = self.instruments[instrument]
        bid = (mid - spec.half_spread).quantize(spec.tick)
        ask = (mid + spec.half_spread).quantize(spec.tick)
        moved = self.quotes.get(instrument) != (bid, ask)
        self.quotes[instrument] = (bid, ask)
        if moved:
            for listener in tuple(self._price_listeners):
                listener(instrument)

    def quote(self, instrument: str) -> tuple[Decimal, Decimal]:
        return self.quotes[instrument]

    def set_price(self, instrument: str, mid: Decimal) -> None:
        """Move the market and match the instrument's pending orders in time priority."""
        if instrument not in self.instruments:
            raise KeyError(instrument)
        self._quote(instrument, mid)
        self._cap_left.clear()
        with self._batched():
            for order in [o for o in self.orders.values() if o.instrument == instrument]:
                if order.state == "PENDING":
                    self._execute(order, immediate=False)

    def set_liquidity(self, instrument: str, units: Decimal | None) -> None:
        if units is None:
            self.liquidity.pop(instrument, None)
        else:
            self.liquidity[instrument] = units

    def pricing(self, instruments: list[str]) -> list[dict[str, Any]]:
        prices = []
        for name in instruments:
            if name not in self.instruments:
                continue
            bid, ask = self.quotes[name]
            spec = self.instruments[name]
            depth = self.liquidity.get(name, Decimal(10_000_000))
            prices.append(
                {
                    "type": "PRICE",
                    "instrument": name,
                    "time": timestamp(),
                    "status": "non-tradeable" if name in self.halted else "tradeable",
                    "tradeable": name not in self.halted,
                    "bids": [{"price": spec.price_str(bid), "liquidity": int(depth)}],
                    "asks": [{"price": spec.price_str(ask), "liquidity": int(depth)}],
                    "closeoutBid": spec.price_str(bid),
                    "closeoutAsk": spec.price_str(ask),
                }
            )
        return prices

    # ------------------------------------------------------------------ order requests
    def _add(self, order: VenueOrder) -> None:
        self.orders[order.id] = order
        self.ledger_orders.append(order)
        if order.client_id is not None:
            self._by_client_id.setdefault(order.client_id, []).append(order)

    def _find(self, spec: str) -> VenueOrder | None:
        """``spec`` is an order id or ``@`` + client order id (the newest order carrying it)."""
        if spec.startswith("@"):
            matches = self._by_client_id.get(spec[1:], [])
            pending = [o for o in matches if o.state == "PENDING"]
            chosen = pending or matches
            return chosen[-1] if chosen else None
        return self.orders.get(spec)

    def create_order(self, payload: Any) -> Reply:
        with self._batched():
            order_id = str(self.last_id + 1)
            try:
                if self.forced_rejects:
                    reason, message = self.forced_rejects.pop(0)
                    raise OrderRefused(reason, message)
                order = parse_order(order_id, payload, self.instruments)
                self._check_client_id(order)
            except OrderRefused as refusal:
                return self._refuse(rejected_shell(order_id, payload), refusal)
            create = self._txn(f"{order.type}_ORDER") | order.create_fields(
                self.instruments[order.instrument]
            )
            create["reason"] = "CLIENT_ORDER"
            self._add(order)
            body: dict[str, Any] = {"orderCreateTransaction": self._record(create)}
            for txn in self._execute(order, immediate=True):
                key = "orderFillTransaction" if txn["type"] == "ORDER_FILL" else "orderCancelTransaction"
                body[key] = txn
            return 201, self._related(body, int(order_id))

    def _check_client_id(self, order: VenueOrder, replacing: VenueOrder | None = None) -> None:
        client_id = order.client_id
        if client_id is None:
            return
        for other in self._by_client_id.get(client_id, []):
            if other is not replacing and other.state == "PENDING":
                raise OrderRefused(
                    "CLIENT_ORDER_ID_ALREADY_EXISTS", f"an order with client id {client_id!r} is pending"
                )

    def _refuse(self, shell: VenueOrder, refusal: OrderRefused, replaces: str | None = None) -> Reply:
        spec = self.instruments.get(shell.instrument)
        reject = self._txn(f"{shell.type}_ORDER_REJECT")
        reject.update(
            instrument=shell.instrument,
            units=str(shell.units),
            timeInForce=shell.time_in_force,
            reason="REPLACEMENT" if replaces else "CLIENT_ORDER",
            rejectReason=refusal.reason,
        )
        if shell.price is not None:
            reject["price"] = spec.price_str(shell.price) if spec else str(shell.price)
        if shell.client_extensions:
            reject["clientExtensions"] = shell.client_extensions
        if replaces:
            reject["replacesOrderID"] = replaces
        shell.reject_reason = refusal.reason
        if replaces is None:
            self.ledger_orders.append(shell)
        self._record(reject)
        body = {"orderRejectTransaction": reject}
        return 400, self._related(body, int(reject["id"])) | {
            "errorCode": refusal.reason,
            "errorMessage": refusal.message,
        }

    def replace_order(self, spec: str, payload: Any) -> Reply:
        old = self._find(spec)
        with self._batched():
            if old is None or old.state != "PENDING":
                return self._cancel_reject(spec, old)
            provisional = str(self.last_id + 2)
            try:
                new = parse_order(provisional, payload, self.instruments)
                if new.client_extensions is None:
                    new.client_extensions = old.client_extensions
                self._check_client_id(new, replacing=old)
            except OrderRefused as refusal:
                return self._refuse(rejected_shell(provisional, payload), refusal, replaces=old.id)
            cancel = self._cancel(old, "CLIENT_REQUEST_REPLACED", replaced_by=provisional)
            new.replaces_order_id = old.id
            old.replaced_by_order_id = new.id
            create = self._txn(f"{new.type}_ORDER") | new.create_fields(self.instruments[new.instrument])
            create.update(reason="REPLACEMENT", replacesOrderID=old.id)
            self._add(new)
            body: dict[str, Any] = {
                "orderCancelTransaction": cancel,
                "orderCreateTransaction": self._record(create),
            }
            for txn in self._execute(new, immediate=True):
                key = (
                    "orderFillTransaction"
                    if txn["type"] == "ORDER_FILL"
                    else "replacingOrderCancelTransaction"
                )
                body[key] = txn
            return 201, self._related(body, int(cancel["id"]))

    def cancel_order(self, spec: str) -> Reply:
        order = self._find(spec)
        with self._batched():
            if order is None or order.state != "PENDING":
                return self._cancel_reject(spec, order)
            cancel = self._cancel(order, "CLIENT_REQUEST")
            return 200, self._related({"orderCancelTransaction": cancel}, int(cancel["id"]))

    def _cancel_reject(self, spec: str, order: VenueOrder | None) -> Reply:
        reject = self._txn("ORDER_CANCEL_REJECT")
        if order is not None:
            reject["orderID"] = order.id
            if order.client_id:
                reject["clientOrderID"] = order.client_id
        elif spec.startswith("@"):
            reject["clientOrderID"] = spec[1:]
        else:
            reject["orderID"] = spec
        reject["rejectReason"] = "ORDER_DOESNT_EXIST"
        self._record(reject)
        body = self._related({"orderCancelRejectTransaction": reject}, int(reject["id"]))
        message = "The Order specified does not exist" if order is None else "The Order is not pending"
        return 404, body | {"errorCode": "ORDER_DOESNT_EXIST", "errorMessage": message}

    def _related(self, body: dict[str, Any], first: int) -> dict[str, Any]:
        body["relatedTransactionIDs"] = [str(i) for i in range(first, self.last_id + 1)]
        body["lastTransactionID"] = str(self.last_id)
        return body

    # ------------------------------------------------------------------ matching
    def _execute(self, order: VenueOrder, *, immediate: bool) -> list[dict[str, Any]]:
        """Fill what the market allows now; cancel what may not wait.  Returns the transactions."""
        start = self.last_id
        must_finish = order.type == "MARKET" or order.time_in_force in IMMEDIATE_TIF
        if order.instrument in self.halted:
            if must_finish:
                self._cancel(order, "MARKET_HALTED")
            return self.transactions[start:]
        price = self._marketable_price(order)
        if price is None:
            if must_finish:
                self._cancel(order, "INSUFFICIENT_LIQUIDITY")
            return self.transactions[start:]
        if order.price_bound is not None and (
            price > order.price_bound if order.is_buy else price < order.price_bound
        ):
            self._cancel(order, "BOUNDS_VIOLATION")
            return self.transactions[start:]
        side_key = (order.instrument, order.is_buy)
        cap = self.liquidity.get(order.instrument)
        available = (
            order.remaining if cap is None else min(order.remaining, self._cap_left.get(side_key, cap))
        )
        if order.position_fill == "REDUCE_ONLY":
            net = self.account.net_units(order.instrument)
            reducible = -net if order.is_buy else net
            available = min(available, max(reducible, ZERO))
        if available <= 0 or (order.time_in_force == "FOK" and available < order.remaining):
            if must_finish:
                self._cancel(order, "INSUFFICIENT_LIQUIDITY")
            return self.transactions[start:]
        signed = available if order.is_buy else -available
        if self._opens_beyond_margin(order.instrument, signed):
            self._cancel(order, "INSUFFICIENT_MARGIN")
            return self.transactions[start:]
        self._fill(order, available, price)
        if cap is not None:
            self._cap_left[side_key] = self._cap_left.get(side_key, cap) - available
        if order.remaining > 0 and must_finish:
            self._cancel(order, "INSUFFICIENT_LIQUIDITY")
        return self.transactions[start:]

    def _marketable_price(self, order: VenueOrder) -> Decimal | None:
        bid, ask = self.quotes[order.instrument]
        market = ask if order.is_buy else bid
        if order.type == "MARKET":
            return market
        assert order.price is not None
        if order.type in ("LIMIT", "MARKET_IF_TOUCHED"):
            crossed = ask <= order.price if order.is_buy else bid >= order.price
        else:  # STOP
            crossed = ask >= order.price if order.is_buy else bid <= order.price
        return market if crossed else None

    def _opens_beyond_margin(self, instrument: str, signed: Decimal) -> bool:
        net = self.account.net_units(instrument)
        if abs(net + signed) <= abs(net):
            return False
        return self.account.margin_after(instrument, signed) > self.account.nav()

    def _fill(self, order: VenueOrder, units: Decimal, price: Decimal) -> dict[str, Any]:
        spec = self.instruments[order.instrument]
        account = self.account
        txn = self._txn("ORDER_FILL")
        signed = units if order.is_buy else -units
        bid, ask = self.quotes[order.instrument]
        conversion = account.quote_to_home(order.instrument)
        half_spread_cost = money(units * abs(price - (bid + ask) / 2) * conversion)
        result = account.apply_fill(txn["id"], order.instrument, signed, price, half_spread_cost)
        commission = money(units * price * conversion * self.commission_rate)
        account.charge_commission(commission)
        order.filled_units += units
        txn.update(
            orderID=order.id,
            instrument=order.instrument,
            units=units_str(signed, spec.unit_step),
            requestedUnits=units_str(order.units, spec.unit_step),
            price=spec.price_str(price),
            fullVWAP=spec.price_str(price),
            fullPrice={
                "type": "PRICE",
                "bids": [{"price": spec.price_str(bid), "liquidity": "10000000"}],
                "asks": [{"price": spec.price_str(ask), "liquidity": "10000000"}],
                "closeoutBid": spec.price_str(bid),
                "closeoutAsk": spec.price_str(ask),
            },
            reason=f"{order.type}_ORDER",
            pl=money_str(result.pl),
            quotePL=str(result.pl / conversion),
            financing="0.0000",
            baseFinancing="0.00000000000000",
            commission=money_str(commission),
            guaranteedExecutionFee="0.0000",
            quoteGuaranteedExecutionFee="0.0000",
            halfSpreadCost=money_str(half_spread_cost),
            accountBalance=money_str(account.balance),
            gainQuoteHomeConversionFactor=str(conversion),
            lossQuoteHomeConversionFactor=str(conversion),
        )
        if order.client_id:
            txn["clientOrderID"] = order.client_id
        if result.trade_opened is not None:
            txn["tradeOpened"] = result.trade_opened
            order.trade_opened_id = txn["id"]
        if result.trades_closed:
            txn["tradesClosed"] = result.trades_closed
            order.trade_closed_ids.extend(t["tradeID"] for t in result.trades_closed)
        if result.trade_reduced is not None:
            txn["tradeReduced"] = result.trade_reduced
            order.trade_reduced_id = result.trade_reduced["tradeID"]
        if order.remaining == 0:
            order.state = "FILLED"
            order.filling_transaction_id = txn["id"]
            order.filled_time = txn["time"]
        self.ledger_fills.append(
            LedgerFill(
                txn["id"], order.client_id or "", order.instrument, order.is_buy, units, price, commission
            )
        )
        return self._record(txn)

    def _cancel(self, order: VenueOrder, reason: str, replaced_by: str | None = None) -> dict[str, Any]:
        txn = self._txn("ORDER_CANCEL")
        txn.update(orderID=order.id, reason=reason)
        if order.client_id:
            txn["clientOrderID"] = order.client_id
        if replaced_by is not None:
            txn["replacedByOrderID"] = replaced_by
        order.state = "CANCELLED"
        order.cancel_reason = reason
        order.cancelling_transaction_id = txn["id"]
        order.cancelled_time = txn["time"]
        return self._record(txn)

    # ------------------------------------------------------------------ queries
    def order_wire(self, order: VenueOrder) -> dict[str, Any]:
        return order.to_wire(self.instruments[order.instrument])

    def get_order(self, spec: str) -> Reply:
        order = self._find(spec)
        if order is None:
            return 404, error_body("The Order specified does not exist", "ORDER_DOESNT_EXIST", self.last_id)
        return 200, {"order": self.order_wire(order), "lastTransactionID": str(self.last_id)}

    def list_orders(
        self,
        state: str = "PENDING",
        instrument: str | None = None,
        count: int = 50,
        ids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        chosen = []
        for order in reversed(list(self.orders.values())):
            if state != "ALL" and order.state != state:
                continue
            if instrument and order.instrument != instrument:
                continue
            if ids and order.id not in ids:
                continue
            chosen.append(self.order_wire(order))
            if len(chosen) >= count:
                break
        return chosen

    def pending_count(self) -> int:
        return sum(1 for o in self.orders.values() if o.state == "PENDING")

    def summary(self) -> dict[str, Any]:
        return self.account.summary(self.last_id, self.pending_count())

    def details(self) -> dict[str, Any]:
        account = self.summary()
        account["orders"] = self.list_orders(count=10_000)
        account["trades"] = [self.account.trade_to_wire(t) for t in self.account.trades]
        account["positions"] = [self.account.position_to_wire(i) for i in self.account.traded_instruments()]
        return account
