"""Every Binance error code and transport failure lands in exactly one class of the taxonomy."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import aiohttp
import pytest
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BrokerError,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)
from binance.exceptions import BinanceAPIException, BinanceRequestException
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus, InvalidURI
from websockets.http11 import Response

from autotrader_binance.errors import Operation, translate, translate_stream_error


def api_error(
    status: int, code: int | None, msg: str = "", headers: dict[str, str] | None = None
) -> BinanceAPIException:
    response = SimpleNamespace(headers=headers or {}, text="<html>")
    text = json.dumps({"code": code, "msg": msg}) if code is not None else "<html>502 Bad Gateway</html>"
    return BinanceAPIException(response, status, text)


@pytest.mark.parametrize(
    ("status", "code", "msg", "operation", "expected"),
    [
        (400, -1013, "Filter failure: LOT_SIZE", Operation.SUBMIT, InvalidOrder),
        (400, -1111, "Parameter 'quantity' has too much precision.", Operation.SUBMIT, InvalidOrder),
        (
            400,
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
            Operation.SUBMIT,
            InvalidOrder,
        ),
        (400, -2010, "Duplicate order sent.", Operation.SUBMIT, OrderRejected),
        (
            400,
            -2010,
            "Account has insufficient balance for requested action.",
            Operation.SUBMIT,
            OrderRejected,
        ),
        (400, -2010, "Order would trigger immediately.", Operation.SUBMIT, OrderRejected),
        (400, -2011, "Unknown order sent.", Operation.CANCEL, OrderNotFound),
        (400, -2011, "Order was not canceled due to cancel restrictions.", Operation.CANCEL, OrderRejected),
        (400, -2013, "Order does not exist.", Operation.QUERY, OrderNotFound),
        (400, -2021, "Order cancel-replace partially failed.", Operation.MODIFY, OrderRejected),
        (400, -2022, "Order cancel-replace failed.", Operation.MODIFY, OrderRejected),
        (
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
            Operation.SUBMIT,
            TransientError,
        ),
        (400, -1022, "Signature for this request is not valid.", Operation.SUBMIT, AuthenticationError),
        (401, -2014, "API-key format invalid.", Operation.QUERY, AuthenticationError),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", Operation.QUERY, AuthenticationError),
        (503, -1008, "Server is currently overloaded with other requests.", Operation.SUBMIT, TransientError),
        (400, -1007, "Timeout waiting for response from backend server.", Operation.SUBMIT, AmbiguousOutcome),
        (
            400,
            -1006,
            "An unexpected response was received from the message bus.",
            Operation.CANCEL,
            AmbiguousOutcome,
        ),
        (502, None, "", Operation.SUBMIT, AmbiguousOutcome),
        (502, None, "", Operation.MODIFY, AmbiguousOutcome),
        (500, None, "", Operation.QUERY, TransientError),
        (400, -1121, "Invalid symbol.", Operation.QUERY, InvalidOrder),
        (
            400,
            -1000,
            "An unknown error occurred while processing the request.",
            Operation.SUBMIT,
            AmbiguousOutcome,
        ),
        (
            400,
            -1000,
            "An unknown error occurred while processing the request.",
            Operation.QUERY,
            TransientError,
        ),
        (400, -1001, "Internal error; unable to process your request.", Operation.SUBMIT, TransientError),
        (503, -1016, "This service is no longer available.", Operation.SUBMIT, TransientError),
        (400, -1002, "You are not authorized to execute this request.", Operation.QUERY, AuthenticationError),
        (400, -1104, "Not all sent parameters were read.", Operation.SUBMIT, InvalidOrder),
        (400, -1115, "Invalid timeInForce.", Operation.SUBMIT, InvalidOrder),
        (
            400,
            -1145,
            "cancelRestrictions has to be either ONLY_NEW or ONLY_PARTIALLY_FILLED.",
            Operation.CANCEL,
            InvalidOrder,
        ),
        (400, -2010, "Market is closed.", Operation.SUBMIT, OrderRejected),
        (400, -2038, "Order amend (quantity increase) is not supported.", Operation.MODIFY, OrderRejected),
        (400, -2038, "Unknown order sent.", Operation.MODIFY, OrderNotFound),
        (400, -2039, "Client order ID is not correct for this order ID.", Operation.QUERY, OrderRejected),
        (
            400,
            -2026,
            "Order was canceled or expired with no executed qty over 90 days ago.",
            Operation.QUERY,
            BrokerError,
        ),
        (403, None, "", Operation.SUBMIT, TransientError),
        (409, -2021, "Order cancel-replace partially failed.", Operation.MODIFY, OrderRejected),
        (504, None, "", Operation.CANCEL, AmbiguousOutcome),
        (400, -1020, "This operation is not supported.", Operation.SUBMIT, OrderRejected),
        (400, -9999, "something else", Operation.QUERY, BrokerError),
    ],
)
def test_api_errors(status: int, code: int | None, msg: str, operation: Operation, expected: type) -> None:
    error = translate(api_error(status, code, msg), operation)
    assert type(error) is expected
    if code is not None:
        assert error.code == code  # type: ignore[attr-defined]


def test_filter_failure_names_the_field() -> None:
    error = translate(api_error(400, -1013, "Filter failure: PRICE_FILTER"), Operation.SUBMIT)
    assert isinstance(error, InvalidOrder) and error.field == "price" and error.code == -1013
    error = translate(api_error(400, -1013, "Filter failure: NOTIONAL"), Operation.SUBMIT)
    assert isinstance(error, InvalidOrder) and error.field == "notional"


def test_429_carries_retry_after() -> None:
    error = translate(
        api_error(429, -1003, "Too much request weight used", {"Retry-After": "7"}), Operation.SUBMIT
    )
    assert isinstance(error, RateLimited) and error.retry_after == 7 and not error.ban


def test_order_count_429() -> None:
    error = translate(api_error(429, -1015, "Too many new orders", {"Retry-After": "3"}), Operation.SUBMIT)
    assert isinstance(error, RateLimited) and error.retry_after == 3


def test_418_is_a_ban() -> None:
    error = translate(
        api_error(418, -1003, "Way too much request weight used; IP banned", {"Retry-After": "120"}),
        Operation.QUERY,
    )
    assert isinstance(error, RateLimited) and error.ban and error.retry_after == 120


def test_transport_failures() -> None:
    refused = aiohttp.ClientConnectorError(
        SimpleNamespace(ssl=None, host="127.0.0.1", port=1),  # type: ignore[arg-type]
        OSError(111, "refused"),
    )
    assert type(translate(refused, Operation.SUBMIT)) is TransientError
    assert type(translate(TimeoutError(), Operation.SUBMIT)) is AmbiguousOutcome
    assert type(translate(TimeoutError(), Operation.QUERY)) is TransientError
    assert type(translate(aiohttp.ServerDisconnectedError(), Operation.CANCEL)) is AmbiguousOutcome
    assert type(translate(aiohttp.ServerDisconnectedError(), Operation.QUERY)) is TransientError
    assert (
        type(translate(BinanceRequestException("Invalid Response: x"), Operation.SUBMIT)) is AmbiguousOutcome
    )
    assert type(translate(RuntimeError("boom"), Operation.QUERY)) is BrokerError


def test_a_5xx_html_body_is_ambiguous_for_orders_and_names_the_status() -> None:
    error = translate(api_error(502, None), Operation.SUBMIT)
    assert isinstance(error, AmbiguousOutcome) and "HTTP 502" in str(error) and error.code == 502


def test_websocket_api_429_and_418_take_retry_after_from_the_error_data() -> None:
    """The WebSocket API has no headers: it sends ``error.data.retryAfter`` as epoch milliseconds."""
    until = (time.time() + 30) * 1000
    answer = {
        "id": "x",
        "status": 429,
        "error": {"code": -1003, "msg": "Too much", "data": {"retryAfter": until}},
    }
    error = translate(BinanceAPIException(answer, 429, json.dumps(answer["error"])), Operation.QUERY)
    assert isinstance(error, RateLimited) and not error.ban
    assert error.retry_after is not None and 28 < error.retry_after <= 30
    banned = dict(answer, status=418)
    error = translate(BinanceAPIException(banned, 418, json.dumps(answer["error"])), Operation.QUERY)
    assert isinstance(error, RateLimited) and error.ban


def test_429_without_retry_after() -> None:
    error = translate(api_error(429, -1003, "Too many requests queued."), Operation.SUBMIT)
    assert isinstance(error, RateLimited) and error.retry_after is None


def refused(status: int, body: bytes = b"", **headers: str) -> InvalidStatus:
    return InvalidStatus(Response(status, "", Headers(headers), body))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (refused(451, b'{"code":0,"msg":"Service unavailable from a restricted location"}'), BrokerError),
        (refused(400), BrokerError),
        (refused(404, b"<html>Not Found</html>"), BrokerError),
        (refused(403), TransientError),  # the firewall, as on REST
        (refused(503), TransientError),
        (OSError(111, "Connection refused"), TransientError),
        (TimeoutError(), TransientError),
        (InvalidURI("ws//nowhere", "not a URI"), BrokerError),
    ],
)
def test_market_stream_failures(error: Exception, expected: type) -> None:
    assert type(translate_stream_error(error)) is expected


def test_market_stream_refusals_keep_binances_message_and_retry_after() -> None:
    restricted = translate_stream_error(
        refused(451, b'{"code":0,"msg":"Service unavailable from a restricted location"}')
    )
    assert isinstance(restricted, BrokerError)
    assert (
        "HTTP 451" in str(restricted) and "restricted location" in str(restricted) and restricted.code == 451
    )
    limited = translate_stream_error(refused(429, b'{"code":0,"msg":"Too many"}', **{"Retry-After": "7"}))
    assert isinstance(limited, RateLimited) and limited.retry_after == 7 and not limited.ban
    banned = translate_stream_error(refused(418, b"", **{"Retry-After": "60"}))
    assert isinstance(banned, RateLimited) and banned.ban and banned.retry_after == 60
