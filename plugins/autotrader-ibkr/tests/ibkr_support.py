"""Helpers the adapter tests share: typed access to the harness's parts, an OMS, event capture."""

from __future__ import annotations

from autotrader.model import Fill
from autotrader.oms import OrderManager
from autotrader.resiliency import ResiliencyManager
from autotrader.testing.harness import HarnessSession

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.harness import TwsVenueControl


def control(s: HarnessSession) -> TwsVenueControl:
    assert isinstance(s.control, TwsVenueControl)
    return s.control


def adapter(s: HarnessSession) -> IbkrAdapter:
    assert isinstance(s.adapter, IbkrAdapter)
    return s.adapter


def record(s: HarnessSession) -> list[object]:
    events: list[object] = []
    s.adapter.add_listener(events.append)
    return events


def fills(events: list[object]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]


def oms_for(s: HarnessSession) -> OrderManager:
    return OrderManager(
        s.adapter,
        ResiliencyManager(s.adapter, initial_backoff=0.05, reconcile_delay=0.05),
        order_timeout=None,
    )
