"""The execution engine: strategy -> pre-trade risk -> OMS -> resiliency -> adapter, fills back.

``ExecutionEngine(strategy, adapter, config)`` keeps the seed API (``connect``,
``execute_decision``, ``run_live_trading``, ``get_status``, ``subscribe_fills``,
``subscribe_decisions``, ``stop``) and :class:`KillSwitch` stops everything at once.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import anyio
import anyio.abc
import attrs
import pluggy

from autotrader.adapter import BrokerAdapter, check_backend
from autotrader.errors import AutotraderError, ConfigError, InvalidOrder, RiskRejected
from autotrader.frozen import positional_constructor
from autotrader.journal import Journal, JournalPlugin, open_journal
from autotrader.model import (
    ZERO,
    Balance,
    ClientOrderIdFactory,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    decimal_from_user,
)
from autotrader.oms import OrderManager
from autotrader.plugins import DirectHook, live_hook, make_plugin_manager
from autotrader.recovery import RecoveryReport, reconcile_with_venue, restore_from_journal
from autotrader.resiliency import CircuitState, ResiliencyManager
from autotrader.risk import BuiltinRiskChecks, RiskContext, RiskLimits, TradingState, pretrade_violations
from autotrader.strategy.decision import ExecutionDecision

__all__ = [
    "ExecutionConfig",
    "ExecutionEngine",
    "KillSwitch",
    "SupportsDecision",
    "SupportsPriceUpdates",
    "TradingState",
]

log = logging.getLogger(__name__)

MarketData = Mapping[str, Mapping[str, Any]]


@runtime_checkable
class SupportsPriceUpdates(Protocol):
    """A simulated venue fed with the engine's market data (the paper broker)."""

    def update_price(self, symbol: str, price: Decimal) -> Any: ...


class SupportsDecision(Protocol):
    """What the engine reads of a decision: an :class:`ExecutionDecision`, or any object with these.

    A strategy may return a decision class of its own (the seed's strategies did): its
    ``action`` and ``size`` are read as the user wrote them, and its order terms from
    ``metadata`` (``order_type``, ``time_in_force``, ``limit_price`` or its alias ``price``,
    ``stop_price``) when the request is built.  That reading is more lenient than the checks an
    ``ExecutionDecision`` makes when it is created: a price the order type does not use is
    dropped rather than refused.  The request built from it is validated like any other.
    """

    @property
    def action(self) -> object: ...

    @property
    def symbol(self) -> str: ...

    @property
    def size(self) -> object: ...

    @property
    def metadata(self) -> Mapping[str, Any] | None: ...


def _limits(value: RiskLimits | Mapping[str, Any] | None) -> RiskLimits:
    if value is None:
        return RiskLimits()
    if isinstance(value, RiskLimits):
        return value
    try:
        return RiskLimits(**value)
    except TypeError as exc:
        raise ConfigError("risk", str(exc)) from None


@attrs.define
class ExecutionConfig:
    """Engine settings; the first four are the seed's."""

    enable_resiliency: bool = True
    enable_oms_monitoring: bool = True
    cycle_time_ms: int = 100
    enable_paper_trading: bool = False
    """Safety interlock: when True the engine refuses an adapter that is not simulated."""
    order_timeout_seconds: float | None = 300.0
    monitor_interval_seconds: float = 10.0
    health_check_interval_seconds: float = 30.0
    max_retries: int = 3
    initial_backoff: float = 1.0
    backoff_multiplier: float = 2.0
    circuit_breaker_threshold: int = 5
    circuit_breaker_timeout: float = 60.0
    quantity_rounding: str = "down"
    """``down``: a decision's size is rounded down to the lot; ``reject``: off-lot sizes are refused."""
    risk: RiskLimits = attrs.field(factory=RiskLimits, converter=_limits)
    client_order_id_prefix: str = "at"
    max_completed_orders: int = 10_000
    hold_while_working: bool = True
    """Ignore a decision that opens exposure while an order on that symbol is still working, so
    a strategy that decides from its position does not enter twice before the first order fills."""

    def __attrs_post_init__(self) -> None:
        if self.cycle_time_ms < 0:
            raise ConfigError("cycle_time_ms", "must not be negative")
        if self.quantity_rounding not in ("down", "reject"):
            raise ConfigError("quantity_rounding", "must be 'down' or 'reject'")
        if self.max_retries < 0:
            raise ConfigError("max_retries", "must not be negative")


_ORDER_TYPE_ALIASES: Mapping[str, tuple[OrderType | None, TimeInForce | None]] = {
    "MARKET": (OrderType.MARKET, None),
    "LIMIT": (OrderType.LIMIT, None),
    "STOP": (OrderType.STOP, None),
    "STOP_LIMIT": (OrderType.STOP_LIMIT, None),
    "IOC": (None, TimeInForce.IOC),
    "FOK": (None, TimeInForce.FOK),
}


_TIME_IN_FORCE: Mapping[str, TimeInForce] = {tif.value: tif for tif in TimeInForce}
"""By value: a dict lookup, where ``TimeInForce(value)`` runs Enum's lookup machinery per order."""

_CIRCUIT_STATE_VALUES: Mapping[CircuitState, str] = {state: state.value for state in CircuitState}
"""A dict lookup per order where the member's ``.value`` is a Python-level descriptor call."""

# Enum members the order path reads, bound once (see autotrader.model._BUY).
_BUY: Final = OrderSide.BUY
_SELL: Final = OrderSide.SELL
_MARKET: Final = OrderType.MARKET
_GTC: Final = TimeInForce.GTC

_new_request: Final = positional_constructor(OrderRequest, convert=False)
"""``OrderRequest(*every_field)`` for :meth:`ExecutionEngine.build_request`, whose quantity and
prices are finite Decimals already (the converters' own result): checked by the class's
``__attrs_post_init__`` as always, without three converter calls per order."""
_new_risk_context: Final = positional_constructor(RiskContext)
"""Built for every order: at the cost of a plain object (:mod:`autotrader.frozen`)."""


SETTLE_SECONDS: Final = 10.0
"""How long winding down waits for its closing orders to finish."""


class ExecutionEngine:
    """Turns strategy decisions into orders and keeps the strategy informed of fills."""

    def __init__(
        self,
        strategy: Any,
        adapter: BrokerAdapter,
        config: ExecutionConfig | None = None,
        *,
        plugins: Iterable[object] = (),
        plugin_manager: pluggy.PluginManager | None = None,
        load_entry_points: bool = False,
        journal: Journal | str | Path | None = None,
    ) -> None:
        self.strategy = strategy
        self.adapter = adapter
        self.config = config or ExecutionConfig()
        if plugin_manager is None:
            plugin_manager, _ = make_plugin_manager(load_entry_points=load_entry_points)
        self.plugin_manager = plugin_manager
        if not any(isinstance(p, BuiltinRiskChecks) for p in plugin_manager.get_plugins()):
            plugin_manager.register(BuiltinRiskChecks(), name="autotrader-builtin-risk")
        for plugin in plugins:
            plugin_manager.register(plugin)
        self.journal: Journal | None = None
        self._journal_plugin: JournalPlugin | None = None
        if journal is not None:
            self.journal = journal if not isinstance(journal, str | Path) else open_journal(journal)
            self._journal_plugin = JournalPlugin(self.journal)
            plugin_manager.register(self._journal_plugin)
        plugin_manager.check_pending()
        self.hook = plugin_manager.hook
        cfg = self.config
        if cfg.enable_resiliency:
            self.resiliency = ResiliencyManager(
                adapter,
                max_retries=cfg.max_retries,
                initial_backoff=cfg.initial_backoff,
                backoff_multiplier=cfg.backoff_multiplier,
                circuit_breaker_threshold=cfg.circuit_breaker_threshold,
                circuit_breaker_timeout=cfg.circuit_breaker_timeout,
                health_check_interval=cfg.health_check_interval_seconds,
                hook=self.hook,
            )
        else:
            self.resiliency = ResiliencyManager(
                adapter, max_retries=0, circuit_breaker_threshold=2**31, hook=self.hook
            )
        self.oms = OrderManager(
            adapter,
            self.resiliency,
            hook=self.hook,
            order_timeout=cfg.order_timeout_seconds,
            check_interval=cfg.monitor_interval_seconds,
            max_completed_orders=cfg.max_completed_orders,
            id_factory=ClientOrderIdFactory(cfg.client_order_id_prefix),
        )
        self.oms.on_fill(self._on_fill)
        self._hook_decision = live_hook(self.hook, "autotrader_decision")
        self._pretrade_hook = DirectHook(self.hook.autotrader_pretrade_check)
        self._builtin_checks = next(
            (
                impl.function
                for impl in self.hook.autotrader_pretrade_check.get_hookimpls()
                if type(impl.plugin) is BuiltinRiskChecks
            ),
            None,
        )
        """The built-in checks' hook function: while it is the hook's only implementation, the
        checks run without a RiskContext (see :meth:`pretrade_check`)."""
        self.trading_state = TradingState.ACTIVE
        self.connected = False
        self.running = False
        self.kill_switch_active = False
        self.instruments: dict[str, Instrument] = {}
        self.balances: dict[str, Balance] = {}
        self.last_prices: dict[str, Decimal] = {}
        self._fill_subscribers: list[Callable[[Fill], Any]] = []
        self._decision_subscribers: list[Callable[[Any, Order], Any]] = []
        self._started_at: float | None = None

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> bool:
        """Connect the adapter, load instruments and balances."""
        check_backend(self.adapter)
        if self.config.enable_paper_trading and not isinstance(self.adapter, SupportsPriceUpdates):
            raise ConfigError(
                "enable_paper_trading",
                f"is on, but the {self.adapter.name!r} broker trades for real; use the paper broker",
            )
        ok = await self.resiliency.call("connect", self.adapter.connect)
        self.instruments = dict(await self.resiliency.call("instruments", self.adapter.instruments))
        await self.refresh_balances()
        self.connected = bool(ok)
        self._started_at = time.time()
        self.hook.autotrader_engine_started(engine=self)
        return self.connected

    async def resume(self) -> RecoveryReport:
        """Rebuild the OMS from the journal, connect, and reconcile with the venue (``--resume``)."""
        if self.journal is None:
            raise ConfigError("journal", "resume needs a journal")
        report = restore_from_journal(self.journal, self.oms, self.resiliency)
        if not self.connected:
            await self.connect()
        report = await reconcile_with_venue(self.oms, base=report)
        await self.refresh_balances()  # what the reconciled and resent orders left in the account
        report = attrs.evolve(report, balances=dict(self.balances))
        log.warning("recovery: %s", report)
        return report

    async def disconnect(self) -> None:
        self.running = False
        try:
            await self.adapter.disconnect()
        finally:
            self.connected = False
            if self.journal is not None:
                self.journal.flush()
            self.hook.autotrader_engine_stopped(engine=self)

    async def __aenter__(self) -> ExecutionEngine:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    async def refresh_balances(self) -> None:
        try:
            balances = await self.resiliency.call("get_balances", self.adapter.get_balances)
        except AutotraderError as exc:
            log.warning("could not refresh balances: %s", exc)
            return
        self.balances = {b.asset: b for b in balances}

    def stop(self) -> None:
        """Stop the live loop after the current cycle (orders stay as they are)."""
        self.running = False

    def set_trading_state(self, state: TradingState, reason: str = "") -> None:
        if state is self.trading_state:
            return
        old, self.trading_state = self.trading_state, state
        log.warning("trading state %s -> %s %s", old.value, state.value, reason)
        self.hook.autotrader_trading_state_changed(old=old.value, new=state.value, reason=reason)

    # ------------------------------------------------------------------ subscriptions
    def subscribe_fills(self, callback: Callable[[Fill], Any]) -> None:
        """Call ``callback(fill)`` for every new fill (each fill once)."""
        self._fill_subscribers.append(callback)

    def subscribe_decisions(self, callback: Callable[[Any, Order], Any]) -> None:
        """Call ``callback(decision, order)`` whenever a decision produced an order."""
        self._decision_subscribers.append(callback)

    def _on_fill(self, fill: Fill, order: Order) -> None:
        on_fill = getattr(self.strategy, "on_fill", None)
        if on_fill is not None:
            on_fill(fill)
        for callback in self._fill_subscribers:
            try:
                callback(fill)
            except Exception:
                log.exception("fill subscriber %r failed", callback)

    # ------------------------------------------------------------------ decisions
    def build_request(self, decision: SupportsDecision) -> OrderRequest | None:
        """Turn a decision into an order request (``None`` for HOLD or nothing to close)."""
        action = str(decision.action).upper()
        symbol = decision.symbol
        instrument = self.instruments.get(symbol)
        if self.instruments and instrument is None:
            raise InvalidOrder("symbol", f"{symbol!r} is not traded on {self.adapter.name}")
        reduce_only = False
        if action == "HOLD":
            return None
        if action in ("LONG", "BUY"):
            side, quantity = _BUY, decimal_from_user(decision.size, "size")
        elif action in ("SHORT", "SELL"):
            side, quantity = _SELL, decimal_from_user(decision.size, "size")
        elif action in ("CLOSE", "FLAT", "EXIT"):
            position = self.oms.positions.quantity(symbol)
            if position == 0:
                return None
            side = OrderSide.SELL if position > 0 else OrderSide.BUY
            quantity, reduce_only = abs(position), True
        else:
            raise InvalidOrder("action", f"unknown action {decision.action!r}")
        if quantity <= ZERO:
            raise InvalidOrder("size", f"must be positive, got {quantity}")
        if instrument is not None and not instrument.on_lot(quantity):
            rounded = instrument.round_quantity(quantity)
            if rounded != quantity:
                if self.config.quantity_rounding == "reject":
                    raise InvalidOrder(
                        "size", f"{quantity} is not a multiple of the lot size {instrument.lot_size}"
                    )
                if rounded <= ZERO:
                    raise InvalidOrder(
                        "size", f"{quantity} rounds to 0 at the lot size {instrument.lot_size}"
                    )
                quantity = rounded
        if type(decision) is ExecutionDecision:
            order_type, tif, limit, stop_price = decision.order_terms  # resolved when it was made
        else:
            order_type, tif, limit, stop_price = self._order_terms(decision.metadata or {})
        # By position, in OrderRequest's field order: one request per order, and nine
        # keywords cost ~0.4 us.
        return _new_request(
            self.oms.new_client_order_id(),
            symbol,
            side,
            order_type,
            quantity,
            limit,
            stop_price,
            tif,
            reduce_only,
        )

    @classmethod
    def _order_terms(
        cls, meta: Mapping[str, Any]
    ) -> tuple[OrderType, TimeInForce, Decimal | None, Decimal | None]:
        """Type, time in force, limit and stop price from a duck-typed decision's metadata (an
        :class:`ExecutionDecision` resolves its own, as ``order_terms``)."""
        order_type, tif = cls._order_type(meta) if meta else (None, None)
        price = meta.get("limit_price", meta.get("price")) if meta else None
        stop = meta.get("stop_price") if meta else None
        if order_type is None:
            if price is not None and stop is not None:
                order_type = OrderType.STOP_LIMIT
            elif price is not None:
                order_type = OrderType.LIMIT
            elif stop is not None:
                order_type = OrderType.STOP
            else:
                order_type = _MARKET
        limit = (
            decimal_from_user(price, "limit_price") if price is not None and order_type.needs_price else None
        )
        stop_price = (
            decimal_from_user(stop, "stop_price")
            if stop is not None and order_type.needs_stop_price
            else None
        )
        return order_type, tif or _GTC, limit, stop_price

    @staticmethod
    def _order_type(meta: Mapping[str, Any]) -> tuple[OrderType | None, TimeInForce | None]:
        order_type: OrderType | None = None
        tif: TimeInForce | None = None
        raw_type = meta.get("order_type")
        # A decision's metadata holds the normalized value ("MARKET"): looked up as is first,
        # before the str / upper / getattr of an alias spelled any other way.
        known = _ORDER_TYPE_ALIASES.get(raw_type) if type(raw_type) is str else None
        if known is not None:
            order_type, tif = known
        elif raw_type is not None:
            try:
                order_type, tif = _ORDER_TYPE_ALIASES[str(getattr(raw_type, "value", raw_type)).upper()]
            except KeyError:
                raise InvalidOrder("order_type", f"unknown order type {raw_type!r}") from None
        raw_tif = meta.get("time_in_force")
        known_tif = _TIME_IN_FORCE.get(raw_tif) if type(raw_tif) is str else None
        if known_tif is not None:
            tif = known_tif
        elif raw_tif is not None:
            try:
                tif = _TIME_IN_FORCE[str(getattr(raw_tif, "value", raw_tif)).upper()]
            except KeyError:
                raise InvalidOrder("time_in_force", f"unknown time in force {raw_tif!r}") from None
        return order_type, tif

    def risk_context(self, request: OrderRequest) -> RiskContext:
        return _new_risk_context(*self._risk_inputs(request))

    def _risk_inputs(self, request: OrderRequest) -> tuple[Any, ...]:
        """The fields of ``request``'s :class:`RiskContext`, in their order (trading_state,
        strategy_status, circuit_state, open_orders, position, pending, last_price, instrument,
        balances, limits)."""
        symbol = request.symbol
        open_orders, position, pending = self.oms.exposure(symbol)
        status = getattr(self.strategy, "status", "ACTIVE")
        return (
            self.trading_state,
            status if type(status) is str else str(status),
            _CIRCUIT_STATE_VALUES[self.resiliency.circuit.state],
            open_orders,
            position,
            pending,
            self.last_prices.get(symbol),
            self.instruments.get(symbol),
            self.balances,
            self.config.risk,
        )

    def pretrade_check(self, request: OrderRequest) -> None:
        """Validate against the instrument and run every risk hook; raise on any violation.

        While the built-in checks are the only ones registered, they are run directly on the
        context's fields, as their hook implementation would run them on the context: the same
        answer without building a RiskContext and calling through the hook (callgrind: 2.7k
        instructions an order less).
        """
        instrument = self.instruments.get(request.symbol)
        if instrument is not None:
            instrument.validate(request, reference_price=self.last_prices.get(request.symbol))
        if self._builtin_checks is not None and self._pretrade_hook.only() is self._builtin_checks:
            violations = pretrade_violations(request, *self._risk_inputs(request))
            if violations:
                raise RiskRejected(violations)
            return
        results = self._pretrade_hook.call(request, self.risk_context(request))
        if any(results):
            raise RiskRejected([v for result in results if result for v in result])

    async def submit(self, request: OrderRequest, *, check: bool = True) -> Order:
        """Check and send one order request (the path every engine order takes)."""
        if check:
            self.pretrade_check(request)
        return await self.oms.submit_order(request)

    async def execute_decision(self, decision: SupportsDecision) -> Order | None:
        """Act on one decision: returns the order, or ``None`` when there was nothing to send.

        Raises :class:`InvalidOrder` or :class:`RiskRejected` (nothing sent) for a bad decision.
        """
        request = self.build_request(decision)
        if request is None:
            self._decided(decision, None)
            return None
        self.pretrade_check(request)  # what submit() does, without its coroutine (~1k instructions)
        order = await self.oms.submit_order(request)
        if self._hook_decision is not None or self._decision_subscribers:
            self._decided(decision, order)
        return order

    async def execute_decisions(
        self, decisions: Iterable[SupportsDecision]
    ) -> list[Order | InvalidOrder | RiskRejected | None]:
        """Act on the decisions of one cycle, with one journal commit for all of their intents.

        Each decision is built and checked in turn and tracked as soon as it passes, so the
        checks of the next one count it (open orders, pending exposure); the state they see is
        the state before any of the batch is sent.  The intents are then committed together --
        checking and tracking never ``await``, so none of them can reach the wire first -- and
        the orders are sent one by one, in order.  The result has an entry per decision: its
        order, ``None`` when there was nothing to send, or the :class:`InvalidOrder` /
        :class:`RiskRejected` that stopped it.

        What is not sent yet is withdrawn (cancelled, never sent) when the trading state changes
        while the batch goes out -- the kill switch, a halt: it was checked under rules no longer
        in force -- and when sending is cancelled or fails with anything but a rejection.
        """
        batch = list(decisions)
        results: list[Order | InvalidOrder | RiskRejected | None] = [None] * len(batch)
        to_send: list[tuple[int, str]] = []
        state = self.trading_state
        together = (
            self._journal_plugin.committed_together()
            if self._journal_plugin is not None
            else contextlib.nullcontext()
        )
        try:
            with together:
                for index, decision in enumerate(batch):
                    try:
                        request = self.build_request(decision)
                        if request is not None:
                            self.pretrade_check(request)
                            self.oms.track(request)
                            to_send.append((index, request.client_order_id))
                    except (InvalidOrder, RiskRejected) as exc:
                        results[index] = exc
        except BaseException:
            self._withdraw([coid for _, coid in to_send], "not sent: the batch's intents were not committed")
            raise
        sent = 0
        try:
            for index, coid in to_send:
                if self.trading_state is not state:
                    break
                sent += 1
                try:
                    order = await self.oms.send(coid)
                except InvalidOrder as exc:  # the venue's (the order is REJECTED) or no longer PENDING
                    results[index] = exc
                    continue
                results[index] = order
                self._decided(batch[index], order)
        finally:
            unsent = [coid for _, coid in to_send[sent:]]
            if unsent:
                reason = f"not sent: trading state is {self.trading_state.value}"
                if self.trading_state is state:
                    reason = "not sent: the batch was interrupted"
                for (index, _), left in zip(to_send[sent:], self._withdraw(unsent, reason), strict=True):
                    results[index] = left
        tracked = {index for index, _ in to_send}
        for index, decision in enumerate(batch):
            if index not in tracked and results[index] is None:
                self._decided(decision, None)
        return results

    def _withdraw(self, client_order_ids: list[str], reason: str) -> list[Order | None]:
        """Cancel tracked orders that were never sent; returns each as it stands afterwards.

        One that is no longer PENDING (the kill switch cancelled it first) is left as it is,
        and one failure does not stop the rest.
        """
        withdrawn: list[Order | None] = []
        for coid in client_order_ids:
            try:
                withdrawn.append(self.oms.withdraw(coid, reason))
                continue
            except InvalidOrder:
                pass
            except Exception:
                log.exception("could not withdraw %s", coid)
            withdrawn.append(self.oms.get_order(coid))
        return withdrawn

    def _decided(self, decision: SupportsDecision, order: Order | None) -> None:
        """Tell the decision hook (also of a decision with nothing to send) and the subscribers."""
        if self._hook_decision is not None:
            self._hook_decision.call(decision, order)
        if order is None:
            return
        for callback in self._decision_subscribers:
            try:
                callback(decision, order)
            except Exception:
                log.exception("decision subscriber %r failed", callback)

    # ------------------------------------------------------------------ market data
    async def update_market(self, symbol: str, price: Decimal) -> None:
        self.last_prices[symbol] = price
        self.oms.positions.mark(symbol, price)
        if isinstance(self.adapter, SupportsPriceUpdates):
            result = self.adapter.update_price(symbol, price)
            if inspect.isawaitable(result):
                await result

    async def process_market_data(self, market_data: MarketData) -> list[Order]:
        """One cycle: mark prices, ask the strategy, act on its decisions."""
        orders: list[Order] = []
        for symbol, data in market_data.items():
            if "price" in data:
                await self.update_market(symbol, decimal_from_user(data["price"], f"{symbol}.price"))
        decisions: list[ExecutionDecision] = []
        deciding: set[str] = set()  # symbols with a decision in this cycle's batch
        for symbol, data in market_data.items():
            signal = dict(data)
            signal.setdefault("position", self.oms.positions.quantity(symbol))
            decision = self.strategy.process_signal(symbol, signal)
            if decision is None or str(decision.action).upper() == "HOLD":
                continue
            if (
                self.config.hold_while_working
                and str(decision.action).upper() not in ("CLOSE", "FLAT", "EXIT")
                and (decision.symbol in deciding or self.oms.get_active_orders(decision.symbol))
            ):
                log.debug("decision for %s held: an order is still working", decision.symbol)
                continue
            decisions.append(decision)
            deciding.add(decision.symbol)
        for decision, result in zip(decisions, await self.execute_decisions(decisions), strict=True):
            if isinstance(result, InvalidOrder | RiskRejected):
                log.warning("decision for %s not executed: %s", decision.symbol, result)
            elif result is not None:
                orders.append(result)
        if self.journal is not None:
            self.journal.flush()
        return orders

    async def run_live_trading(
        self,
        market_data_callback: Callable[[], Awaitable[MarketData]],
        should_continue: Callable[[], bool] = lambda: True,
    ) -> None:
        """The main loop: every ``cycle_time_ms``, fetch market data and act on it.

        Background monitors (order timeouts, health) run for as long as the loop does.
        """
        if not self.connected:
            await self.connect()
        self.running = True
        cycle = self.config.cycle_time_ms / 1000
        try:
            async with anyio.create_task_group() as tg:
                self._start_monitors(tg)
                while self.running and should_continue():
                    started = anyio.current_time()
                    market_data = await market_data_callback()
                    if market_data:
                        await self.process_market_data(market_data)
                    await anyio.sleep(max(0.0, cycle - (anyio.current_time() - started)))
                tg.cancel_scope.cancel()
        finally:
            self.running = False

    def _start_monitors(self, tg: anyio.abc.TaskGroup) -> None:
        if self.journal is not None:
            tg.start_soon(self._flush_journal_periodically, self.journal)
        if self.config.enable_oms_monitoring:
            tg.start_soon(self.oms.monitor_orders)
        if self.config.enable_resiliency:
            tg.start_soon(self.resiliency.monitor_health)

    async def wind_down(
        self, *, close_positions: bool = True, settle_timeout: float = SETTLE_SECONDS
    ) -> KillReport:
        """Cancel every open order and, if asked, close every position with market orders.

        The closing orders bypass the pre-trade checks (they only reduce exposure) but are
        still validated and journaled like any other order.  A venue may acknowledge a market
        order before it reports the fill (IB sends Submitted, then the execution), so this waits
        up to ``settle_timeout`` seconds for the closing orders to finish: a kill switch that
        disconnects right after would never hear of their fills.
        """
        cancelled = [
            o.client_order_id for o in await self.oms.cancel_all() if o.status is OrderStatus.CANCELLED
        ]
        errors: list[str] = []
        closing: list[Order] = []
        if close_positions:
            for symbol, position in self.oms.positions.open().items():
                request = OrderRequest(
                    client_order_id=self.oms.new_client_order_id(),
                    symbol=symbol,
                    side=OrderSide.SELL if position.quantity > 0 else OrderSide.BUY,
                    order_type=OrderType.MARKET,
                    quantity=abs(position.quantity),
                    reduce_only=True,
                )
                try:
                    closing.append(await self.submit(request, check=False))
                except AutotraderError as exc:
                    errors.append(f"close {symbol}: {exc}")
                    log.error("could not close %s: %s", symbol, exc)
        await self._await_finished(closing, settle_timeout)
        return KillReport(cancelled, closing, errors)

    async def _await_finished(self, orders: list[Order], timeout: float) -> None:
        """Wait (bounded: a venue that never answers leaves them open) until ``orders`` are final."""

        def finished() -> bool:
            current = (self.oms.get_order(order.client_order_id) for order in orders)
            return all(order is None or order.status.is_terminal for order in current)

        with anyio.move_on_after(timeout):
            while not finished():  # noqa: ASYNC110 - fills arrive through the adapter's callbacks
                await anyio.sleep(0.01)

    @staticmethod
    async def _flush_journal_periodically(journal: Journal, interval: float = 0.05) -> None:
        while True:
            await anyio.sleep(interval)
            journal.flush()

    # ------------------------------------------------------------------ status
    def get_status(self) -> dict[str, Any]:
        """The seed's status dict, plus trading state and positions."""
        oms = self.oms.get_metrics()
        return {
            "connected": self.connected and self.adapter.is_connected,
            "running": self.running,
            "broker": self.adapter.name,
            "trading_state": self.trading_state.value,
            "kill_switch_active": self.kill_switch_active,
            "strategy_status": str(getattr(self.strategy, "status", "ACTIVE")),
            "strategy_equity": getattr(self.strategy, "equity", None),
            "oms": oms,
            "resiliency": self.resiliency.get_failure_stats(),
            "positions": {s: p.quantity for s, p in self.oms.positions.open().items()},
            "realized_pnl": self.oms.positions.realized_pnl(),
            "unrealized_pnl": self.oms.positions.unrealized_pnl(),
        }


@attrs.frozen
class KillReport:
    cancelled: list[str]
    flatten_orders: list[Order]
    errors: list[str]


class KillSwitch:
    """Emergency stop: halt trading, cancel every open order, optionally flatten, disconnect."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine

    async def activate(self, close_positions: bool = False, reason: str = "kill switch") -> KillReport:
        engine = self.engine
        log.critical("KILL SWITCH: %s (close_positions=%s)", reason, close_positions)
        engine.kill_switch_active = True
        engine.running = False
        engine.set_trading_state(TradingState.HALTED, reason)
        engine.hook.autotrader_kill_switch(engine=engine, reason=reason, close_positions=close_positions)
        report = await engine.wind_down(close_positions=close_positions)
        await engine.disconnect()
        return report
