"""A string that never shows itself: API keys, secrets and tokens travel as :class:`Secret`."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = ["Secret", "load_credentials"]

_MASK: Final = "**********"


class Secret:
    """Holds a credential; ``repr``/``str``/``format`` print a mask, only :meth:`reveal` gives it.

    Equality compares the hidden values so configs can be compared, but hashing is refused so a
    secret never becomes a dict key that could be dumped.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> str:  # pickling would write the secret to disk
        raise TypeError("a Secret cannot be pickled")


def load_credentials(
    names: Sequence[str],
    *,
    env_prefix: str,
    file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Secret]:
    """Credentials by name: ``<ENV_PREFIX><NAME>`` environment variables first, then ``file``.

    The file is YAML (``name: value``) and must be readable by its owner only: a credential file
    that group or others can read is refused, with the fix in the message.
    """
    env = os.environ if environ is None else environ
    found: dict[str, Secret] = {}
    for name in names:
        value = env.get(f"{env_prefix}{name.upper()}")
        if value:
            found[name] = Secret(value)
    missing = [n for n in names if n not in found]
    if missing and file is not None:
        for name, value in _read_private_file(Path(file)).items():
            if name in missing and value:
                found[name] = Secret(str(value))
    return found


def _read_private_file(path: Path) -> dict[str, Any]:
    from autotrader.errors import ConfigError

    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigError(str(path), "no such credentials file") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            str(path),
            f"credentials file is accessible to group or others (mode {mode:04o}); run: chmod 600 {path}",
        )
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), "expected a mapping of credential names to values")
    return data
