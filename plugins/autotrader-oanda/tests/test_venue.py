"""The venue speaks v20 to the unmodified oandapyV20 client: REST codes, the chunked stream."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import requests
from oandapyV20 import API
from oandapyV20.endpoints import accounts, orders, pricing, trades, transactions
from oandapyV20.exceptions import V20Error

from autotrader_oanda.environments import register_environment, unregister_environment
from autotrader_oanda.venue import VenueServer


@pytest.fixture
def api(venue: VenueServer, token: str) -> Iterator[API]:
    register_environment("venue-test", venue.url, venue.url)
    with API(access_token=token, environment="venue-test") as client:
        yield client
    unregister_environment("venue-test")


def test_bearer_token_is_required(venue: VenueServer) -> None:
    url = f"{venue.url}/v3/accounts/{venue.exchange.account_id}/summary"
    assert requests.get(url, timeout=2).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=2).status_code == 401
    stream = f"{venue.url}/v3/accounts/{venue.exchange.account_id}/transactions/stream"
    assert requests.get(stream, timeout=2).status_code == 401


def test_success_codes_match_the_library(api: API, venue: VenueServer) -> None:
    account = venue.exchange.account_id
    create = orders.OrderCreate(
        account,
        data={
            "order": {
                "type": "LIMIT",
                "instrument": "EUR_USD",
                "units": "10",
                "price": "1.00000",
                "clientExtensions": {"id": "a"},
            }
        },
    )
    api.request(create)
    assert create.status_code == 201
    replace = orders.OrderReplace(
        account,
        orderID="@a",
        data={"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": "20", "price": "1.00100"}},
    )
    api.request(replace)
    assert replace.status_code == 201
    details = orders.OrderDetails(account, orderID="@a")
    assert api.request(details)["order"]["units"] == "20"
    assert (
        api.request(orders.OrdersPending(account))["orders"][0]["replacesOrderID"]
        == create.response["orderCreateTransaction"]["id"]
    )
    assert api.request(orders.OrderList(account, params={"state": "ALL"}))["orders"]
    cancel = orders.OrderCancel(account, orderID="@a")
    api.request(cancel)
    assert cancel.status_code == 200
    for endpoint in (
        accounts.AccountDetails(account),
        accounts.AccountSummary(account),
        accounts.AccountInstruments(account, params={"instruments": "EUR_USD"}),
        pricing.PricingInfo(account, params={"instruments": "EUR_USD"}),
        trades.OpenTrades(account),
        transactions.TransactionsSinceID(account, params={"id": 1}),
    ):
        api.request(endpoint)
        assert endpoint.status_code == 200
    with pytest.raises(V20Error) as info:
        api.request(orders.OrderDetails(account, orderID="@nobody"))
    assert info.value.code == 404


def test_transaction_stream_is_ndjson_with_heartbeats(api: API, venue: VenueServer) -> None:
    account = venue.exchange.account_id
    stream = transactions.TransactionsStream(account)
    messages = api.request(stream)
    first = next(messages)
    assert first["type"] == "HEARTBEAT" and first["lastTransactionID"] == "2"
    venue.call(
        venue.exchange.create_order, {"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "1"}}
    )
    seen = list(itertools.islice((m for m in messages if m["type"] != "HEARTBEAT"), 2))
    assert [m["type"] for m in seen] == ["MARKET_ORDER", "ORDER_FILL"]
    beat = next(m for m in messages if m["type"] == "HEARTBEAT")
    assert beat["lastTransactionID"] == "4"


def test_drop_refuses_the_stream_for_a_while(api: API, venue: VenueServer) -> None:
    venue.drop_streams()
    with pytest.raises(V20Error) as info:
        next(api.request(transactions.TransactionsStream(venue.exchange.account_id)))
    assert info.value.code == 503
