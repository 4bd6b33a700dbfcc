"""Every failure python-binance can raise, mapped to exactly one class of the core's taxonomy.

Whether an order request may have executed decides the class: an answer the venue gave before
the matching engine (4xx with a code) is final; silence, a 5xx or a dropped socket after the
request left is :class:`AmbiguousOutcome` for anything that changes orders (Binance: "the
execution status is UNKNOWN"), and merely :class:`TransientError` for a read.
"""

from __future__ import annotations

import asyncio
import enum
import json
import re
import time
from collections.abc import Mapping
from typing import Final

import aiohttp
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    AutotraderError,
    BrokerError,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)
from binance.exceptions import BinanceAPIException, BinanceRequestException, BinanceWebsocketUnableToConnect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

__all__ = ["Operation", "retry_after_of", "translate", "translate_api_error", "translate_stream_error"]


class Operation(enum.Enum):
    """What the failed request was doing: it decides ambiguous versus transient."""

    SUBMIT = "submit"
    CANCEL = "cancel"
    MODIFY = "modify"
    QUERY = "query"

    @property
    def changes_orders(self) -> bool:
        return self is not Operation.QUERY


AUTH_CODES: Final = frozenset({-1002, -1022, -2014, -2015})
UNKNOWN_STATUS_CODES: Final = frozenset({-1000, -1006, -1007})
"""UNKNOWN / UNEXPECTED_RESP / TIMEOUT: the request may have been processed ("execution status
unknown"); an unknown error while processing is treated the same, because reconciling by client
id is safe whichever way it went and a resend is not."""
REJECT_CODES: Final = frozenset({-2010, -2011, -2021, -2022, -2038, -2039})
"""The matching engine refused: new order, cancel, cancel-replace (partly), amend, client id."""
NOT_EXECUTED_CODES: Final = frozenset({-1001, -1008, -1016, -1021})
"""DISCONNECTED / SERVER_BUSY / SHUTTING_DOWN / bad timestamp: surely not executed."""

UNKNOWN_ORDER: Final = "Unknown order sent."

_FILTER_FIELDS: Final = {
    "PRICE_FILTER": "price",
    "PERCENT_PRICE": "price",
    "PERCENT_PRICE_BY_SIDE": "price",
    "LOT_SIZE": "quantity",
    "MARKET_LOT_SIZE": "quantity",
    "MIN_NOTIONAL": "notional",
    "NOTIONAL": "notional",
    "MAX_NUM_ORDERS": "open_orders",
    "MAX_NUM_ALGO_ORDERS": "open_orders",
}
_PARAM_RE: Final = re.compile(r"[Pp]aram(?:eter)? '([^']+)'")


def retry_after_of(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    raw = headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _ws_retry_after(answer: object) -> float | None:
    """The WebSocket API says when to come back as ``error.data.retryAfter`` (epoch ms)."""
    if not isinstance(answer, Mapping):
        return None
    error = answer.get("error")
    data = error.get("data") if isinstance(error, Mapping) else None
    until = data.get("retryAfter") if isinstance(data, Mapping) else None
    if not isinstance(until, int | float):
        return None
    return max(0.0, until / 1000 - time.time())


def _field_of(message: str) -> str:
    if message.startswith("Filter failure: "):
        name = message.removeprefix("Filter failure: ").strip()
        return _FILTER_FIELDS.get(name, name.lower())
    match = _PARAM_RE.search(message)
    return match.group(1) if match else "order"


def translate_api_error(exc: BinanceAPIException, operation: Operation) -> AutotraderError:
    """A venue answer with an HTTP status (and usually a Binance code) to the taxonomy."""
    status = int(getattr(exc, "status_code", 0) or 0)
    code = exc.code
    message = str(exc.message or "")
    response = getattr(exc, "response", None)
    if status in (418, 429):
        retry_after = retry_after_of(getattr(response, "headers", None))
        if retry_after is None:
            retry_after = _ws_retry_after(response)
        ban = status == 418
        kind = "IP banned" if ban else "rate limited"
        return RateLimited(
            f"binance {kind} ({status}): {message}", retry_after=retry_after, ban=ban, code=code
        )
    if code in AUTH_CODES or status == 401:
        return AuthenticationError(f"binance refused the credentials: {message}", code=code)
    if code in NOT_EXECUTED_CODES:
        return TransientError(f"binance did not process the request: {message}", code=code)
    if status == 403:
        # The web application firewall refused the request before it reached the API.
        return TransientError(f"binance refused the request at its firewall (403): {message}", code=code)
    if status >= 500 or code in UNKNOWN_STATUS_CODES:
        text = message if code else f"HTTP {status}"
        if operation.changes_orders:
            return AmbiguousOutcome(f"binance answered {text}: outcome unknown", code=code or status)
        return TransientError(f"binance answered {text}", code=code or status)
    if code == -1013 or (code is not None and -1199 <= code <= -1100):
        return InvalidOrder(_field_of(message), message, code=code)
    if code == -2013 or (code in (-2011, -2038) and message == UNKNOWN_ORDER):
        return OrderNotFound(f"binance: {message}", code=code)
    if code in REJECT_CODES:
        return OrderRejected(message, code=code)
    if operation is Operation.SUBMIT:
        return OrderRejected(message or f"HTTP {status}", code=code)
    return BrokerError(f"binance error {code}: {message}", code=code)


def translate(exc: BaseException, operation: Operation) -> AutotraderError:
    """Any exception a python-binance call raised, to the taxonomy."""
    if isinstance(exc, AutotraderError):
        return exc
    if isinstance(exc, BinanceAPIException):
        return translate_api_error(exc, operation)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransientError(f"cannot connect to binance: {exc.__class__.__name__}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        if operation.changes_orders:
            return AmbiguousOutcome("no answer from binance in time: outcome unknown")
        return TransientError("no answer from binance in time")
    if isinstance(exc, (aiohttp.ClientError, BinanceRequestException, ConnectionError)):
        if operation.changes_orders:
            return AmbiguousOutcome(f"connection to binance failed after sending: {exc.__class__.__name__}")
        return TransientError(f"connection to binance failed: {exc.__class__.__name__}")
    if isinstance(exc, BinanceWebsocketUnableToConnect):
        return TransientError(f"binance websocket: {exc}")
    return BrokerError(f"unexpected binance client failure: {exc.__class__.__name__}: {exc}")


def _handshake_message(body: bytes | bytearray | None) -> str:
    """Binance's ``{"code", "msg"}`` of a refused handshake, or the start of whatever it sent."""
    text = bytes(body or b"").decode("utf-8", "replace")
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:200]
    return str(answer.get("msg", text[:200])) if isinstance(answer, dict) else text[:200]


def translate_stream_error(exc: BaseException) -> AutotraderError:
    """A market stream connection that failed (before or during its handshake), to the taxonomy.

    Only quotes are at stake, so the question is whether connecting again can help: a refused
    connection, a timeout, a 5xx or the firewall's 403 may pass (:class:`TransientError`); 429 and
    418 say when (:class:`RateLimited`); any other 4xx -- 451 for a restricted location, 400 or 404
    for a path the venue does not serve -- will not, and is a plain :class:`BrokerError`.
    """
    if isinstance(exc, AutotraderError):
        return exc
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        message = _handshake_message(exc.response.body)
        if status in (418, 429):
            ban = status == 418
            kind = "IP banned" if ban else "rate limited"
            return RateLimited(
                f"binance market stream {kind} ({status}): {message}",
                retry_after=retry_after_of(exc.response.headers),
                ban=ban,
                code=status,
            )
        if status in (403, 408) or status >= 500:
            return TransientError(f"binance market stream refused (HTTP {status}): {message}", code=status)
        if status == 451:
            return BrokerError(f"binance refuses service from this location (HTTP 451): {message}", code=451)
        return BrokerError(
            f"binance market stream refused the connection (HTTP {status}): {message}", code=status
        )
    if isinstance(exc, InvalidURI):
        return BrokerError(f"binance market stream: {exc}")
    if isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError, WebSocketException)):
        return TransientError(f"cannot connect to the binance market stream: {exc.__class__.__name__}: {exc}")
    return translate(exc, Operation.QUERY)
