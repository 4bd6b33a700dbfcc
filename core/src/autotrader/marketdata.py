"""Market-data sources that feed the engine the seed's per-symbol dicts.

Every source is an async iterator of ``(timestamp, {symbol: market_data})`` where ``market_data``
is the dict the strategy reads: ``price`` (Decimal), ``probability``, ``expected_value``,
``returns``, ``volatility`` (once the lookback has two returns) and ``timestamp`` (aware UTC
datetime), plus ``open/high/low/close/volume`` from OHLCV files.  The statistics come from a
:class:`SignalModel`, so the reference strategy has something real to trade.

* :class:`CsvReplay` - an OHLCV CSV (unnamed timestamp, Open, High, Low, Close, Volume) or a tick
  CSV (timestamp, price[, volume]); numbers are parsed from the text straight to Decimal.
* :class:`ParquetReplay` - the same columns from Parquet, when pyarrow is installed.
* :class:`SyntheticSource` - a deterministic random walk (one seed, the same prices every run).
* :class:`MergedSource` - several sources on one clock (one snapshot per distinct timestamp).
* :func:`bundled_dataset` - the real EURUSD hourly series shipped inside the package.
* :func:`open_source` - CSV or Parquet by the file's suffix (what ``autotrader run --data`` uses).

Every source takes ``limit`` (stop after that many snapshots) and ``interval`` (seconds slept
between snapshots, for a paced replay).  ``len(source)`` is the number of snapshots when it is
known (a progress bar's total; ``source.length`` is ``None`` rather than raising when not) and
:meth:`MarketDataSource.as_callback` gives the seed's ``market_data_callback`` coroutine.
Iterating a source again starts it again from the beginning, with fresh statistics.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import csv
import datetime as dt
import heapq
import io
import math
import os
import random
import statistics
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

import anyio
import attrs

from autotrader.errors import AutotraderError

__all__ = [
    "BUNDLED_EURUSD",
    "CsvReplay",
    "MarketData",
    "MarketDataCallback",
    "MarketDataError",
    "MarketDataSource",
    "MergedSource",
    "ParquetReplay",
    "SignalModel",
    "Snapshot",
    "SyntheticSource",
    "bundled_dataset",
    "open_source",
    "parse_timestamp",
]

MarketData: TypeAlias = dict[str, Any]
"""One symbol's data at one moment, as the strategy's ``process_signal`` receives it."""

Snapshot: TypeAlias = tuple[dt.datetime, dict[str, MarketData]]

Rows: TypeAlias = "Generator[tuple[dt.datetime, list[Bar]], None, None]"
"""What a source yields before the signal model: each moment's bars, one per symbol."""

PathArg: TypeAlias = "str | os.PathLike[str] | Traversable"

BUNDLED_EURUSD: Final[Traversable] = resources.files("autotrader") / "data" / "EURUSD.csv"

_TIME_COLUMNS: Final = ("", "timestamp", "time", "date", "datetime", "__index_level_0__")
_OHLCV: Final = ("open", "high", "low", "close", "volume")
_MS_EPOCH_THRESHOLD: Final = 1e11
"""Epoch numbers above this are milliseconds (1e11 seconds is the year 5138)."""


class MarketDataError(AutotraderError, ValueError):
    """Market data is missing or malformed; ``key`` names the field (or file and line)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"market data: {key}: {problem}")
        self.key = key
        self.problem = problem


# --------------------------------------------------------------------------- parsing


def parse_timestamp(value: object, key: str = "timestamp") -> dt.datetime:
    """An aware UTC datetime from a datetime, epoch seconds (or milliseconds) or ISO-8601 text.

    Naive times are taken to be UTC: historical files rarely say, and UTC is the only zone that
    does not move a bar across a day boundary twice a year.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        moment = _from_epoch(float(value), key, value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = _from_epoch(float(text), key, value)
        except ValueError:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                raise MarketDataError(key, f"{value!r} is not a timestamp") from None
    else:
        raise MarketDataError(key, f"expected a timestamp, got {type(value).__name__} {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _from_epoch(number: float, key: str, original: object) -> dt.datetime:
    if not math.isfinite(number):
        raise MarketDataError(key, f"{original!r} is not a timestamp")
    if abs(number) > _MS_EPOCH_THRESHOLD:
        number /= 1000.0
    return dt.datetime.fromtimestamp(number, dt.UTC)


def _decimal_text(text: str, key: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise MarketDataError(key, f"{text!r} is not a number") from None
    if not number.is_finite():
        raise MarketDataError(key, f"{text!r} is not a finite number")
    return number


def _decimal_value(value: object, key: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str):
        return _decimal_text(value, key)
    else:
        raise MarketDataError(key, f"expected a number, got {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise MarketDataError(key, f"{value!r} is not a finite number")
    return number


# --------------------------------------------------------------------------- the signal model


class SignalModel:
    """Turns a price series into ``returns``, ``volatility``, ``probability`` and ``expected_value``.

    Momentum: the mean of the last ``lookback`` one-bar returns as a t-statistic
    (``z = mean / (stdev / sqrt(n))``); ``probability = logistic(scale * z)`` is the chance the
    next move is up, and ``expected_value = (2p - 1) * volatility`` the expected one-bar return of
    a long position.  Before two returns exist, it says "no view": probability 0.5, EV 0.
    Statistics are floats: they estimate, they do not count money.
    """

    def __init__(self, lookback: int = 20, scale: float = 1.0) -> None:
        if lookback < 2:
            raise ValueError("lookback must be at least 2")
        if not scale > 0:
            raise ValueError("scale must be positive")
        self.lookback = lookback
        self.scale = scale
        self._returns: collections.deque[float] = collections.deque(maxlen=lookback)
        self._previous: Decimal | None = None

    def fresh(self) -> SignalModel:
        """A model with the same settings and no history (for a new pass over the data)."""
        return SignalModel(self.lookback, self.scale)

    def update(self, price: Decimal) -> dict[str, Any]:
        """Take the next price; return the features for it."""
        previous, self._previous = self._previous, price
        if previous is None or previous <= 0:
            return {"returns": 0.0, "probability": 0.5, "expected_value": 0.0}
        last = float(price / previous - 1)
        self._returns.append(last)
        features: dict[str, Any] = {"returns": last, "probability": 0.5, "expected_value": 0.0}
        if len(self._returns) < 2:
            return features
        volatility = statistics.stdev(self._returns)
        features["volatility"] = volatility
        if volatility > 0:
            z = statistics.fmean(self._returns) / (volatility / math.sqrt(len(self._returns)))
            probability = _logistic(self.scale * z)
            features["probability"] = probability
            features["expected_value"] = (2.0 * probability - 1.0) * volatility
        return features


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# --------------------------------------------------------------------------- sources


@attrs.frozen
class Bar:
    """One symbol's raw observation before the signal model: price plus any extra columns."""

    symbol: str
    price: Decimal
    extras: Mapping[str, Any] = attrs.field(factory=dict)


class MarketDataSource(abc.ABC):
    """Async iterator of snapshots; subclasses say where the bars come from (:meth:`_rows`)."""

    def __init__(
        self, *, signal_model: SignalModel | None = None, interval: float = 0.0, limit: int | None = None
    ) -> None:
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        self.signal_model = signal_model if signal_model is not None else SignalModel()
        self.interval = interval
        self.limit = limit

    @abc.abstractmethod
    def _rows(self) -> Rows:
        """The raw bars, in time order, each moment with one bar per symbol."""

    def _total(self) -> int | None:
        """How many snapshots the data holds, when known without reading it all."""
        return None

    @property
    def length(self) -> int | None:
        """The number of snapshots (after ``limit``), or ``None`` when unknown (an endless source)."""
        total = self._total()
        if self.limit is None:
            return total
        return self.limit if total is None else min(total, self.limit)

    def __len__(self) -> int:
        total = self.length
        if total is None:
            raise TypeError(f"{type(self).__name__} has no known length")
        return total

    def __bool__(self) -> bool:
        return True

    def __aiter__(self) -> AsyncIterator[Snapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[Snapshot]:
        models: dict[str, SignalModel] = {}
        with contextlib.closing(self._rows()) as rows:  # closes the file when the replay is abandoned
            for count, (timestamp, bars) in enumerate(rows):
                if self.limit is not None and count >= self.limit:
                    break
                snapshot: dict[str, MarketData] = {}
                for bar in bars:
                    model = models.get(bar.symbol)
                    if model is None:
                        model = models[bar.symbol] = self.signal_model.fresh()
                    data: MarketData = {"price": bar.price, **model.update(bar.price)}
                    data.update(bar.extras)
                    data["timestamp"] = timestamp
                    snapshot[bar.symbol] = data
                yield timestamp, snapshot
                await anyio.sleep(self.interval)  # pacing, and a checkpoint so a replay can be cancelled

    def as_callback(self) -> MarketDataCallback:
        """The seed's ``market_data_callback``: each await returns the next ``{symbol: data}``."""
        return MarketDataCallback(self)


class MarketDataCallback:
    """``await callback()`` gives the next snapshot's dict; ``{}`` once the source is exhausted.

    Pass :meth:`should_continue` as the engine's ``should_continue`` to stop at the end of a replay:
    it turns false as soon as the last snapshot has been handed out (one snapshot is read ahead).
    """

    def __init__(self, source: MarketDataSource | MergedSource) -> None:
        self._iterator = aiter(source)
        self._pending: Snapshot | None = None
        self._started = False
        self._done = False
        self.timestamp: dt.datetime | None = None
        """The time of the snapshot handed out last."""

    async def _advance(self) -> None:
        try:
            self._pending = await anext(self._iterator)
        except StopAsyncIteration:
            self._pending = None
            self._done = True

    async def __call__(self) -> dict[str, MarketData]:
        if not self._started:
            self._started = True
            await self._advance()
        if self._pending is None:
            return {}
        self.timestamp, current = self._pending
        await self._advance()
        return current

    @property
    def exhausted(self) -> bool:
        return self._done

    def should_continue(self) -> bool:
        return not self._done


# --------------------------------------------------------------------------- files


def _open_text(path: PathArg) -> IO[str]:
    if isinstance(path, (str, os.PathLike)):
        return Path(path).open(newline="", encoding="utf-8")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", newline="")


class CsvReplay(MarketDataSource):
    """Replays a CSV file for one symbol.

    Two layouts are recognized from the header: OHLCV (a timestamp column, unnamed or called
    timestamp/time/date/datetime, then Open, High, Low, Close, Volume in any case; ``price`` is
    Close) and ticks (``timestamp, price[, volume]``, with or without a header).
    ``interval`` seconds are slept between snapshots (0 replays as fast as it is consumed).
    """

    def __init__(
        self,
        path: PathArg,
        symbol: str,
        *,
        signal_model: SignalModel | None = None,
        interval: float = 0.0,
        limit: int | None = None,
    ) -> None:
        super().__init__(signal_model=signal_model, interval=interval, limit=limit)
        if not symbol:
            raise ValueError("symbol must not be empty")
        self.path = path
        self.symbol = symbol
        self._length: int | None = None
        with _open_text(path) as handle:  # fail now, not at the first await, on a bad file
            first = next(csv.reader(handle), None)
        if first is None:
            raise MarketDataError(self._where(1), "the file is empty")
        self._layout = _Layout.detect(first, self._where(1))

    def _where(self, line: int) -> str:
        name = Path(str(self.path)).name if isinstance(self.path, (str, os.PathLike)) else self.path.name
        return f"{name} line {line}"

    def _total(self) -> int:
        if self._length is None:
            with _open_text(self.path) as handle:
                rows = sum(1 for row in csv.reader(handle) if row)
            self._length = rows - (1 if self._layout.has_header else 0)
        return self._length

    def _rows(self) -> Rows:
        layout = self._layout
        with _open_text(self.path) as handle:
            reader = csv.reader(handle)
            if layout.has_header:
                next(reader, None)
            for row in reader:
                if not row:
                    continue
                where = self._where(reader.line_num)
                timestamp = parse_timestamp(_cell(row, layout.time_index, where), where)
                extras: dict[str, Any] = {}
                for name, index in layout.columns.items():
                    text = _cell(row, index, where, required=name != "volume")
                    extras[name] = _decimal_text(text, f"{where}, column {name}") if text else None
                price = extras.pop("price") if layout.is_ticks else extras["close"]
                if price is None or price <= 0:
                    raise MarketDataError(where, f"price must be positive, got {price}")
                yield timestamp, [Bar(self.symbol, price, extras)]


def _cell(row: list[str], index: int, where: str, *, required: bool = True) -> str:
    if index >= len(row) or not row[index].strip():
        if required:
            raise MarketDataError(where, f"column {index + 1} is empty")
        return ""
    return row[index]


@attrs.frozen
class _Layout:
    """Where the timestamp and the numeric columns are in a CSV row."""

    has_header: bool
    is_ticks: bool
    time_index: int
    columns: Mapping[str, int]

    @classmethod
    def detect(cls, first: list[str], where: str) -> _Layout:
        names = [cell.strip().lower() for cell in first]
        if len(names) >= 2 and _is_number(names[1]):  # headerless ticks: timestamp, price[, volume]
            columns = {"price": 1} | ({"volume": 2} if len(names) > 2 else {})
            return cls(has_header=False, is_ticks=True, time_index=0, columns=columns)
        time_index = next((i for i, n in enumerate(names) if n in _TIME_COLUMNS), None)
        if time_index is None:
            raise MarketDataError(where, f"no timestamp column in the header {first}")
        if "close" in names:
            columns = {n: names.index(n) for n in _OHLCV if n in names}
            return cls(has_header=True, is_ticks=False, time_index=time_index, columns=columns)
        if "price" in names:
            columns = {n: names.index(n) for n in ("price", "volume") if n in names}
            return cls(has_header=True, is_ticks=True, time_index=time_index, columns=columns)
        raise MarketDataError(where, f"neither a Close nor a price column in the header {first}")


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


class ParquetReplay(MarketDataSource):
    """Replays a Parquet file (the CSV layouts' columns) for one symbol; needs pyarrow.

    Float columns are taken by their shortest repr (Parquet stores binary floats, not text).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        symbol: str,
        *,
        signal_model: SignalModel | None = None,
        interval: float = 0.0,
        limit: int | None = None,
        batch_size: int = 65_536,
    ) -> None:
        super().__init__(signal_model=signal_model, interval=interval, limit=limit)
        try:
            import pyarrow.parquet as pq  # type: ignore[import-not-found, import-untyped, unused-ignore]
        except ImportError:
            raise ImportError(
                "ParquetReplay needs pyarrow, which is not installed: pip install 'autotrader[parquet]' "
                "(or replay the data as CSV with CsvReplay)"
            ) from None
        self.path = Path(path)
        self.symbol = symbol
        self._batch_size = batch_size
        self._file: Any = pq.ParquetFile(self.path)
        names = list(self._file.schema_arrow.names)
        lower = [n.lower() for n in names]
        time_index = next((i for i, n in enumerate(lower) if n in _TIME_COLUMNS), None)
        if time_index is None:
            raise MarketDataError(self.path.name, f"no timestamp column among {names}")
        price = "close" if "close" in lower else "price" if "price" in lower else None
        if price is None:
            raise MarketDataError(self.path.name, f"neither a Close nor a price column among {names}")
        wanted = _OHLCV if price == "close" else ("price", "volume")
        self._time_column = names[time_index]
        self._columns = {n: names[lower.index(n)] for n in wanted if n in lower}
        self._price = price

    def _total(self) -> int:
        rows: int = self._file.metadata.num_rows
        return rows

    def _rows(self) -> Rows:
        read = [self._time_column, *self._columns.values()]
        row_number = 0
        for batch in self._file.iter_batches(batch_size=self._batch_size, columns=read):
            for record in batch.to_pylist():
                row_number += 1
                where = f"{self.path.name} row {row_number}"
                timestamp = parse_timestamp(record[self._time_column], where)
                extras: dict[str, Any] = {}
                for name, column in self._columns.items():
                    value = record[column]
                    extras[name] = None if value is None else _decimal_value(value, f"{where}, {column}")
                price = extras.pop("price") if self._price == "price" else extras["close"]
                if price is None or price <= 0:
                    raise MarketDataError(where, f"price must be positive, got {price}")
                yield timestamp, [Bar(self.symbol, price, extras)]


# --------------------------------------------------------------------------- synthetic


class SyntheticSource(MarketDataSource):
    """A deterministic geometric random walk: the same ``seed`` gives the same prices, always.

    Each symbol walks on its own generator (seeded from ``seed`` and the symbol's position), so
    adding a symbol does not change the others' paths.  Prices are rounded to ``tick``.
    ``steps=None`` walks forever (then ``len()`` is unknown).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        symbols: Sequence[str] = ("SYNTH",),
        steps: int | None = 1000,
        start_price: object = 100,
        volatility: float = 0.01,
        drift: float = 0.0,
        tick: object = "0.01",
        start: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        step: dt.timedelta = dt.timedelta(minutes=1),
        signal_model: SignalModel | None = None,
        interval: float = 0.0,
        limit: int | None = None,
    ) -> None:
        super().__init__(signal_model=signal_model, interval=interval, limit=limit)
        if not symbols or len(set(symbols)) != len(symbols):
            raise ValueError("symbols must be distinct and at least one")
        if steps is not None and steps < 0:
            raise ValueError("steps must not be negative")
        if not (volatility >= 0 and math.isfinite(volatility) and math.isfinite(drift)):
            raise ValueError("volatility must be finite and non-negative, drift finite")
        self.seed = seed
        self.symbols = tuple(symbols)
        self.steps = steps
        self.start_price = _decimal_value(start_price, "start_price")
        self.tick = _decimal_value(tick, "tick")
        if self.start_price <= 0 or self.tick <= 0:
            raise ValueError("start_price and tick must be positive")
        self.volatility = volatility
        self.drift = drift
        self.start = parse_timestamp(start, "start")
        self.step = step

    def _total(self) -> int | None:
        return self.steps

    def _rows(self) -> Rows:
        walkers = [random.Random(f"{self.seed}:{i}:{s}") for i, s in enumerate(self.symbols)]
        prices = [self.start_price.quantize(self.tick)] * len(self.symbols)
        count = 0
        while self.steps is None or count < self.steps:
            timestamp = self.start + self.step * count
            yield timestamp, [Bar(s, p) for s, p in zip(self.symbols, prices, strict=True)]
            prices = [self._next(p, w) for p, w in zip(prices, walkers, strict=True)]
            count += 1

    def _next(self, price: Decimal, walker: random.Random) -> Decimal:
        moved = float(price) * math.exp(walker.gauss(self.drift, self.volatility))
        return max(Decimal(repr(moved)).quantize(self.tick), self.tick)


# --------------------------------------------------------------------------- merging


class MergedSource:
    """Several sources on one clock: one snapshot per distinct timestamp, all symbols at it.

    Each source must be in time order; a symbol appearing in two sources is refused.
    """

    def __init__(self, *sources: MarketDataSource) -> None:
        if not sources:
            raise ValueError("MergedSource needs at least one source")
        self.sources = sources

    @property
    def length(self) -> int | None:
        return None  # distinct timestamps are only known after a full pass

    def __aiter__(self) -> AsyncIterator[Snapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[Snapshot]:
        iterators = [aiter(s) for s in self.sources]
        heap: list[tuple[dt.datetime, int, dict[str, MarketData]]] = []
        for index, iterator in enumerate(iterators):
            await _push(heap, index, iterator)
        while heap:
            timestamp = heap[0][0]
            snapshot: dict[str, MarketData] = {}
            while heap and heap[0][0] == timestamp:
                _, index, data = heapq.heappop(heap)
                duplicated = snapshot.keys() & data.keys()
                if duplicated:
                    raise MarketDataError(
                        ", ".join(sorted(duplicated)),
                        f"twice at {timestamp.isoformat()} (in two sources, or a repeated timestamp)",
                    )
                snapshot.update(data)
                await _push(heap, index, iterators[index])
            yield timestamp, snapshot

    def as_callback(self) -> MarketDataCallback:
        return MarketDataCallback(self)


async def _push(
    heap: list[tuple[dt.datetime, int, dict[str, MarketData]]],
    index: int,
    iterator: AsyncIterator[Snapshot],
) -> None:
    try:
        timestamp, data = await anext(iterator)
    except StopAsyncIteration:
        return
    heapq.heappush(heap, (timestamp, index, data))


# --------------------------------------------------------------------------- bundled data


def bundled_dataset(
    *, signal_model: SignalModel | None = None, interval: float = 0.0, limit: int | None = None
) -> CsvReplay:
    """EUR/USD hourly bars, 2017-04-19 .. 2018-02-07 (5000 rows), shipped inside the package.

    Source: test data shipped inside the PyPI package backtesting 0.6.6, backtesting/test/EURUSD.csv.
    """
    return CsvReplay(BUNDLED_EURUSD, "EURUSD", signal_model=signal_model, interval=interval, limit=limit)


_PARQUET_SUFFIXES: Final = frozenset({".parquet", ".pq", ".parq"})


def open_source(
    path: str | os.PathLike[str],
    *,
    symbol: str | None = None,
    signal_model: SignalModel | None = None,
    interval: float = 0.0,
    limit: int | None = None,
) -> CsvReplay | ParquetReplay:
    """A replay of ``path``: Parquet or CSV by its suffix; the symbol defaults to the file's stem."""
    file = Path(path)
    name = symbol or file.stem
    if file.suffix.lower() in _PARQUET_SUFFIXES:
        return ParquetReplay(file, name, signal_model=signal_model, interval=interval, limit=limit)
    return CsvReplay(file, name, signal_model=signal_model, interval=interval, limit=limit)
