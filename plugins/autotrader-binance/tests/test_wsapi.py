"""The WebSocket API connection the user data stream arrives on (``wsapi.py``, ``userstream.py``)."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from autotrader.testing.harness import HarnessSession

from autotrader_binance import userstream
from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.userstream import _Dispatch
from autotrader_binance.wsapi import LeanWebsocketAPI

pytestmark = pytest.mark.anyio

EVENT: dict[str, Any] = {"e": "executionReport", "E": 1, "s": "BTCUSDT", "c": "a1", "x": "NEW"}


class Collected:
    """A registered subscription queue, as the library sees it (it calls ``put_nowait``)."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)


async def test_the_user_stream_connection_negotiates_no_compression(session: HarnessSession) -> None:
    adapter = session.adapter
    assert isinstance(adapter, BinanceAdapter)
    api = adapter.client.ws_api
    assert isinstance(api, LeanWebsocketAPI)
    assert api.ws is not None and api.ws.protocol.extensions == []  # no permessage-deflate


async def test_a_subscription_event_is_decoded_once_and_routed_to_its_queue() -> None:
    api = LeanWebsocketAPI("ws://127.0.0.1:1/ws-api/v3", tld="com", https_proxy=None)
    queue = Collected()
    api.register_subscription_queue(7, queue)
    assert api._handle_message(json.dumps({"subscriptionId": 7, "event": EVENT})) is None
    assert queue.items == [EVENT]


async def test_everything_else_takes_the_librarys_own_path() -> None:
    api = LeanWebsocketAPI("ws://127.0.0.1:1/ws-api/v3", tld="com", https_proxy=None)
    # An event of a subscription nobody registered: the library hands it to its main queue.
    assert api._handle_message(json.dumps({"subscriptionId": 3, "event": EVENT})) == EVENT
    # The answer to a request resolves the request's future.
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    api._responses["req-1"] = answer
    message = {"id": "req-1", "status": 200, "result": {"subscriptionId": 0}}
    assert api._handle_message(json.dumps(message)) is None
    assert answer.result() == message


def test_the_dispatch_never_raises_into_the_librarys_reader() -> None:
    seen: list[dict[str, Any]] = []

    def failing(event: dict[str, Any]) -> None:
        seen.append(event)
        raise RuntimeError("a broken handler")

    dispatch = _Dispatch(failing)
    dispatch.put_nowait(EVENT)  # logged, not raised: a raise would stop the reader for good
    dispatch.put_nowait({"e": "error", "type": "ConnectionClosedError", "m": "gone"})
    dispatch.put_nowait({"e": "eventStreamTerminated", "E": 1})
    assert seen == [EVENT]
    assert [dispatch.control.get_nowait()["e"] for _ in range(2)] == ["error", "eventStreamTerminated"]
    dispatch.open = False
    dispatch.put_nowait(EVENT)  # after stop: dropped
    assert seen == [EVENT]


async def test_the_subscription_request_is_bounded_though_the_library_no_longer_times_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LeanWebsocketAPI waits for messages without a timeout; the subscription's answer must not."""

    async def never_answered(*_: Any, **__: Any) -> Any:
        await asyncio.Event().wait()

    client = SimpleNamespace(_ws_api_request=never_answered, ws_api=None)
    stream = userstream.UserStream(client, lambda event: None, _nothing)
    monkeypatch.setattr(userstream, "_ANSWER_TIMEOUT", 0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stream.start(), 2)
    assert time.monotonic() - started < 1  # the stream's own bound (0.05 s), not the test's (2 s)
    assert LeanWebsocketAPI.TIMEOUT is None  # what the bound above stands in for


async def _nothing() -> None:
    return None
