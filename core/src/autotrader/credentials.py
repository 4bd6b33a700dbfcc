"""A string that never shows itself: API keys, secrets and tokens travel as :class:`Secret`."""

from __future__ import annotations

from typing import Final

__all__ = ["Secret"]

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
