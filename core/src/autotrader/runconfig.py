"""The run configuration: one YAML file, every value overridable by a flag or an environment variable.

Precedence, highest first: ``--set section.key=value`` flags and the command's own flags, then
``AUTOTRADER_<KEY>`` environment variables (``AUTOTRADER_EXECUTION__MAX_RETRIES`` for nested keys),
then the file, then the defaults.  Flat keys reach the command through click's ``default_map`` (so
click itself applies flag > environment > file); nested sections (``execution``, ``risk``,
``broker_config``, ``strategy_config``) are merged here.  Every error names its dotted key.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
import yaml

from autotrader.engine import ExecutionConfig
from autotrader.errors import ConfigError
from autotrader.risk import RiskLimits

__all__ = [
    "ENV_PREFIX",
    "FLAT_KEYS",
    "SECTIONS",
    "build_execution_config",
    "check_file",
    "load_file",
    "merge_overrides",
]

ENV_PREFIX: Final = "AUTOTRADER_"
FLAT_KEYS: Final = frozenset(
    {
        "broker",
        "data",
        "symbol",
        "strategy",
        "strategy_file",
        "initial_balance",
        "commission_bps",
        "slippage_bps",
        "seed",
        "max_bars",
        "flatten",
        "journal",
        "resume",
        "metrics_port",
        "status_file",
        "report_dir",
        "live",
        "feed",
        "bar_seconds",
        "log_format",
        "log_level",
    }
)
SECTIONS: Final = frozenset({"execution", "risk", "broker_config", "feed_config", "strategy_config"})
_STRATEGY_SECTIONS: Final = frozenset({"signal_generation", "position_sizing", "risk_controls", "portfolio"})


def _did_you_mean(word: str, choices: frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_file(path: str | Path) -> dict[str, Any]:
    """Read and validate a run configuration file's shape (unknown keys are errors)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise ConfigError(str(file), "no such file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(str(file), f"malformed YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(file), f"expected a mapping of settings, got {type(data).__name__}")
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
        elif key not in FLAT_KEYS:
            raise ConfigError(str(key), f"unknown setting{_did_you_mean(str(key), FLAT_KEYS | SECTIONS)}")
    return data


def _parse_scalar(text: str) -> Any:
    """``--set`` and environment values are YAML scalars: 5, 0.5, true, null, or text."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _assign(config: dict[str, Any], dotted: str, value: Any) -> None:
    head, _, rest = dotted.partition(".")
    if not rest:
        if head not in FLAT_KEYS:
            raise ConfigError(head, f"unknown setting{_did_you_mean(head, FLAT_KEYS | SECTIONS)}")
        config[head] = value
        return
    if head not in SECTIONS:
        raise ConfigError(dotted, f"{head!r} is not a section{_did_you_mean(head, SECTIONS)}")
    node = config.setdefault(head, {})
    *parents, leaf = rest.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def merge_overrides(
    config: Mapping[str, Any], sets: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``config`` with nested environment variables and ``--set`` flags applied (flags win)."""
    merged: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}
    env = os.environ if environ is None else environ
    for name, text in sorted(env.items()):
        if name.startswith(ENV_PREFIX) and "__" in name:
            dotted = name.removeprefix(ENV_PREFIX).lower().replace("__", ".")
            _assign(merged, dotted, _parse_scalar(text))
    for item in sets:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(item, "--set takes key=value (for example execution.max_retries=5)")
        _assign(merged, key.strip(), _parse_scalar(text.strip()))
    return merged


def _build(cls: type[Any], section: str, values: Mapping[str, Any]) -> Any:
    known = {a.name for a in attrs.fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"{section}.{key}", f"unknown setting{_did_you_mean(key, frozenset(known))}")
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{section}.{exc.key}", exc.problem) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(section, str(exc)) from None


def build_execution_config(config: Mapping[str, Any], **defaults: Any) -> ExecutionConfig:
    """The engine's config from the ``execution`` and ``risk`` sections (plus command defaults)."""
    execution = {**defaults, **config.get("execution", {})}
    execution["risk"] = _build(RiskLimits, "risk", config.get("risk", {}))
    return _build(ExecutionConfig, "execution", execution)  # type: ignore[no-any-return]


def check_file(path: str | Path) -> str:
    """Validate a run or strategy configuration file completely; returns what it is."""
    data = load_file(path) if not _looks_like_strategy(path) else None
    if data is None:
        from autotrader.strategy import StrategyConfig

        StrategyConfig.from_yaml(path)
        return "strategy configuration"
    build_execution_config(data)
    if "strategy_config" in data:
        from autotrader.strategy import StrategyConfig

        StrategyConfig.from_dict(data["strategy_config"])
    return "run configuration"


def _looks_like_strategy(path: str | Path) -> bool:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and bool(data) and set(data) <= _STRATEGY_SECTIONS
