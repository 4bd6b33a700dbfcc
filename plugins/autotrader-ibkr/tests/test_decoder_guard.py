"""The guard itself: what the client library drops is seen, and fails the harness and the tests.

The tests that provoke a dropped message use ``provoked``, which clears the autouse guard's
records at the end: that guard would (rightly) fail them otherwise.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator

import anyio
import pytest
from autotrader.model import OrderSide
from autotrader.testing.support import away, request, wait_for

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.compat import IB, LIBRARY
from autotrader_ibkr.decode_guard import WATCHED_LOGGERS, DecodeGuard, UndecodableMessage
from autotrader_ibkr.harness import TwsVenueControl, harness
from autotrader_ibkr.tws.raw_client import raw_tws_client
from autotrader_ibkr.tws.wire import Out

pytestmark = pytest.mark.anyio


@pytest.fixture
def provoked(undecodable_messages_fail: DecodeGuard) -> Iterator[DecodeGuard]:
    """The autouse guard, for a test that drops messages on purpose (cleared afterwards)."""
    yield undecodable_messages_fail
    undecodable_messages_fail.records.clear()


class _Wrapper:
    def __getattr__(self, name: str) -> object:
        return lambda *args: None


def test_watched_loggers_are_the_ones_the_library_uses() -> None:
    decoder = importlib.import_module(f"{LIBRARY}.decoder").Decoder(_Wrapper(), 176)
    client = importlib.import_module(f"{LIBRARY}.client").Client(_Wrapper())
    wrapper = IB().wrapper
    event_module = importlib.import_module("eventkit.event")
    event_logger = getattr(event_module, "logger", None) or event_module.Event.logger
    names = {decoder.logger.name, client._logger.name, wrapper._logger.name, event_logger.name}
    assert names <= set(WATCHED_LOGGERS)


def test_a_decoder_error_is_caught(provoked: DecodeGuard) -> None:
    decoder = importlib.import_module(f"{LIBRARY}.decoder").Decoder(_Wrapper(), 176)
    with DecodeGuard() as guard:
        decoder.interpret(["61", "3", "too", "short"])  # POSITION_DATA missing its fields
    assert [r.name for r in guard.records] == [f"{LIBRARY}.Decoder"]
    with pytest.raises(UndecodableMessage, match="Error handling fields"):
        guard.check()


def test_ib_error_echoes_pass_but_an_unplaceable_order_status_is_caught(provoked: DecodeGuard) -> None:
    wrapper = IB().wrapper
    with DecodeGuard() as guard:
        wrapper.error(7, 201, "Order rejected - reason:test", "")
        wrapper.error(-1, 2104, "Market data farm connection is OK:usfarm", "")
    assert guard.records == []
    with DecodeGuard() as guard:
        wrapper.orderStatus(424242, "Submitted", 0.0, 1.0, 0.0, 1, 0, 0.0, 5, "", 0.0)
    assert "No order found" in guard.problems()[0]


def test_a_silenced_library_logger_is_heard_and_restored(provoked: DecodeGuard) -> None:
    logger = logging.getLogger(f"{LIBRARY}.Decoder")
    logger.setLevel(logging.CRITICAL)
    logger.disabled = True
    try:
        decoder = importlib.import_module(f"{LIBRARY}.decoder").Decoder(_Wrapper(), 176)
        with DecodeGuard() as guard:
            decoder.interpret(["5", "x"])
        assert len(guard.records) == 1
        assert (logger.level, logger.disabled) == (logging.CRITICAL, True)
    finally:
        logger.setLevel(logging.NOTSET)
        logger.disabled = False


def test_logging_disabled_globally_is_refused() -> None:
    logging.disable(logging.CRITICAL)
    try:
        with pytest.raises(UndecodableMessage, match=r"logging\.disable"), DecodeGuard():
            pass
    finally:
        logging.disable(logging.NOTSET)


async def test_a_malformed_message_from_the_tws_fails_the_harness(provoked: DecodeGuard) -> None:
    async def scenario() -> None:
        async with harness() as session:
            assert isinstance(session.control, TwsVenueControl)
            tws_session = session.control.server.sessions[1]
            tws_session.write([Out.POSITION_DATA, 3, "DU1234567", "not-a-conid"])
            await wait_for(lambda: bool(provoked.records), what="the decoder's log")

    with pytest.raises(UndecodableMessage, match="Error handling fields"):
        await scenario()


async def test_an_adapter_callback_that_raises_fails_the_harness(provoked: DecodeGuard) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("adapter bug")

    async def scenario() -> None:
        async with harness() as session:
            assert isinstance(session.adapter, IbkrAdapter)
            session.adapter.ib.openOrderEvent += broken
            await session.adapter.submit_order(request(session, OrderSide.BUY, price=away(session, -5)))

    with pytest.raises(UndecodableMessage, match="callback of openOrderEvent raised RuntimeError"):
        await scenario()


async def test_a_request_the_tws_cannot_read_fails_the_harness(provoked: DecodeGuard) -> None:
    async def scenario() -> None:
        async with harness() as session:
            assert isinstance(session.control, TwsVenueControl)
            async with raw_tws_client(session.control.server.port, client_id=77) as raw:
                await raw.send([3, raw.next_order_id, "265598"])  # PLACE_ORDER cut short
                error = await raw.until(lambda f: f[0] == str(int(Out.ERR_MSG)))
                assert error[3] == "320"
                with anyio.fail_after(2):
                    await wait_for(lambda: bool(provoked.records))

    with pytest.raises(UndecodableMessage, match="local TWS: cannot process"):
        await scenario()
