"""The client's one-pass signed body is byte for byte what python-binance's own path builds."""

from __future__ import annotations

from typing import Any

import pytest
from binance import AsyncClient

from autotrader_binance import client as client_module
from autotrader_binance.client import BinanceClient, client_class
from autotrader_binance.config import BinanceConfig

pytestmark = pytest.mark.anyio

CONFIG = BinanceConfig(
    api_key="k" * 64,
    api_secret="s" * 64,
    api_url="http://127.0.0.1:1/api",
    ws_api_url="ws://127.0.0.1:1/ws-api/v3",
    recv_window=5000,
)
PARAMS: list[dict[str, Any]] = [
    {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "newClientOrderId": "a1"},
    {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1.5",
        "price": "50000.10",
        "newClientOrderId": "x:y/z.-_9",  # every character Binance allows
        "newOrderRespType": "FULL",
        "stopPrice": None,  # dropped, as the library drops it
    },
    {"symbol": "ETHBTC", "orderId": 42, "newClientOrderId": "a2", "newQty": "0.4"},  # ints are str()-ed
]


def _library_body(client: BinanceClient, method: str, data: dict[str, Any]) -> Any:
    """The library's own request kwargs, with its pairs joined as the adapter sends them."""
    request = AsyncClient._get_request_kwargs(client, method, True, data=data)
    request["data"] = client_module._query(request["data"])
    return request


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
async def test_the_one_pass_body_is_the_librarys(
    monkeypatch: pytest.MonkeyPatch, method: str, params: dict[str, Any]
) -> None:
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.123)
    client = client_class(CONFIG)(api_key=CONFIG.api_key.reveal(), api_secret=CONFIG.api_secret.reveal())
    client.timestamp_offset = -250
    try:
        ours = client._get_request_kwargs(method, True, data=dict(params))
        assert ours == _library_body(client, method, dict(params))
        assert ours["data"].endswith("&signature=" + client._hmac_signature(ours["data"].rsplit("&", 1)[0]))
    finally:
        await client.close_connection()


async def test_a_get_and_request_params_take_the_librarys_path() -> None:
    client = client_class(CONFIG)(api_key=CONFIG.api_key.reveal(), api_secret=CONFIG.api_secret.reveal())
    try:
        query = client._get_request_kwargs("get", True, data={"symbol": "BTCUSDT", "orderId": 1})
        assert "data" not in query and "signature=" in query["params"]
        extra = {"symbol": "BTCUSDT", "requests_params": {"proxy": None}}
        assert client._get_request_kwargs("post", True, data=extra)["proxy"] is None
    finally:
        await client.close_connection()
