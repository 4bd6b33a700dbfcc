"""The VenueHarness contract: how a plugin lets the conformance suite drive its local venue.

A plugin's ``BrokerSpec.harness`` is a zero-argument callable returning an async context
manager that starts the plugin's venue on 127.0.0.1, connects a real adapter to it, and yields a
:class:`HarnessSession`.  The suite then acts through the adapter (the way the engine would) and
checks the outcome against :class:`VenueControl`'s ledger: the venue's truth, not the adapter's
word.

A plugin may also offer ``BrokerSpec.external_venue``, an :data:`ExternalVenueHarness`: the same
venue, but with no adapter, for an engine that runs in *another process* (which the crash test
SIGKILLs and restarts).  It yields an :class:`ExternalVenue`: the control, plus the settings
that process passes to the plugin's own factory to reach the venue.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from autotrader.adapter import BrokerAdapter
from autotrader.model import Balance, OrderSide, OrderStatus, OrderType

__all__ = [
    "ExternalVenue",
    "ExternalVenueHarness",
    "Fault",
    "HarnessSession",
    "LedgerOrder",
    "LedgerTrade",
    "VenueControl",
    "VenueHarness",
]


class Fault(enum.Enum):
    """Faults the suite asks a venue to inject; a venue lists what it supports."""

    REJECT = "reject"
    """The next new order is rejected by the venue with a reason."""
    SERVER_ERROR = "server_error"
    """The next ``count`` order requests fail with a 5xx *before* the venue processes them."""
    RATE_LIMIT = "rate_limit"
    """The next ``count`` requests get 429 (or the venue's pacing error) with ``retry_after``."""
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"
    """The next new order is accepted (and may fill) but its response never arrives in time."""
    DROP_STREAM = "drop_stream"
    """The event stream is cut now; events meanwhile are only recoverable by reconciliation."""
    DUPLICATE_EVENTS = "duplicate_events"
    """The next ``count`` stream events are sent twice."""
    REORDER_EVENTS = "reorder_events"
    """The next pair of stream events is sent in swapped order."""


@attrs.frozen
class LedgerOrder:
    """An order as the venue recorded it."""

    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    status: OrderStatus
    filled_quantity: Decimal
    venue_order_id: str


@attrs.frozen
class LedgerTrade:
    """A trade the venue made."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    commission: Decimal
    commission_asset: str | None


class VenueControl(abc.ABC):
    """The suite's handle on the venue itself."""

    supported_faults: frozenset[Fault] = frozenset()

    @abc.abstractmethod
    async def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market to ``price`` (last trade / mid) and match resting orders against it."""

    @abc.abstractmethod
    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        """Cap the quantity available at each price to ``quantity`` (``None``: unlimited).

        With a cap, a larger marketable order fills partially; a market or IOC remainder
        expires, a resting limit remainder keeps working and fills on later price moves.
        """

    @abc.abstractmethod
    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        """Arm ``fault`` (see :class:`Fault`)."""

    @abc.abstractmethod
    async def orders(self) -> list[LedgerOrder]:
        """Every order the venue received, in arrival order."""

    @abc.abstractmethod
    async def trades(self) -> list[LedgerTrade]:
        """Every trade the venue made, in time order."""

    @abc.abstractmethod
    async def balances(self) -> list[Balance]:
        """The account's balances as the venue books them."""


@attrs.frozen
class HarnessSession:
    """What a harness yields: a connected adapter, the venue control, and a test instrument.

    ``symbol`` must be tradable with ``quantity`` at around ``price`` both ways (the harness
    funds the account for it); ``tick`` is a price step the venue accepts.
    """

    adapter: BrokerAdapter
    control: VenueControl
    symbol: str
    price: Decimal
    quantity: Decimal
    tick: Decimal
    request_timeout: float = 2.0
    """How long the adapter waits for a response: the suite's accept-then-timeout bound."""


VenueHarness: TypeAlias = Callable[[], AbstractAsyncContextManager[HarnessSession]]


@attrs.frozen
class ExternalVenue:
    """A plugin's local venue that outlives the engine processes using it.

    The venue runs in the process that entered the harness (its own thread, or for an in-process
    broker a durable state file), so an engine process can be killed with SIGKILL and restarted
    against the venue's unchanged state.  That process builds its adapter exactly as a user would:
    ``BrokerSpec.factory(**broker_config)`` with ``environment`` added to its environment.
    ``broker_config`` is JSON-serialisable and holds no secret; credentials travel only in
    ``environment``, under the variable names the plugin's own config reads (never on a command
    line, where ``ps`` would show them).

    ``control`` reads the venue's ledger and moves its prices; its coroutines run in the event
    loop that entered the harness.  An in-process broker's control may refuse to act while an
    engine process holds the venue (its state has one owner at a time).  ``symbol`` trades with
    ``quantity`` around ``price`` both ways, as in :class:`HarnessSession`.
    """

    control: VenueControl
    broker_config: Mapping[str, Any]
    environment: Mapping[str, str]
    symbol: str
    price: Decimal
    quantity: Decimal
    tick: Decimal


ExternalVenueHarness: TypeAlias = Callable[[], AbstractAsyncContextManager[ExternalVenue]]
"""Zero-argument factory of an async context manager that starts the venue and yields an
:class:`ExternalVenue` (and stops the venue on exit)."""
