"""V20Error, ValueError and transport failures map to exactly one core error each."""

from __future__ import annotations

import json

import pytest
import requests
from autotrader.credentials import Secret
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BrokerError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)
from oandapyV20.endpoints import accounts, orders
from oandapyV20.exceptions import V20Error
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from autotrader_oanda.client import V20Client
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import register_environment, unregister_environment
from autotrader_oanda.errors import map_transport_error, map_v20_error, map_value_error
from autotrader_oanda.venue import VenueServer


def v20(status: int, body: object) -> BrokerError:
    error = V20Error(status, json.dumps(body) if not isinstance(body, str) else body)
    return map_v20_error(error, what="POST orders", mutating=True, retry_after=None, default_retry_after=1.0)


def test_400_order_reject_is_rejected_with_the_reject_reason() -> None:
    body = {
        "orderRejectTransaction": {"type": "LIMIT_ORDER_REJECT", "rejectReason": "PRICE_PRECISION_EXCEEDED"},
        "errorCode": "PRICE_PRECISION_EXCEEDED",
        "errorMessage": "precision",
    }
    error = v20(400, body)
    assert type(error) is OrderRejected and error.code == "PRICE_PRECISION_EXCEEDED"
    assert "precision" in str(error)


@pytest.mark.parametrize("code", ["INSUFFICIENT_MARGIN", "CLIENT_ORDER_ID_ALREADY_EXISTS", "MARKET_HALTED"])
def test_business_rejects(code: str) -> None:
    error = v20(400, {"orderRejectTransaction": {"rejectReason": code}, "errorMessage": "no"})
    assert type(error) is OrderRejected and error.code == code


def test_reject_reason_without_error_code_is_used() -> None:
    error = v20(400, {"orderRejectTransaction": {"rejectReason": "UNITS_INVALID"}})
    assert error.code == "UNITS_INVALID"


@pytest.mark.parametrize("status", [401, 403])
def test_auth(status: int) -> None:
    error = v20(status, {"errorMessage": "Insufficient authorization to perform request."})
    assert type(error) is AuthenticationError


def test_404_order_doesnt_exist_is_not_found_for_queries_and_cancels() -> None:
    body = {
        "orderCancelRejectTransaction": {"rejectReason": "ORDER_DOESNT_EXIST"},
        "errorCode": "ORDER_DOESNT_EXIST",
        "errorMessage": "The Order specified does not exist",
    }
    assert type(v20(404, body)) is OrderNotFound
    query = map_v20_error(
        V20Error(404, json.dumps({"errorCode": "ORDER_DOESNT_EXIST"})),
        what="GET",
        mutating=False,
        retry_after=None,
        default_retry_after=1.0,
    )
    assert type(query) is OrderNotFound


def test_429_carries_retry_after_or_the_default() -> None:
    error = V20Error(429, json.dumps({"errorMessage": "Requests per second exceeded"}))
    limited = map_v20_error(error, what="x", mutating=True, retry_after=3.0, default_retry_after=1.0)
    assert type(limited) is RateLimited and limited.retry_after == 3.0 and not limited.ban
    fallback = map_v20_error(error, what="x", mutating=True, retry_after=None, default_retry_after=1.5)
    assert isinstance(fallback, RateLimited) and fallback.retry_after == 1.5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_ambiguous_for_orders_transient_for_queries(status: int) -> None:
    assert type(v20(status, "<html>oops</html>")) is AmbiguousOutcome
    query = map_v20_error(
        V20Error(status, ""), what="GET", mutating=False, retry_after=None, default_retry_after=1.0
    )
    assert type(query) is TransientError


def test_other_query_errors_are_plain_broker_errors() -> None:
    error = map_v20_error(
        V20Error(400, json.dumps({"errorMessage": "Invalid value"})),
        what="GET",
        mutating=False,
        retry_after=None,
        default_retry_after=1.0,
    )
    assert type(error) is BrokerError


def test_unexpected_success_code_and_torn_body() -> None:
    unexpected = ValueError("v3/accounts/x/orders POST 200")
    assert type(map_value_error(unexpected, what="POST", mutating=True, body={})) is AmbiguousOutcome
    assert type(map_value_error(unexpected, what="GET", mutating=False, body={})) is TransientError
    with pytest.raises(json.JSONDecodeError) as torn:
        json.loads('{"orderCreate')
    assert type(map_value_error(torn.value, what="POST", mutating=True, body=None)) is AmbiguousOutcome


def test_transport_errors() -> None:
    refused = requests.exceptions.ConnectionError(
        MaxRetryError(None, "/", NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    )
    assert type(map_transport_error(refused, what="POST", mutating=True)) is TransientError
    assert (
        type(map_transport_error(requests.exceptions.ConnectTimeout(), what="POST", mutating=True))
        is TransientError
    )
    dropped = requests.exceptions.ConnectionError(ProtocolError("Connection aborted."))
    assert type(map_transport_error(dropped, what="POST", mutating=True)) is AmbiguousOutcome
    assert (
        type(map_transport_error(requests.exceptions.ReadTimeout(), what="POST", mutating=True))
        is AmbiguousOutcome
    )
    assert (
        type(map_transport_error(requests.exceptions.ReadTimeout(), what="GET", mutating=False))
        is TransientError
    )
    assert (
        type(map_transport_error(requests.exceptions.ChunkedEncodingError(), what="PUT", mutating=True))
        is AmbiguousOutcome
    )


# ---------------------------------------------------------------- the real client against the venue


class PendingExpecting201(orders.OrdersPending):  # type: ignore[misc]  # oandapyV20 has no types
    """pendingOrders with the wrong expected code: oandapyV20 raises its ValueError."""

    EXPECTED_STATUS = 201


def test_real_client_maps_a_refused_token(venue: VenueServer) -> None:
    register_environment("errors-bad-token", venue.url, venue.url)
    try:
        config = OandaConfig(
            account_id=venue.exchange.account_id, access_token=Secret("wrong"), environment="errors-bad-token"
        )
        with pytest.raises(AuthenticationError) as info:
            V20Client(config).request(accounts.AccountSummary(config.account_id))
        assert "wrong" not in str(info.value)
    finally:
        unregister_environment("errors-bad-token")


def test_real_client_maps_unexpected_success_code(client: V20Client) -> None:
    with pytest.raises(TransientError, match="unexpected success code"):
        client.request(PendingExpecting201(client.config.account_id))
    with pytest.raises(AmbiguousOutcome, match="unexpected success code"):
        client.request(PendingExpecting201(client.config.account_id), mutating=True)


def test_real_client_maps_404_and_429_with_retry_after(client: V20Client, venue: VenueServer) -> None:
    account = client.config.account_id
    with pytest.raises(OrderNotFound):
        client.request(orders.OrderCancel(account, orderID="@ghost"), mutating=True)
    venue.faults.rate_limits, venue.faults.retry_after = 1, 2.2
    body = {"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "1"}}
    with pytest.raises(RateLimited) as info:
        client.request(orders.OrderCreate(account, data=body), mutating=True)
    assert info.value.retry_after == 3.0  # Retry-After is whole seconds, rounded up


def test_real_client_maps_5xx_and_connection_refused(client: V20Client, venue: VenueServer) -> None:
    venue.faults.server_errors = 1
    body = {"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "1"}}
    with pytest.raises(AmbiguousOutcome):
        client.request(orders.OrderCreate(client.config.account_id, data=body), mutating=True)
    register_environment("errors-closed", "http://127.0.0.1:9", "http://127.0.0.1:9")
    try:
        closed = V20Client(OandaConfig(account_id="a", access_token=Secret("t"), environment="errors-closed"))
        with pytest.raises(TransientError, match="nothing was sent"):
            closed.request(orders.OrderCreate("a", data=body), mutating=True)
    finally:
        unregister_environment("errors-closed")
