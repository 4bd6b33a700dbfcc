"""Building frozen attrs value objects on the order path at the cost of a plain slotted object.

An attrs frozen class cannot assign its own fields: its ``__init__`` sets each one through
``object.__setattr__``, a method-wrapper call that builds an argument tuple and checks the
type every time.  For the value objects the order path builds for every order (``Order``
snapshots, ``OrderUpdate``, ``Fill``, ``Position``, ``RiskContext``) that is about 1 300
instructions a field (callgrind; an ``Order`` snapshot, 17 fields: 22 400 instructions), more
than the order path spends on any other single thing.

:func:`positional_constructor` returns a function that fills a *twin* of the class -- a plain
class with the very same slots, whose fields are ordinary (specialised) slot stores -- and then
turns it into an instance of the frozen class by ``__class__`` assignment, which CPython allows
between two classes of identical layout.  The result is indistinguishable from
``cls(*values)``: same type, same fields, equal, same hash, frozen from then on.  It is only
offered for classes whose ``__init__`` does nothing else (no converter, validator, alias or
``__attrs_post_init__``; defaults do not apply, every field is given): those are checked when
the constructor is made, so a field that gains a validator later fails loudly at import
instead of being skipped.

The classes must be built with ``weakref_slot=False``: CPython accepts the ``__class__``
assignment only when every slot sits right after the base object, and a ``__weakref__`` slot
sits after the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["positional_constructor"]

T = TypeVar("T")


def positional_constructor(cls: type[T]) -> Callable[..., T]:
    """``make(*values)`` building ``cls(*values)`` (every field, in order) without ``__init__``.

    Raises :class:`TypeError` for a class it cannot build faithfully.
    """
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__} is not a slotted attrs class")
    if cls.__weakrefoffset__:
        raise TypeError(f"{cls.__qualname__} has a __weakref__ slot: build it with weakref_slot=False")
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        raise TypeError(f"{cls.__qualname__} runs code on init; use its constructor")
    fields = attrs.fields(cls)
    for field in fields:
        if field.converter is not None or field.validator is not None or not field.init:
            raise TypeError(f"{cls.__qualname__}.{field.name} converts or validates; use the constructor")
        if field.alias != field.name:
            raise TypeError(f"{cls.__qualname__}.{field.name} has an alias; use the constructor")
    if cls.__mro__[1:] != (object,):
        raise TypeError(f"{cls.__qualname__} has a base class; its layout may differ")
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": cls.__dict__["__slots__"]})
    names = [field.name for field in fields]
    # The parameters are positional-only and renamed (_0, _1, ...) so that no field name can
    # shadow the function's own locals.
    params = ", ".join(f"_{i}" for i in range(len(names)))
    body = "".join(f"    _o.{name} = _{i}\n" for i, name in enumerate(names))
    source = f"def make({params}, /):\n    _o = _new(_twin)\n{body}    _o.__class__ = _cls\n    return _o\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    # Generated as attrs generates __init__: the source holds only the class's field names.
    exec(compile(source, f"<positional constructor of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    make: Callable[..., T] = namespace["make"]
    make.__doc__ = f"{cls.__qualname__}(*values) without its __init__ (see autotrader.frozen)."
    probe = make(*[None] * len(names))
    if type(probe) is not cls:  # pragma: no cover - CPython refused the layout
        raise TypeError(f"{cls.__qualname__}: the twin class did not become {cls.__qualname__}")
    return make
