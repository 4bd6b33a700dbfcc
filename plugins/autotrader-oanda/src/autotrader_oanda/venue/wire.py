"""Formatting shared by the venue's JSON: v20 timestamps, money, and transaction headers.

v20 sends every number as a string: prices at the instrument's display precision, units at its
trade-units precision, money at the home currency's four decimals.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

MONEY_STEP: Final = Decimal("0.0001")
ZERO: Final = Decimal(0)


def money(value: Decimal) -> Decimal:
    """Home-currency amounts are booked at four decimals, half-even (as v20 reports them)."""
    return value.quantize(MONEY_STEP, rounding=ROUND_HALF_EVEN)


def money_str(value: Decimal) -> str:
    return str(money(value))


def units_str(units: Decimal, step: Decimal) -> str:
    return str(units.quantize(step))


def timestamp(now_ns: int | None = None) -> str:
    """RFC 3339 with nanoseconds, the way v20 writes ``time`` fields."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}Z"


def header(txn_id: int, txn_type: str, account_id: str, batch_id: int, user_id: int) -> dict[str, Any]:
    """The fields every v20 Transaction carries."""
    return {
        "id": str(txn_id),
        "time": timestamp(),
        "userID": user_id,
        "accountID": account_id,
        "batchID": str(batch_id),
        "requestID": str(60_000_000_000_000_000 + txn_id),
        "type": txn_type,
    }


def error_body(
    message: str, code: str | None = None, last_transaction_id: int | None = None
) -> dict[str, Any]:
    """The body of a v20 error response (``errorCode`` is present when v20 gives one)."""
    body: dict[str, Any] = {"errorMessage": message}
    if code is not None:
        body["errorCode"] = code
    if last_transaction_id is not None:
        body["lastTransactionID"] = str(last_transaction_id)
    return body
