"""What the local TWS reads: every client request it answers, parsed from its fields.

A request is ``msgId`` then (for most) a version field, then its own fields by position, as the
clients write them at server version 176 (``ib_async``/``ib_insync`` ``client.py`` is the
reference, and the unit tests feed these parsers what those clients actually encode).  Each
parser checks it has the fields it reads and raises ``ValueError`` otherwise: the server answers
that with error 320 and logs it, which fails any test (see :mod:`autotrader_ibkr.decode_guard`).
Trailing fields a request may carry beyond what this TWS needs are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Final, TypeAlias

import attrs

from autotrader_ibkr.tws.wire import In

__all__ = [
    "PARSERS",
    "AccountSummaryQuery",
    "AccountUpdates",
    "AccountUpdatesMulti",
    "AutoOpenOrders",
    "CancelOrder",
    "CancelRequest",
    "CompletedOrdersQuery",
    "ContractDetailsQuery",
    "ContractQuery",
    "ExecutionQuery",
    "MarketDataQuery",
    "MarketDataType",
    "NoArguments",
    "PlaceOrder",
    "ReqIds",
    "Request",
    "StartApi",
    "parse_request",
]


def _need(fields: Sequence[str], count: int, what: str) -> None:
    if len(fields) < count:
        raise ValueError(f"{what}: {len(fields)} fields, at least {count} expected: {list(fields)[:6]}")


def _opt_decimal(text: str, what: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    # The clients send 1.7976931348623157e308 for "unset" where they do not make it empty.
    if value >= Decimal("1e300"):
        return None
    return value


# ----------------------------------------------------------------------------- session


@attrs.frozen
class StartApi:
    """START_API ``71 2 clientId optionalCapabilities``."""

    client_id: int
    capabilities: str


def parse_start_api(f: Sequence[str]) -> StartApi:
    _need(f, 3, "START_API")
    return StartApi(int(f[2]), f[3] if len(f) > 3 else "")


@attrs.frozen
class NoArguments:
    """A request that is only its id and version (REQ_CURRENT_TIME, REQ_POSITIONS, ...)."""

    msg_id: In


def parse_no_arguments(f: Sequence[str]) -> NoArguments:
    _need(f, 1, "request")
    return NoArguments(In(int(f[0])))


@attrs.frozen
class ReqIds:
    """REQ_IDS ``8 1 numIds``."""

    num_ids: int


def parse_req_ids(f: Sequence[str]) -> ReqIds:
    _need(f, 3, "REQ_IDS")
    return ReqIds(int(f[2]))


@attrs.frozen
class CancelRequest:
    """A cancel by request id ``msgId version reqId`` (market data, account summary, updates multi)."""

    msg_id: In
    req_id: int


def parse_cancel_request(f: Sequence[str]) -> CancelRequest:
    _need(f, 3, "cancel request")
    return CancelRequest(In(int(f[0])), int(f[2]))


# ----------------------------------------------------------------------------- account


@attrs.frozen
class AccountUpdates:
    """REQ_ACCT_DATA ``6 2 subscribe acctCode``."""

    subscribe: bool
    account: str


def parse_account_updates(f: Sequence[str]) -> AccountUpdates:
    _need(f, 4, "REQ_ACCT_DATA")
    return AccountUpdates(f[2] == "1", f[3])


@attrs.frozen
class AccountUpdatesMulti:
    """REQ_ACCOUNT_UPDATES_MULTI ``76 1 reqId account modelCode ledgerAndNLV``."""

    req_id: int
    account: str
    model_code: str
    ledger_and_nlv: bool


def parse_account_updates_multi(f: Sequence[str]) -> AccountUpdatesMulti:
    _need(f, 6, "REQ_ACCOUNT_UPDATES_MULTI")
    return AccountUpdatesMulti(int(f[2]), f[3], f[4], f[5] == "1")


@attrs.frozen
class AccountSummaryQuery:
    """REQ_ACCOUNT_SUMMARY ``62 1 reqId groupName tags`` (tags comma-separated; ``$LEDGER:ALL``...)."""

    req_id: int
    group: str
    tags: frozenset[str]

    def wants(self, tag: str) -> bool:
        return not self.tags or tag in self.tags or (tag == "CashBalance" and "$LEDGER:ALL" in self.tags)


def parse_account_summary(f: Sequence[str]) -> AccountSummaryQuery:
    _need(f, 5, "REQ_ACCOUNT_SUMMARY")
    return AccountSummaryQuery(int(f[2]), f[3], frozenset(t for t in f[4].split(",") if t))


# ----------------------------------------------------------------------------- contracts


@attrs.frozen
class ContractQuery:
    """The contract fields of a request (PLACE_ORDER, REQ_CONTRACT_DATA, REQ_MKT_DATA)."""

    con_id: int
    symbol: str
    sec_type: str
    last_trade_date: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str


def _contract_query(f: Sequence[str]) -> ContractQuery:
    """The 12 contract fields ``conId symbol secType lastTrade strike right multiplier exchange
    primaryExchange currency localSymbol tradingClass``."""
    _need(f, 12, "contract")
    return ContractQuery(
        con_id=int(f[0] or 0),
        symbol=f[1],
        sec_type=f[2],
        last_trade_date=f[3],
        exchange=f[7],
        primary_exchange=f[8],
        currency=f[9],
        local_symbol=f[10],
        trading_class=f[11],
    )


@attrs.frozen
class ContractDetailsQuery:
    """REQ_CONTRACT_DATA ``9 8 reqId <contract:12> includeExpired secIdType secId [issuerId]``."""

    req_id: int
    contract: ContractQuery
    include_expired: bool


def parse_contract_details(f: Sequence[str]) -> ContractDetailsQuery:
    _need(f, 16, "REQ_CONTRACT_DATA")
    return ContractDetailsQuery(int(f[2]), _contract_query(f[3:15]), f[15] == "1")


@attrs.frozen
class MarketDataQuery:
    """REQ_MKT_DATA ``1 11 reqId <contract:12> [legs] deltaNeutral [dnc:3] genericTicks snapshot
    regulatorySnapshot mktDataOptions``.

    A BAG contract carries its leg count and four fields per leg after the contract, and a
    delta-neutral flag of 1 is followed by that contract's conId, delta and price; neither is
    traded here, but both are read past so the fields after them are the right ones.
    """

    req_id: int
    contract: ContractQuery
    generic_ticks: str = ""
    snapshot: bool = False
    regulatory_snapshot: bool = False


def parse_market_data(f: Sequence[str]) -> MarketDataQuery:
    _need(f, 16, "REQ_MKT_DATA")
    contract = _contract_query(f[3:15])
    at = 15
    if contract.sec_type == "BAG":
        at += 1 + 4 * int(f[at] or 0)
        _need(f, at + 1, "REQ_MKT_DATA combo legs")
    if f[at] == "1":
        at += 3
    at += 1
    _need(f, at + 4, "REQ_MKT_DATA")
    return MarketDataQuery(
        req_id=int(f[2]),
        contract=contract,
        generic_ticks=f[at],
        snapshot=f[at + 1] == "1",
        regulatory_snapshot=f[at + 2] == "1",
    )


@attrs.frozen
class MarketDataType:
    """REQ_MARKET_DATA_TYPE ``59 1 type`` (1 live, 2 frozen, 3 delayed, 4 delayed frozen)."""

    data_type: int


def parse_market_data_type(f: Sequence[str]) -> MarketDataType:
    _need(f, 3, "REQ_MARKET_DATA_TYPE")
    return MarketDataType(int(f[2]))


# ----------------------------------------------------------------------------- orders


@attrs.frozen
class PlaceOrder:
    order_id: int
    contract: ContractQuery
    action: str
    total_quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    account: str
    order_ref: str
    transmit: bool


def parse_place_order(f: Sequence[str]) -> PlaceOrder:
    """PLACE_ORDER: ``3 orderId <contract:12> secIdType secId action totalQuantity orderType lmtPrice
    auxPrice tif ocaGroup account openClose origin orderRef transmit ...`` (no version field)."""
    if int(f[0]) != In.PLACE_ORDER:
        raise ValueError("not a PLACE_ORDER message")
    _need(f, 31, "PLACE_ORDER")
    quantity = _opt_decimal(f[17], "totalQuantity")
    return PlaceOrder(
        order_id=int(f[1]),
        contract=_contract_query(f[2:14]),
        action=f[16],
        total_quantity=quantity if quantity is not None else Decimal(0),
        order_type=f[18],
        lmt_price=_opt_decimal(f[19], "lmtPrice"),
        aux_price=_opt_decimal(f[20], "auxPrice"),
        tif=f[21],
        account=f[23],
        order_ref=f[26],
        transmit=f[27] != "0",
    )


@attrs.frozen
class CancelOrder:
    """CANCEL_ORDER ``4 1 orderId manualCancelOrderTime``."""

    order_id: int
    manual_cancel_time: str


def parse_cancel_order(f: Sequence[str]) -> CancelOrder:
    _need(f, 3, "CANCEL_ORDER")
    return CancelOrder(int(f[2]), f[3] if len(f) > 3 else "")


@attrs.frozen
class AutoOpenOrders:
    """REQ_AUTO_OPEN_ORDERS ``15 1 autoBind`` (client 0 binds manual TWS orders)."""

    auto_bind: bool


def parse_auto_open_orders(f: Sequence[str]) -> AutoOpenOrders:
    _need(f, 3, "REQ_AUTO_OPEN_ORDERS")
    return AutoOpenOrders(f[2] == "1")


@attrs.frozen
class CompletedOrdersQuery:
    """REQ_COMPLETED_ORDERS ``99 apiOnly`` (no version field)."""

    api_only: bool


def parse_completed_orders(f: Sequence[str]) -> CompletedOrdersQuery:
    _need(f, 2, "REQ_COMPLETED_ORDERS")
    return CompletedOrdersQuery(f[1] == "1")


@attrs.frozen
class ExecutionQuery:
    """REQ_EXECUTIONS ``7 3 reqId clientId acctCode time symbol secType exchange side``."""

    req_id: int
    client_id: int | None
    account: str
    symbol: str
    sec_type: str
    side: str
    since: str = ""
    """``yyyymmdd hh:mm:ss`` (UTC; sent as ``yyyymmdd-hh:mm:ss``): executions from then on."""

    def wants_time(self, stamp: str) -> bool:
        """Whether an execution stamped ``yyyymmdd hh:mm:ss UTC`` is at or after ``since``."""
        return not self.since or stamp[:17] >= self.since


def parse_execution_query(f: Sequence[str]) -> ExecutionQuery:
    _need(f, 10, "REQ_EXECUTIONS")
    client = f[3]
    return ExecutionQuery(
        req_id=int(f[2]),
        client_id=int(client) if client not in ("", "0") else None,
        account=f[4],
        since=f[5].replace("-", " ", 1)[:17],
        symbol=f[6],
        sec_type=f[7],
        side=f[9],
    )


# ----------------------------------------------------------------------------- dispatch

Request: TypeAlias = (
    StartApi
    | NoArguments
    | ReqIds
    | CancelRequest
    | AccountUpdates
    | AccountUpdatesMulti
    | AccountSummaryQuery
    | ContractDetailsQuery
    | MarketDataQuery
    | MarketDataType
    | PlaceOrder
    | CancelOrder
    | AutoOpenOrders
    | CompletedOrdersQuery
    | ExecutionQuery
)

PARSERS: Final[Mapping[In, Callable[[Sequence[str]], Request]]] = {
    In.START_API: parse_start_api,
    In.REQ_IDS: parse_req_ids,
    In.REQ_CURRENT_TIME: parse_no_arguments,
    In.REQ_MANAGED_ACCTS: parse_no_arguments,
    In.REQ_POSITIONS: parse_no_arguments,
    In.CANCEL_POSITIONS: parse_no_arguments,
    In.REQ_OPEN_ORDERS: parse_no_arguments,
    In.REQ_ALL_OPEN_ORDERS: parse_no_arguments,
    In.REQ_GLOBAL_CANCEL: parse_no_arguments,
    In.REQ_AUTO_OPEN_ORDERS: parse_auto_open_orders,
    In.REQ_COMPLETED_ORDERS: parse_completed_orders,
    In.REQ_ACCT_DATA: parse_account_updates,
    In.REQ_ACCOUNT_UPDATES_MULTI: parse_account_updates_multi,
    In.CANCEL_ACCOUNT_UPDATES_MULTI: parse_cancel_request,
    In.REQ_ACCOUNT_SUMMARY: parse_account_summary,
    In.CANCEL_ACCOUNT_SUMMARY: parse_cancel_request,
    In.REQ_EXECUTIONS: parse_execution_query,
    In.REQ_CONTRACT_DATA: parse_contract_details,
    In.PLACE_ORDER: parse_place_order,
    In.CANCEL_ORDER: parse_cancel_order,
    In.REQ_MARKET_DATA_TYPE: parse_market_data_type,
    In.REQ_MKT_DATA: parse_market_data,
    In.CANCEL_MKT_DATA: parse_cancel_request,
}
"""Every request this TWS answers, by message id (one parser each)."""


def parse_request(fields: Sequence[str]) -> Request | None:
    """The request ``fields`` carry, or None for a message id this TWS does not answer."""
    _need(fields, 1, "request")
    msg_id = int(fields[0])  # not a number: a malformed message, raised
    if msg_id not in In._value2member_map_:
        return None
    return PARSERS[In(msg_id)](fields)
