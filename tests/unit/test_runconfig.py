"""The run configuration: file, environment and --set layering, and errors that name the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.errors import ConfigError
from autotrader.runconfig import build_execution_config, check_file, load_file, merge_overrides


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_file_sections_env_and_flags_layer_in_order(tmp_path: Path) -> None:
    data = load_file(write(tmp_path, "broker: paper\nexecution:\n  max_retries: 2\n  initial_backoff: 0.5\n"))
    env = {
        "AUTOTRADER_EXECUTION__MAX_RETRIES": "4",
        "AUTOTRADER_RISK__MAX_ORDER_NOTIONAL": "1000",
        "HOME": "/x",
    }
    merged = merge_overrides(data, ["execution.max_retries=6", "risk.price_band_pct=0.02"], env)
    config = build_execution_config(merged)
    assert config.max_retries == 6  # the flag beats the environment, which beats the file
    assert config.initial_backoff == 0.5
    assert config.risk.max_order_notional == Decimal(1000)
    assert config.risk.price_band_pct == Decimal("0.02")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("brokr: paper\n", "brokr"),
        ("execution: 5\n", "execution"),
        ("execution:\n  max_retry: 2\n", "execution.max_retry"),
        ("execution:\n  max_retries: -1\n", "execution.max_retries"),
        ("execution:\n  quantity_rounding: up\n", "execution.quantity_rounding"),
        ("risk:\n  max_open_order: 3\n", "risk.max_open_order"),
        ("- a list\n", "run.yaml"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_execution_config(load_file(write(tmp_path, text)))
    assert info.value.key.endswith(key)


def test_malformed_yaml_gives_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2, column 8: mapping values are not allowed here"):
        load_file(write(tmp_path, "broker: paper\nseed: a: b\n"))


def test_bad_set_flag() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        merge_overrides({}, ["execution.max_retries"])
    with pytest.raises(ConfigError, match="not a section"):
        merge_overrides({}, ["broker.x=1"])


def test_check_file_recognises_strategy_and_run_files(tmp_path: Path) -> None:
    from importlib.resources import files

    assert check_file(Path(str(files("autotrader") / "config" / "strategy.yaml"))) == "strategy configuration"
    run = write(tmp_path, "broker: paper\nstrategy_config:\n  position_sizing:\n    base_size_pct: 0.01\n")
    assert check_file(run) == "run configuration"
    bad = write(tmp_path, "strategy_config:\n  position_sizing:\n    base_size_pct: 3\n")
    with pytest.raises(ConfigError, match="base_size_pct"):
        check_file(bad)
