"""The reference strategy's configuration: the seed's ``config/strategy.yaml``, checked.

Every key has a default (the seed's example values, also shipped as
``autotrader/config/strategy.yaml``), so a file only says what it changes.  A bad file fails
at load time with :class:`ConfigError` naming the dotted key and what is wrong with it: an unknown
key (with a did-you-mean), a wrong type, a value out of range, or malformed YAML (with its line).

cattrs does the structuring (nested sections, unknown keys refused); the attrs validators in
:mod:`autotrader.strategy.config_fields` do the judging.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs
import cattrs
import yaml
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn

from autotrader.errors import ConfigError
from autotrader.strategy.config_fields import (
    choice_of,
    decimal_in,
    did_you_mean,
    flag,
    float_in,
    is_bool,
    name_text,
    number_decimal,
    number_float,
    sector_map,
    valid_sector_map,
    whole_in,
    whole_number,
)

__all__ = [
    "DEFAULT_CONFIG",
    "SIZING_METHODS",
    "PortfolioConfig",
    "PositionSizingConfig",
    "RiskControlsConfig",
    "SignalGenerationConfig",
    "StrategyConfig",
]

SIZING_METHODS: Final = ("fixed", "volatility_scaled", "kelly")

_PCT: Final = decimal_in(0, 1, low_open=True)
"""A fraction of equity: (0, 1]."""


@attrs.frozen
class SignalGenerationConfig:
    """When a signal is strong enough to act on.

    LONG needs ``probability >= probability_threshold`` and ``expected_value >= expected_value_threshold``;
    SHORT is the mirror image (``probability <= 1 - threshold``, ``expected_value <= -threshold``).
    Conviction is the probability of the chosen direction unless the data supplies ``conviction``.
    """

    SECTION: ClassVar[str] = "signal_generation"

    probability_threshold: float = attrs.field(
        default=0.55, converter=number_float, validator=float_in(0.5, 1, low_open=True)
    )
    expected_value_threshold: float = attrs.field(default=0.0, converter=number_float, validator=float_in(0))
    min_conviction: float = attrs.field(default=0.6, converter=number_float, validator=float_in(0, 1))


@attrs.frozen
class PositionSizingConfig:
    """How much of equity one new position takes.

    ``fixed``: ``base_size_pct``.  ``volatility_scaled``: ``base_size_pct * target_volatility /
    volatility`` (per bar, as the data's ``volatility``).  ``kelly``: ``kelly_fraction`` of the
    Kelly bet for the signal's probability and ``payoff_ratio``.  ``use_kelly`` caps the other
    methods by that fractional Kelly bet (no edge, no trade).  Always at most ``max_size_pct``.
    """

    SECTION: ClassVar[str] = "position_sizing"

    method: str = attrs.field(
        default="volatility_scaled", converter=name_text, validator=choice_of(SIZING_METHODS)
    )
    base_size_pct: Decimal = attrs.field(default=Decimal("0.02"), converter=number_decimal, validator=_PCT)
    max_size_pct: Decimal = attrs.field(default=Decimal("0.05"), converter=number_decimal, validator=_PCT)
    use_kelly: bool = attrs.field(default=True, converter=flag, validator=is_bool)
    kelly_fraction: Decimal = attrs.field(default=Decimal("0.25"), converter=number_decimal, validator=_PCT)
    payoff_ratio: float = attrs.field(
        default=1.0, converter=number_float, validator=float_in(0, low_open=True)
    )
    target_volatility: float = attrs.field(
        default=0.01, converter=number_float, validator=float_in(0, low_open=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.base_size_pct > self.max_size_pct:
            raise ConfigError(
                f"{self.SECTION}.base_size_pct",
                f"{self.base_size_pct} exceeds max_size_pct {self.max_size_pct}",
            )


@attrs.frozen
class RiskControlsConfig:
    """Limits that move the strategy to COOLDOWN (for the day) or HALTED (until reset)."""

    SECTION: ClassVar[str] = "risk_controls"

    daily_loss_limit_pct: Decimal = attrs.field(
        default=Decimal("0.03"), converter=number_decimal, validator=_PCT
    )
    max_trades_per_day: int = attrs.field(default=50, converter=whole_number, validator=whole_in(1))
    max_position_size_pct: Decimal = attrs.field(
        default=Decimal("0.10"), converter=number_decimal, validator=_PCT
    )
    drawdown_halt_pct: Decimal = attrs.field(
        default=Decimal("0.15"), converter=number_decimal, validator=_PCT
    )


@attrs.frozen
class PortfolioConfig:
    """Across symbols: how many positions at once and how much of equity one sector may hold.

    ``sectors`` maps symbol to sector; a symbol it does not name is a sector of its own.
    """

    SECTION: ClassVar[str] = "portfolio"

    max_concurrent_positions: int = attrs.field(default=5, converter=whole_number, validator=whole_in(1))
    max_sector_exposure: Decimal = attrs.field(
        default=Decimal("0.30"), converter=number_decimal, validator=_PCT
    )
    sectors: Mapping[str, str] = attrs.field(
        factory=dict, converter=sector_map, validator=valid_sector_map, hash=False
    )

    def sector_of(self, symbol: str) -> str:
        return self.sectors.get(symbol, symbol)


@attrs.frozen
class StrategyConfig:
    """The whole configuration: four sections, each defaulting to the seed's example values."""

    SECTION: ClassVar[str] = ""

    signal_generation: SignalGenerationConfig = attrs.field(factory=SignalGenerationConfig)
    position_sizing: PositionSizingConfig = attrs.field(factory=PositionSizingConfig)
    risk_controls: RiskControlsConfig = attrs.field(factory=RiskControlsConfig)
    portfolio: PortfolioConfig = attrs.field(factory=PortfolioConfig)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> StrategyConfig:
        """Build from plain data (as YAML or JSON gives it); raise :class:`ConfigError` on a bad key."""
        try:
            config: StrategyConfig = _converter.structure({} if data is None else data, cls)
        except ClassValidationError as group:
            raise _first_error(group) from None
        return config

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str] | Traversable) -> StrategyConfig:
        """Load a YAML file (``yaml.safe_load``); an empty file gives the defaults."""
        source = Path(path) if isinstance(path, (str, os.PathLike)) else path
        where = str(path)
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(where, "no such file") from None
        except OSError as exc:
            raise ConfigError(where, f"cannot be read: {exc.strerror or exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(where, _yaml_problem(exc)) from None
        return cls.from_dict(data)

    @classmethod
    def default(cls) -> StrategyConfig:
        """The shipped reference file, ``autotrader/config/strategy.yaml``."""
        return cls.from_yaml(DEFAULT_CONFIG)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` reads back (decimals as strings)."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data


DEFAULT_CONFIG: Final[Traversable] = resources.files("autotrader") / "config" / "strategy.yaml"


# --------------------------------------------------------------------------- structuring


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, prefer_attrib_converters=True)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook(MappingProxyType, dict)

    def section_hook(cl: type[Any]) -> Any:
        structure = make_dict_structure_fn(
            cl, conv, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
        )

        def structure_section(value: Any, _type: Any) -> Any:
            if value is None:
                value = {}
            if not isinstance(value, Mapping):
                key = cl.SECTION or "<top level>"
                raise ConfigError(key, f"expected a mapping, got {type(value).__name__} {value!r}")
            return structure(value, cl)

        return structure_section

    conv.register_structure_hook_factory(attrs.has, section_hook)
    return conv


_converter: Final = _make_converter()


def _errors(group: BaseException, path: tuple[str, ...] = ()) -> list[ConfigError]:
    """Every problem in a cattrs error tree as a ConfigError with its dotted key."""
    if isinstance(group, ConfigError):
        return [ConfigError(group.key, group.problem)]
    if isinstance(group, ForbiddenExtraKeysError):
        section: str = getattr(group.cl, "SECTION", "")
        known = [f.name for f in attrs.fields(group.cl)]
        return [
            ConfigError(f"{section}.{key}" if section else key, f"unknown key{did_you_mean(key, known)}")
            for key in sorted(group.extra_fields)
        ]
    if isinstance(group, ClassValidationError):
        found: list[ConfigError] = []
        for sub in group.exceptions:
            names = tuple(getattr(note, "name", "") for note in getattr(sub, "__notes__", ()))
            found.extend(_errors(sub, path + tuple(n for n in names if n)))
        return found
    return [ConfigError(".".join(path) or "<top level>", str(group))]


def _first_error(group: ClassValidationError) -> ConfigError:
    errors = _errors(group)
    first = errors[0]
    for other in errors[1:]:
        first.add_note(f"also: {other}")
    return first


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"malformed YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"malformed YAML: {problem}"
