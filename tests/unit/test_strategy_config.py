"""StrategyConfig: the seed's YAML loads, defaults fill gaps, and every bad file names its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from autotrader.errors import ConfigError
from autotrader.strategy import StrategyConfig
from autotrader.strategy.config import DEFAULT_CONFIG

pytestmark = pytest.mark.timeout(60)

SEED_YAML = """\
# config/strategy.yaml
signal_generation:
  probability_threshold: 0.55
  expected_value_threshold: 0.0
  min_conviction: 0.6

position_sizing:
  method: "volatility_scaled"
  base_size_pct: 0.02
  max_size_pct: 0.05
  use_kelly: true

risk_controls:
  daily_loss_limit_pct: 0.03
  max_trades_per_day: 50
  max_position_size_pct: 0.10
  drawdown_halt_pct: 0.15

portfolio:
  max_concurrent_positions: 5
  max_sector_exposure: 0.30
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_yaml_loads_with_exact_values(tmp_path: Path) -> None:
    config = StrategyConfig.from_yaml(write(tmp_path, SEED_YAML))
    assert config.signal_generation.probability_threshold == 0.55
    assert config.position_sizing.method == "volatility_scaled"
    assert config.position_sizing.base_size_pct == Decimal("0.02")
    assert config.position_sizing.use_kelly is True
    assert config.risk_controls.max_position_size_pct == Decimal("0.10")
    assert config.risk_controls.max_trades_per_day == 50
    assert config.portfolio.max_sector_exposure == Decimal("0.30")
    assert config == StrategyConfig()


def test_shipped_reference_file_equals_the_defaults() -> None:
    assert DEFAULT_CONFIG.is_file()
    assert StrategyConfig.default() == StrategyConfig()
    assert StrategyConfig.from_yaml(str(DEFAULT_CONFIG)) == StrategyConfig()


def test_shipped_file_names_every_key() -> None:
    shipped = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert shipped == {**StrategyConfig().to_dict(), **shipped}
    for section, values in StrategyConfig().to_dict().items():
        assert set(shipped[section]) == set(values), section


@pytest.mark.parametrize("text", ["", "# nothing\n", "signal_generation:\n"])
def test_empty_file_or_section_gives_defaults(tmp_path: Path, text: str) -> None:
    assert StrategyConfig.from_yaml(write(tmp_path, text)) == StrategyConfig()


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    config = StrategyConfig.from_yaml(write(tmp_path, "position_sizing:\n  method: Kelly\n"))
    assert config.position_sizing.method == "kelly"
    assert config.position_sizing.base_size_pct == Decimal("0.02")
    assert config.risk_controls == StrategyConfig().risk_controls


def test_round_trip_through_plain_data() -> None:
    config = StrategyConfig.from_dict(
        {"portfolio": {"sectors": {"BTCUSDT": "crypto"}}, "risk_controls": {"max_trades_per_day": "7"}}
    )
    assert config.portfolio.sector_of("BTCUSDT") == "crypto"
    assert config.portfolio.sector_of("AAPL") == "AAPL"
    assert config.risk_controls.max_trades_per_day == 7
    assert StrategyConfig.from_dict(config.to_dict()) == config
    assert isinstance(hash(config), int)


def test_numbers_yaml_reads_as_text_are_accepted() -> None:
    # YAML 1.1 reads 1e-3 (no dot) as a string; people still mean a number.
    config = StrategyConfig.from_dict({"position_sizing": {"base_size_pct": "1e-3"}})
    assert config.position_sizing.base_size_pct == Decimal("0.001")


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"signal_generationn": {}}, "signal_generationn", "did you mean 'signal_generation'"),
        (
            {"position_sizing": {"base_sise_pct": 0.1}},
            "position_sizing.base_sise_pct",
            "did you mean 'base_size_pct'",
        ),
        ({"portfolio": {"zzz": 1}}, "portfolio.zzz", "expected one of"),
        ({"position_sizing": {"method": "kely"}}, "position_sizing.method", "did you mean 'kelly'"),
        ({"position_sizing": {"method": 3}}, "position_sizing.method", "expected a name"),
        ({"position_sizing": {"base_size_pct": 0}}, "position_sizing.base_size_pct", "(0, 1]"),
        ({"position_sizing": {"max_size_pct": 1.5}}, "position_sizing.max_size_pct", "(0, 1]"),
        (
            {"position_sizing": {"base_size_pct": 0.2}},
            "position_sizing.base_size_pct",
            "exceeds max_size_pct",
        ),
        ({"position_sizing": {"use_kelly": "yes"}}, "position_sizing.use_kelly", "true or false"),
        ({"position_sizing": {"payoff_ratio": 0}}, "position_sizing.payoff_ratio", "(0, inf]"),
        ({"risk_controls": {"max_trades_per_day": 2.5}}, "risk_controls.max_trades_per_day", "whole number"),
        ({"risk_controls": {"max_trades_per_day": 0}}, "risk_controls.max_trades_per_day", "[1, inf]"),
        (
            {"risk_controls": {"drawdown_halt_pct": "abc"}},
            "risk_controls.drawdown_halt_pct",
            "expected a number",
        ),
        (
            {"risk_controls": {"daily_loss_limit_pct": True}},
            "risk_controls.daily_loss_limit_pct",
            "expected a number",
        ),
        (
            {"risk_controls": {"daily_loss_limit_pct": float("nan")}},
            "risk_controls.daily_loss_limit_pct",
            "finite",
        ),
        (
            {"signal_generation": {"probability_threshold": 0.4}},
            "signal_generation.probability_threshold",
            "(0.5, 1]",
        ),
        (
            {"signal_generation": {"min_conviction": [1]}},
            "signal_generation.min_conviction",
            "expected a number",
        ),
        ({"portfolio": {"sectors": ["BTC"]}}, "portfolio.sectors", "mapping"),
        ({"portfolio": {"sectors": {"BTC": 1}}}, "portfolio.sectors.BTC", "sector name"),
        ({"risk_controls": 5}, "risk_controls", "expected a mapping"),
    ],
)
def test_bad_values_name_the_dotted_key(data: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_dict(data)
    assert caught.value.key == key
    assert fragment in caught.value.problem


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_yaml(write(tmp_path, "- 1\n- 2\n"))
    assert "expected a mapping" in caught.value.problem


def test_problems_in_several_sections_report_the_first_and_note_the_rest() -> None:
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_dict({"risk_controls": {"max_trades_per_day": 0}, "portfolio": {"bogus": 1}})
    notes = " ".join(getattr(caught.value, "__notes__", []))
    keys = ("risk_controls.max_trades_per_day", "portfolio.bogus")
    reported = {caught.value.key} | {k for k in keys if k in notes}
    assert reported == set(keys)


def test_nan_written_in_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_yaml(write(tmp_path, "risk_controls:\n  drawdown_halt_pct: .nan\n"))
    assert caught.value.key == "risk_controls.drawdown_halt_pct"
    assert "finite" in caught.value.problem


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "signal_generation:\n  probability_threshold: 0.55\n  min_conviction: [0.6\n")
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_yaml(path)
    assert caught.value.key == str(path)
    assert "malformed YAML at line" in caught.value.problem


def test_yaml_that_is_not_safe_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "!!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        StrategyConfig.from_yaml(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        StrategyConfig.from_yaml(tmp_path / "nope.yaml")
    assert caught.value.problem == "no such file"


def test_python_construction_is_validated_too() -> None:
    from autotrader.strategy import PositionSizingConfig, RiskControlsConfig

    assert PositionSizingConfig(base_size_pct=0.01).base_size_pct == Decimal("0.01")
    with pytest.raises(ConfigError) as caught:
        RiskControlsConfig(drawdown_halt_pct=-1)
    assert caught.value.key == "risk_controls.drawdown_halt_pct"
