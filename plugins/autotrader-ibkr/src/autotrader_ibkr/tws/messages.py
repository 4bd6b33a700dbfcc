"""Field layouts of server version 176: every message the TWS writes (what it reads: ``requests``).

The layouts follow the decoders of the TWS API clients (ib_async's ``decoder.py`` is the
reference: a field too few or too many there is a message the client logs and drops).  Unset
numbers are written as empty fields, as TWS does, so the clients keep their own defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from autotrader_ibkr.tws.model import ACCOUNT, Execution, Position, VenueContract, VenueOrder
from autotrader_ibkr.tws.wire import Field, Out

__all__ = [
    "account_download_end",
    "account_summary",
    "account_summary_end",
    "account_update_multi",
    "account_update_multi_end",
    "account_update_time",
    "account_value",
    "commission_report",
    "completed_order",
    "completed_orders_end",
    "contract_details",
    "contract_details_end",
    "current_time",
    "error",
    "execution_data",
    "execution_data_end",
    "managed_accounts",
    "market_data_type",
    "next_valid_id",
    "open_order",
    "open_order_end",
    "order_status",
    "portfolio_value",
    "position",
    "position_end",
    "tick_price",
    "tick_req_params",
    "tick_size",
    "tick_snapshot_end",
]

Message = list[Field]


# ----------------------------------------------------------------------------- helpers


def _contract_head(c: VenueContract) -> list[Field]:
    """conId .. tradingClass without primaryExchange: the 11-field contract of orders and fills."""
    return [
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        Decimal(0),
        "",
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    ]


def _price(value: Decimal | None) -> Field:
    return value


# ----------------------------------------------------------------------------- session


def next_valid_id(order_id: int) -> Message:
    return [Out.NEXT_VALID_ID, 1, order_id]


def managed_accounts(accounts: Sequence[str]) -> Message:
    return [Out.MANAGED_ACCTS, 1, ",".join(accounts)]


def error(req_id: int, code: int, text: str, advanced_reject: str = "") -> Message:
    """ERR_MSG; since version 166 an advanced-order-reject JSON field follows the text."""
    return [Out.ERR_MSG, 2, req_id, code, text, advanced_reject]


def current_time(epoch: int) -> Message:
    return [Out.CURRENT_TIME, 1, epoch]


# ----------------------------------------------------------------------------- orders


def order_status(order: VenueOrder) -> Message:
    """ORDER_STATUS (no version field since MARKET_CAP_PRICE)."""
    return [
        Out.ORDER_STATUS,
        order.order_id,
        order.status,
        order.filled,
        order.remaining if order.is_working else Decimal(0),
        order.avg_fill_price,
        order.perm_id,
        0,
        order.last_fill_price,
        order.client_id,
        "",
        Decimal(0),
    ]


def _order_state_fields(order: VenueOrder) -> list[Field]:
    """status, the nine margin strings, commission/min/max/currency, warning text."""
    return [order.status, *([""] * 9), None, None, None, "", ""]


def open_order(order: VenueOrder) -> Message:
    """OPEN_ORDER at version 176 (faProfile still present, PEG BEST/MID offsets present)."""
    fields: Message = [Out.OPEN_ORDER, order.order_id, *_contract_head(order.contract)]
    fields += [
        order.action,
        order.total_quantity,
        order.order_type,
        _price(order.lmt_price),
        _price(order.aux_price),
        order.tif,
        "",  # ocaGroup
        order.account,
        "O",  # openClose
        0,  # origin
        order.order_ref,
        order.client_id,
        order.perm_id,
        False,  # outsideRth
        False,  # hidden
        Decimal(0),  # discretionaryAmt
        "",  # goodAfterTime
        "",  # sharesAllocation (deprecated)
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        "",  # faProfile (version < 177)
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        None,  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        None,  # startingPrice
        None,  # stockRefPrice
        None,  # delta
        None,  # stockRangeLower
        None,  # stockRangeUpper
        None,  # displaySize
        False,  # blockOrder
        False,  # sweepToFill
        False,  # allOrNone
        None,  # minQty
        0,  # ocaType
        False,  # eTradeOnly
        False,  # firmQuoteOnly
        None,  # nbboPriceCap
        0,  # parentId
        0,  # triggerMethod
        None,  # volatility
        None,  # volatilityType
        "",  # deltaNeutralOrderType (empty: no delta-neutral block)
        None,  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        None,  # referencePriceType
        None,  # trailStopPrice
        None,  # trailingPercent
        None,  # basisPoints
        None,  # basisPointsType
        "",  # comboLegsDescrip
        0,  # comboLegs count
        0,  # orderComboLegs count
        0,  # smartComboRoutingParams count
        None,  # scaleInitLevelSize
        None,  # scaleSubsLevelSize
        None,  # scalePriceIncrement (unset: no scale block)
        "",  # hedgeType (empty: no hedgeParam)
        False,  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        False,  # notHeld
        False,  # deltaNeutralContract present
        "",  # algoStrategy (empty: no params)
        False,  # solicited
        False,  # whatIf
        *_order_state_fields(order),
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions count
        "",  # adjustedOrderType
        None,  # triggerPrice
        None,  # trailStopPrice
        None,  # lmtPriceOffset
        None,  # adjustedStopPrice
        None,  # adjustedStopLimitPrice
        None,  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier display name
        None,  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        False,  # discretionaryUpToLimitPrice
        False,  # usePriceMgmtAlgo
        None,  # duration (>= 159)
        None,  # postToAts (>= 160)
        False,  # autoCancelParent (>= 162)
        None,  # minTradeQty (>= 170)
        None,  # minCompeteSize
        None,  # competeAgainstBestOffset
        None,  # midOffsetAtWhole
        None,  # midOffsetAtHalf
    ]
    return fields


def open_order_end() -> Message:
    return [Out.OPEN_ORDER_END, 1]


def completed_order(order: VenueOrder) -> Message:
    """COMPLETED_ORDER at version 176: no orderId (completed orders are matched by permId/orderRef)."""
    fields: Message = [Out.COMPLETED_ORDER, *_contract_head(order.contract)]
    fields += [
        order.action,
        order.total_quantity,
        order.order_type,
        _price(order.lmt_price),
        _price(order.aux_price),
        order.tif,
        "",  # ocaGroup
        order.account,
        "O",  # openClose
        0,  # origin
        order.order_ref,
        order.perm_id,
        False,  # outsideRth
        False,  # hidden
        Decimal(0),  # discretionaryAmt
        "",  # goodAfterTime
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        "",  # faProfile (version < 177)
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        None,  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        None,  # startingPrice
        None,  # stockRefPrice
        None,  # delta
        None,  # stockRangeLower
        None,  # stockRangeUpper
        None,  # displaySize
        False,  # sweepToFill
        False,  # allOrNone
        None,  # minQty
        0,  # ocaType
        0,  # triggerMethod
        None,  # volatility
        None,  # volatilityType
        "",  # deltaNeutralOrderType
        None,  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        None,  # referencePriceType
        None,  # trailStopPrice
        None,  # trailingPercent
        "",  # comboLegsDescrip
        0,  # comboLegs count
        0,  # orderComboLegs count
        0,  # smartComboRoutingParams count
        None,  # scaleInitLevelSize
        None,  # scaleSubsLevelSize
        None,  # scalePriceIncrement
        "",  # hedgeType
        "",  # clearingAccount
        "",  # clearingIntent
        False,  # notHeld
        False,  # deltaNeutralContract present
        "",  # algoStrategy
        False,  # solicited
        order.status,
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions count
        None,  # trailStopPrice
        None,  # lmtPriceOffset
        None,  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        "",  # autoCancelDate
        order.filled,  # filledQuantity
        0,  # refFuturesConId
        False,  # autoCancelParent
        "",  # shareholder
        False,  # imbalanceOnly
        False,  # routeMarketableToBbo
        0,  # parentPermId
        order.completed_time,
        order.completed_status,
        None,  # minTradeQty (>= 170)
        None,  # minCompeteSize
        None,  # competeAgainstBestOffset
        None,  # midOffsetAtWhole
        None,  # midOffsetAtHalf
    ]
    return fields


def completed_orders_end() -> Message:
    return [Out.COMPLETED_ORDERS_END]


# ----------------------------------------------------------------------------- executions


def execution_data(req_id: int, execution: Execution) -> Message:
    """EXECUTION_DATA (no version field since LAST_LIQUIDITY); ``req_id`` -1 for a live fill."""
    order = execution.order
    return [
        Out.EXECUTION_DATA,
        req_id,
        order.order_id,
        *_contract_head(order.contract),
        execution.exec_id,
        execution.time,
        order.account,
        order.contract.exchange if order.contract.exchange != "SMART" else "ISLAND",
        execution.side,
        execution.shares,
        execution.price,
        order.perm_id,
        order.client_id,
        0,  # liquidation
        execution.cum_qty,
        execution.avg_price,
        order.order_ref,
        "",  # evRule
        None,  # evMultiplier
        "",  # modelCode
        execution.liquidity,
    ]


def execution_data_end(req_id: int) -> Message:
    return [Out.EXECUTION_DATA_END, 1, req_id]


def commission_report(execution: Execution) -> Message:
    return [
        Out.COMMISSION_REPORT,
        1,
        execution.exec_id,
        execution.commission,
        execution.order.contract.currency,
        execution.realized_pnl if execution.realized_pnl else None,
        None,  # yield
        None,  # yieldRedemptionDate
    ]


# ----------------------------------------------------------------------------- contracts


def contract_details(req_id: int, c: VenueContract) -> Message:
    """CONTRACT_DATA at version >= 164 (no version field, no mdSizeMultiplier, size rules present)."""
    return [
        Out.CONTRACT_DATA,
        req_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        Decimal(0),  # strike
        "",  # right
        c.exchange,
        c.currency,
        c.local_symbol,
        c.market_name or c.trading_class,
        c.trading_class,
        c.con_id,
        c.min_tick,
        c.multiplier,
        c.order_types,
        c.valid_exchanges,
        1,  # priceMagnifier
        0,  # underConId
        c.long_name,
        c.primary_exchange,
        c.last_trade_date[:6],  # contractMonth
        "",  # industry
        "",  # category
        "",  # subcategory
        "UTC",  # timeZoneId
        "",  # tradingHours
        "",  # liquidHours
        "",  # evRule
        None,  # evMultiplier
        0,  # secIdList count
        1,  # aggGroup
        "",  # underSymbol
        "",  # underSecType
        "",  # marketRuleIds
        c.last_trade_date,  # realExpirationDate
        "COMMON" if c.sec_type == "STK" else "",  # stockType
        c.min_size,
        c.size_increment,
        c.size_increment,  # suggestedSizeIncrement
    ]


def contract_details_end(req_id: int) -> Message:
    return [Out.CONTRACT_DATA_END, 1, req_id]


# ----------------------------------------------------------------------------- account


def position(p: Position, account: str = ACCOUNT) -> Message:
    c = p.contract
    return [
        Out.POSITION_DATA,
        3,
        account,
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        Decimal(0),
        "",
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
        p.quantity,
        p.average_cost,
    ]


def position_end() -> Message:
    return [Out.POSITION_END, 1]


def account_value(key: str, value: str, currency: str, account: str = ACCOUNT) -> Message:
    return [Out.ACCT_VALUE, 2, key, value, currency, account]


def portfolio_value(p: Position, market_price: Decimal, account: str = ACCOUNT) -> Message:
    c = p.contract
    market_value = p.quantity * market_price * c.multiplier_value
    unrealized = market_value - p.quantity * p.average_cost
    return [
        Out.PORTFOLIO_VALUE,
        8,
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        Decimal(0),
        "",
        c.multiplier,
        c.primary_exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
        p.quantity,
        market_price,
        market_value,
        p.average_cost,
        unrealized,
        p.realized_pnl,
        account,
    ]


def account_update_time(hhmm: str) -> Message:
    return [Out.ACCT_UPDATE_TIME, 1, hhmm]


def account_download_end(account: str = ACCOUNT) -> Message:
    return [Out.ACCT_DOWNLOAD_END, 1, account]


def account_update_multi(
    req_id: int, key: str, value: str, currency: str, account: str = ACCOUNT, model_code: str = ""
) -> Message:
    return [Out.ACCOUNT_UPDATE_MULTI, 1, req_id, account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Message:
    return [Out.ACCOUNT_UPDATE_MULTI_END, 1, req_id]


def account_summary(req_id: int, tag: str, value: str, currency: str, account: str = ACCOUNT) -> Message:
    return [Out.ACCOUNT_SUMMARY, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Message:
    return [Out.ACCOUNT_SUMMARY_END, 1, req_id]


# ----------------------------------------------------------------------------- market data


def tick_price(req_id: int, tick_type: int, price: Decimal, size: Decimal, attributes: int) -> Message:
    """TICK_PRICE version 6: the price with its size, and the attribute mask (since PAST_LIMIT):
    bit 0 canAutoExecute, bit 1 pastLimit, bit 2 preOpen.  A price of -1 with size 0 is no quote."""
    return [Out.TICK_PRICE, 6, req_id, tick_type, price, size, attributes]


def tick_size(req_id: int, tick_type: int, size: Decimal) -> Message:
    return [Out.TICK_SIZE, 6, req_id, tick_type, size]


def tick_req_params(req_id: int, min_tick: Decimal, bbo_exchange: str, snapshot_permissions: int) -> Message:
    """TICK_REQ_PARAMS (no version field): what TWS answers first to every REQ_MKT_DATA."""
    return [Out.TICK_REQ_PARAMS, req_id, min_tick, bbo_exchange, snapshot_permissions]


def market_data_type(req_id: int, data_type: int) -> Message:
    """MARKET_DATA_TYPE: 1 real-time, 2 frozen, 3 delayed, 4 delayed frozen (per subscription)."""
    return [Out.MARKET_DATA_TYPE, 1, req_id, data_type]


def tick_snapshot_end(req_id: int) -> Message:
    return [Out.TICK_SNAPSHOT_END, 1, req_id]
