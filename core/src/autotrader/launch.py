"""Assembling and running one ``autotrader run``: broker, strategy, engine, journal, metrics, replay.

The CLI parses settings into :class:`RunSettings`; :func:`launch` does the rest, so the same run
can be started from Python (tests, notebooks) exactly as the command starts it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import signal
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import attrs

from autotrader.engine import ExecutionEngine
from autotrader.errors import ConfigError
from autotrader.livefeed import LiveFeed
from autotrader.observe import MetricsPlugin, MetricsServer, StatusPublisher
from autotrader.plugins import BrokerRegistry
from autotrader.runconfig import build_execution_config
from autotrader.runner import RunSummary, replay

__all__ = ["RunSettings", "launch", "paper_state_file"]

log = logging.getLogger(__name__)


@attrs.frozen
class RunSettings:
    broker: str = "paper"
    data: Path | None = None
    symbol: str | None = None
    strategy: str | None = None
    strategy_file: Path | None = None
    strategy_config: dict[str, Any] = attrs.field(factory=dict)
    initial_balance: Decimal = Decimal(100_000)
    commission_bps: Decimal = Decimal(1)
    slippage_bps: Decimal = Decimal("0.5")
    seed: int = 7
    max_bars: int | None = None
    flatten: bool = True
    journal: Path | None = None
    resume: bool = False
    metrics_port: int | None = None
    status_file: Path | None = None
    live: bool = False
    feed: str | None = None
    bar_seconds: float = 1.0
    feed_config: dict[str, Any] = attrs.field(factory=dict)
    broker_config: dict[str, Any] = attrs.field(factory=dict)
    execution: dict[str, Any] = attrs.field(factory=dict)
    risk: dict[str, Any] = attrs.field(factory=dict)


def _strategy(settings: RunSettings) -> Any:
    from autotrader.strategy import StrategyConfig, TradingStrategy

    if settings.strategy_file is not None:
        config = StrategyConfig.from_yaml(settings.strategy_file)
    elif settings.strategy_config:
        config = StrategyConfig.from_dict(settings.strategy_config)
    else:
        config = StrategyConfig.default()
    if settings.strategy is None:
        return TradingStrategy(config, initial_equity=settings.initial_balance)
    module_name, _, class_name = settings.strategy.partition(":")
    if not class_name:
        raise ConfigError("strategy", "takes module:Class")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError("strategy", f"cannot load {settings.strategy}: {exc}") from None
    try:
        return cls(config, initial_equity=settings.initial_balance)
    except TypeError:
        return cls()


def _source(settings: RunSettings) -> Any:
    from autotrader import marketdata

    if settings.data is None:
        return marketdata.bundled_dataset(limit=settings.max_bars)
    return marketdata.open_source(settings.data, symbol=settings.symbol, limit=settings.max_bars)


def _live_symbols(settings: RunSettings) -> list[str]:
    symbols = [s.strip() for s in (settings.symbol or "").split(",") if s.strip()]
    if not symbols:
        raise ConfigError("symbol", "a live run needs --symbol (comma-separated for several)")
    if settings.data is not None:
        raise ConfigError("data", "give either --data (a replay) or --live/--feed (live quotes), not both")
    return symbols


def _feed_adapter(settings: RunSettings, broker_adapter: Any) -> Any:
    """The adapter whose quotes drive a live run: the broker's own, or another plugin's (``--feed``)."""
    name = settings.feed or settings.broker
    if name == settings.broker:
        if name == "paper":
            raise ConfigError(
                "feed",
                "the paper broker has no market of its own; paper-trade on another broker's live "
                "prices with --feed NAME (and its settings under feed_config)",
            )
        return broker_adapter
    spec = BrokerRegistry.discover().get(name)
    if not spec.capabilities.market_data:
        raise ConfigError("feed", f"the {name!r} broker offers no live market data")
    try:
        return spec.factory(**settings.feed_config)
    except TypeError as exc:
        raise ConfigError("feed_config", f"{name}: {exc}") from None


async def _list_feed_instruments(broker: Any, feed: Any, symbols: list[str]) -> None:
    """A simulated broker (paper) trading on another broker's prices learns that broker's instruments."""
    add = getattr(broker, "add_instruments", None)
    if add is not None:
        listed = await feed.instruments()
        add({symbol: listed[symbol] for symbol in symbols if symbol in listed})


def paper_state_file(journal: Path) -> Path | None:
    """Where a paper run keeps its venue's books next to a journal file (``None`` for a URL).

    The paper venue lives in the engine's process; with a journal, its books go to this file so
    that ``--resume`` reconciles with the venue the journal's orders went to, not a fresh one.
    """
    text = str(journal)
    if text.startswith("sqlite:///"):
        journal = Path(text.removeprefix("sqlite:///"))
    elif ":/" in text:  # a server journal (postgresql://...): no file to sit next to
        return None
    return journal.with_name(f"{journal.stem}.paper-venue{journal.suffix or '.sqlite'}")


def _adapter(settings: RunSettings) -> Any:
    spec = BrokerRegistry.discover().get(settings.broker)
    config = dict(settings.broker_config)
    if settings.broker == "paper":
        config = {
            "initial_balance": settings.initial_balance,
            "latency_ms": (0, 0),
            "fill_probability": 1.0,
            "commission_bps": settings.commission_bps,
            "slippage_bps": settings.slippage_bps,
            "seed": settings.seed,
            **config,
        }
        if "state_file" not in config and settings.journal is not None:
            config["state_file"] = paper_state_file(settings.journal)
        if settings.resume and not config.get("state_file"):
            raise ConfigError(
                "broker_config.state_file",
                "resuming a paper run needs the paper venue's books, which live in the engine's "
                "process: give this run and the one that wrote the journal the same state_file",
            )
        if config.get("state_file"):
            log.info("paper venue books in %s", config["state_file"])
    try:
        return spec.factory(**config)
    except TypeError as exc:
        raise ConfigError("broker_config", f"{settings.broker}: {exc}") from None


async def launch(settings: RunSettings, *, on_bar: Callable[[int], None] | None = None) -> RunSummary:
    """Build everything from ``settings`` (bad configuration fails before connecting) and replay."""
    strategy = _strategy(settings)
    live = settings.live or settings.feed is not None
    symbols = _live_symbols(settings) if live else []
    config = build_execution_config(
        {"execution": settings.execution, "risk": settings.risk},
        cycle_time_ms=0,
        enable_paper_trading=settings.broker == "paper",
    )
    adapter = _adapter(settings)
    feed_adapter = _feed_adapter(settings, adapter) if live else None
    source: Any = (
        LiveFeed(feed_adapter, symbols, bar_seconds=settings.bar_seconds, limit=settings.max_bars)
        if feed_adapter is not None
        else _source(settings)
    )
    metrics = MetricsPlugin()
    engine = ExecutionEngine(strategy, adapter, config, plugins=[metrics], journal=settings.journal)
    status = StatusPublisher(engine.get_status, settings.status_file)
    server = (
        MetricsServer(metrics.registry, status, settings.metrics_port).start()
        if settings.metrics_port is not None
        else None
    )
    if server is not None:
        log.warning("metrics and status on http://127.0.0.1:%d/metrics and /status", server.port)
    stop = anyio.Event()

    def bar_done(count: int) -> None:
        if count % 50 == 0:
            status.publish()
        if on_bar is not None:
            on_bar(count)

    try:
        async with contextlib.AsyncExitStack() as resources:
            if feed_adapter is not None and feed_adapter is not adapter:
                # before the engine connects: it loads the broker's instruments then
                await feed_adapter.connect()
                resources.push_async_callback(feed_adapter.disconnect)
                await _list_feed_instruments(adapter, feed_adapter, symbols)
            if settings.resume:
                report = await engine.resume()
                log.warning("resumed from %s: %s", settings.journal, report)
            elif live:
                await engine.connect()  # the feed subscribes through a connected adapter
            if isinstance(source, LiveFeed):
                await resources.enter_async_context(source)
                log.warning("live: %s quotes for %s", source.adapter.name, ", ".join(symbols))
            async with anyio.create_task_group() as tg:
                tg.start_soon(_watch_interrupt, stop)
                summary = await replay(
                    engine,
                    source,
                    initial_equity=settings.initial_balance,
                    on_bar=bar_done,
                    stop=stop,
                    flatten_at_end=settings.flatten,
                )
                tg.cancel_scope.cancel()
    finally:
        status.publish()
        if server is not None:
            server.stop()
        if engine.connected:
            await engine.disconnect()
    return summary


async def _watch_interrupt(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return
