"""Market-data sources: CSV/Parquet replay, synthetic walk, merging, the callback and the bundled data."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
import pytest

from autotrader.marketdata import (
    BUNDLED_EURUSD,
    CsvReplay,
    MarketDataError,
    MergedSource,
    ParquetReplay,
    SignalModel,
    Snapshot,
    SyntheticSource,
    bundled_dataset,
    open_source,
    parse_timestamp,
)

pytestmark = pytest.mark.timeout(60)

SHARED_EURUSD = Path("/work/shared/data/EURUSD.csv")


async def collect(source: Any, limit: int | None = None) -> list[Snapshot]:
    out: list[Snapshot] = []
    async for item in source:
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- bundled data


@pytest.mark.anyio
async def test_bundled_eurusd_replays_exact_decimals() -> None:
    source = bundled_dataset()
    assert source.symbol == "EURUSD"
    assert len(source) == 5000
    snapshots = await collect(source)
    assert len(snapshots) == 5000
    first_time, first = snapshots[0]
    assert first_time == dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)
    bar = first["EURUSD"]
    assert bar["price"] == bar["close"] == Decimal("1.07219")
    assert (bar["open"], bar["high"], bar["low"], bar["volume"]) == (
        Decimal("1.0716"),
        Decimal("1.0722"),
        Decimal("1.07083"),
        Decimal("1413"),
    )
    assert bar["timestamp"] == first_time
    assert snapshots[-1][0] == dt.datetime(2018, 2, 7, 15, tzinfo=dt.UTC)
    assert snapshots[-1][1]["EURUSD"]["price"] == Decimal("1.22904")
    assert [t for t, _ in snapshots] == sorted(t for t, _ in snapshots)
    later = [s["EURUSD"] for _, s in snapshots[30:]]
    assert all(0 < d["probability"] < 1 and d["volatility"] > 0 for d in later)
    assert any(d["probability"] > 0.6 for d in later) and any(d["probability"] < 0.4 for d in later)


def test_bundled_data_names_its_source() -> None:
    readme = (resources.files("autotrader") / "data" / "README.md").read_text(encoding="utf-8")
    assert (
        "test data shipped inside the PyPI package backtesting 0.6.6, backtesting/test/EURUSD.csv" in readme
    )


@pytest.mark.skipif(not SHARED_EURUSD.exists(), reason="the shared data folder is not beside the repo")
def test_bundled_file_is_the_unchanged_original() -> None:
    assert BUNDLED_EURUSD.read_bytes() == SHARED_EURUSD.read_bytes()


# --------------------------------------------------------------------------- CSV layouts


@pytest.mark.anyio
async def test_ohlcv_with_named_timestamp_and_any_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Timestamp,open,HIGH,low,Close,volume\n"
        "2024-01-02T00:00:00Z,10.0,11,9,10.50,\n2024-01-02 01:00,10.5,11,10,10.25,7\n",
    )
    snapshots = await collect(CsvReplay(path, "ABC"))
    assert [s["ABC"]["price"] for _, s in snapshots] == [Decimal("10.50"), Decimal("10.25")]
    assert snapshots[0][1]["ABC"]["volume"] is None
    assert snapshots[1][1]["ABC"]["volume"] == Decimal(7)
    assert snapshots[0][0] == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert snapshots[1][1]["ABC"]["returns"] == pytest.approx(10.25 / 10.5 - 1)


@pytest.mark.anyio
async def test_tick_csv_with_header(tmp_path: Path) -> None:
    path = write(tmp_path, "time,price,volume\n1704067200,100.1,5\n1704067201000,100.2,6\n")
    source = CsvReplay(path, "T")
    assert len(source) == 2
    snapshots = await collect(source)
    assert [t for t, _ in snapshots] == [
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=dt.UTC),
    ]
    data = snapshots[1][1]["T"]
    assert data["price"] == Decimal("100.2") and data["volume"] == Decimal(6)
    assert "close" not in data


@pytest.mark.anyio
async def test_headerless_tick_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "2024-01-01T00:00:00+01:00,0.1\n\n2024-01-01T00:01:00+01:00,0.3\n")
    source = CsvReplay(path, "T")
    assert len(source) == 2
    snapshots = await collect(source)
    assert snapshots[0][0] == dt.datetime(2023, 12, 31, 23, tzinfo=dt.UTC)
    assert [s["T"]["price"] for _, s in snapshots] == [Decimal("0.1"), Decimal("0.3")]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("a,b\n1,2\n", "no timestamp column"),
        ("timestamp,bid\n2024-01-01,1\n", "neither a Close nor a price"),
    ],
)
def test_unreadable_layouts_fail_at_construction(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(MarketDataError, match=fragment):
        CsvReplay(write(tmp_path, text), "X")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ("2024-01-01,1.0\n2024-01-02,abc\n", "line 3, column price: 'abc' is not a number"),
        ("2024-01-01,1.0\nnot-a-date,2\n", "line 3: 'not-a-date' is not a timestamp"),
        ("2024-01-01,0\n", "line 2: price must be positive"),
        ("2024-01-01,NaN\n", "not a finite number"),
        ("2024-01-01,\n", "line 2: column 2 is empty"),
    ],
)
async def test_bad_rows_name_file_and_line(tmp_path: Path, rows: str, fragment: str) -> None:
    source = CsvReplay(write(tmp_path, "timestamp,price\n" + rows, "ticks.csv"), "X")
    with pytest.raises(MarketDataError) as caught:
        await collect(source)
    assert "ticks.csv line" in str(caught.value)
    assert fragment in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CsvReplay(tmp_path / "nope.csv", "X")


@pytest.mark.anyio
async def test_a_second_pass_starts_again_with_fresh_statistics() -> None:
    source = bundled_dataset()
    assert await collect(source, 50) == await collect(source, 50)


@pytest.mark.anyio
async def test_limit_stops_the_replay_and_shortens_its_length(tmp_path: Path) -> None:
    source = bundled_dataset(limit=7)
    assert len(source) == 7
    assert len(await collect(source)) == 7
    assert len(bundled_dataset(limit=10_000)) == 5000
    endless = SyntheticSource(0, steps=None, limit=3)
    assert len(endless) == 3 and len(await collect(endless)) == 3


@pytest.mark.anyio
async def test_open_source_picks_the_reader_and_names_the_symbol(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,price\n2024-01-01,1\n2024-01-02,2\n", "BTCUSDT.csv")
    source = open_source(path, limit=1)
    assert isinstance(source, CsvReplay) and source.symbol == "BTCUSDT" and len(source) == 1
    assert open_source(path, symbol="XBT").symbol == "XBT"
    snapshots = await collect(source)
    assert list(snapshots[0][1]) == ["BTCUSDT"]


def test_open_source_reads_parquet_by_suffix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match="ParquetReplay needs pyarrow"):
        open_source(tmp_path / "ticks.PARQUET")


# --------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-04-19 09:00:00", dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)),
        ("2017-04-19T11:00:00+02:00", dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)),
        (1492592400, dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)),
        (1492592400000, dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)),
        ("1492592400.5", dt.datetime(2017, 4, 19, 9, 0, 0, 500000, tzinfo=dt.UTC)),
        (dt.datetime(2017, 4, 19, 9), dt.datetime(2017, 4, 19, 9, tzinfo=dt.UTC)),
    ],
)
def test_parse_timestamp(value: Any, expected: dt.datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected and parsed.tzinfo is dt.UTC


@pytest.mark.parametrize("value", ["soon", None, True, float("nan"), [1]])
def test_parse_timestamp_refuses(value: Any) -> None:
    with pytest.raises(MarketDataError):
        parse_timestamp(value, "when")


# --------------------------------------------------------------------------- the signal model


def feed(model: SignalModel, prices: list[str]) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for price in prices:
        features = model.update(Decimal(price))
    return features


def test_signal_model_reads_momentum() -> None:
    up = feed(SignalModel(lookback=5), ["100", "101", "102.5", "103", "104.2", "105"])
    assert up["probability"] > 0.9 and up["expected_value"] > 0
    down = feed(SignalModel(lookback=5), ["105", "104.2", "103", "102.5", "101", "100"])
    assert down["probability"] < 0.1 and down["expected_value"] < 0
    assert up["probability"] == pytest.approx(1 - down["probability"], abs=0.05)
    assert up["volatility"] > 0


def test_signal_model_has_no_view_without_history_or_movement() -> None:
    model = SignalModel()
    assert model.update(Decimal(1)) == {"returns": 0.0, "probability": 0.5, "expected_value": 0.0}
    assert "volatility" not in model.update(Decimal(2))
    flat = feed(SignalModel(), ["5"] * 10)
    assert flat["probability"] == 0.5 and flat["volatility"] == 0.0 and flat["expected_value"] == 0.0


def test_signal_model_window_forgets() -> None:
    model = SignalModel(lookback=3)
    feed(model, ["100", "90", "80", "70"])
    after = feed(model, ["71", "72", "73"])
    assert after["probability"] > 0.5


@pytest.mark.parametrize("kwargs", [{"lookback": 1}, {"scale": 0}])
def test_signal_model_settings_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"lookback|scale"):
        SignalModel(**kwargs)


# --------------------------------------------------------------------------- synthetic


@pytest.mark.anyio
async def test_synthetic_walk_is_deterministic() -> None:
    a = await collect(SyntheticSource(7, steps=200))
    b = await collect(SyntheticSource(7, steps=200))
    c = await collect(SyntheticSource(8, steps=200))
    assert a == b
    assert [s["SYNTH"]["price"] for _, s in a] != [s["SYNTH"]["price"] for _, s in c]
    prices = [s["SYNTH"]["price"] for _, s in a]
    assert prices[0] == Decimal("100.00")
    assert all(isinstance(p, Decimal) and p == p.quantize(Decimal("0.01")) and p > 0 for p in prices)
    assert len(set(prices)) > 50
    assert a[1][0] - a[0][0] == dt.timedelta(minutes=1)


@pytest.mark.anyio
async def test_synthetic_symbols_walk_independently() -> None:
    one = await collect(SyntheticSource(3, symbols=["A"], steps=50))
    two = await collect(SyntheticSource(3, symbols=["A", "B"], steps=50))
    assert [s["A"] for _, s in one] == [s["A"] for _, s in two]
    assert all(set(s) == {"A", "B"} for _, s in two)
    assert [s["A"]["price"] for _, s in two] != [s["B"]["price"] for _, s in two]


@pytest.mark.anyio
async def test_endless_synthetic_source_has_no_length_and_can_be_cancelled() -> None:
    source = SyntheticSource(1, steps=None)
    assert source and source.length is None
    with pytest.raises(TypeError):
        len(source)
    seen = 0
    with anyio.move_on_after(0.2):
        async for _ in source:
            seen += 1
    assert seen > 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"symbols": []},
        {"symbols": ["A", "A"]},
        {"steps": -1},
        {"volatility": -1.0},
        {"start_price": 0},
        {"tick": "0"},
        {"limit": -1},
    ],
)
def test_synthetic_settings_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"symbols|steps|volatility|positive|limit"):
        SyntheticSource(0, **kwargs)


@pytest.mark.anyio
async def test_interval_paces_the_replay() -> None:
    start = anyio.current_time()
    await collect(SyntheticSource(0, steps=4, interval=0.02))
    assert anyio.current_time() - start >= 0.07


# --------------------------------------------------------------------------- the seed's callback


@pytest.mark.anyio
async def test_callback_hands_out_snapshots_then_stops(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,price\n2024-01-01,1\n2024-01-02,2\n")
    callback = CsvReplay(path, "X").as_callback()
    assert callback.should_continue()
    first = await callback()
    assert first["X"]["price"] == Decimal(1)
    assert callback.should_continue()
    second = await callback()
    assert second["X"]["price"] == Decimal(2)
    assert callback.timestamp == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert not callback.should_continue() and callback.exhausted
    assert await callback() == {}


@pytest.mark.anyio
async def test_callback_drives_a_seed_style_loop() -> None:
    source = SyntheticSource(5, symbols=["BTCUSDT"], steps=25)
    callback = source.as_callback()
    seen = []
    while callback.should_continue():
        market_data = await callback()
        seen.append(market_data["BTCUSDT"]["price"])
    assert len(seen) == len(source) == 25


# --------------------------------------------------------------------------- merging


@pytest.mark.anyio
async def test_merged_sources_share_one_clock() -> None:
    fast = SyntheticSource(1, symbols=["A"], steps=4, step=dt.timedelta(minutes=1))
    slow = SyntheticSource(2, symbols=["B"], steps=2, step=dt.timedelta(minutes=2))
    merged = await collect(MergedSource(fast, slow))
    assert [sorted(s) for _, s in merged] == [["A", "B"], ["A"], ["A", "B"], ["A"]]
    assert [t for t, _ in merged] == sorted({t for t, _ in merged})
    alone = await collect(fast)
    assert [s["A"] for _, s in merged] == [s["A"] for _, s in alone]
    callback = MergedSource(fast, slow).as_callback()
    assert set(await callback()) == {"A", "B"}


@pytest.mark.anyio
async def test_merging_a_symbol_twice_is_refused() -> None:
    with pytest.raises(MarketDataError, match="twice"):
        await collect(MergedSource(SyntheticSource(1, steps=2), SyntheticSource(2, steps=2)))


def test_merged_needs_a_source() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MergedSource()


# --------------------------------------------------------------------------- Parquet


def test_parquet_without_pyarrow_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"pip install .autotrader\[parquet\]."):
        ParquetReplay(tmp_path / "x.parquet", "X")


@pytest.mark.anyio
async def test_parquet_replay_matches_the_csv(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    csv_source = bundled_dataset()
    rows = [s["EURUSD"] for _, s in await collect(csv_source, 100)]
    table = pa.table(
        {
            "": [r["timestamp"].replace(tzinfo=None) for r in rows],
            "Open": [float(r["open"]) for r in rows],
            "High": [float(r["high"]) for r in rows],
            "Low": [float(r["low"]) for r in rows],
            "Close": [float(r["close"]) for r in rows],
            "Volume": [int(r["volume"]) for r in rows],
        }
    )
    path = tmp_path / "eurusd.parquet"
    pq.write_table(table, path)
    source = ParquetReplay(path, "EURUSD", batch_size=16)
    assert len(source) == 100
    replayed = [s["EURUSD"] for _, s in await collect(source)]
    assert [r["price"] for r in replayed] == [r["price"] for r in rows]
    assert [r["timestamp"] for r in replayed] == [r["timestamp"] for r in rows]
    assert replayed == rows
