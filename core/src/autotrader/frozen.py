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
offered for classes whose ``__init__`` does nothing it cannot do too: plain converters are
applied and ``__attrs_post_init__`` runs; a validator, an alias, a converter that takes the
instance or a pre-init hook are refused when the constructor is made, so a field that gains a
validator later fails loudly at import instead of being skipped.  Defaults do not apply:
every field is given.

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


def positional_constructor(cls: type[T], *, convert: bool = True) -> Callable[..., T]:
    """``make(*values)`` building ``cls(*values)`` (every field, in order) without ``__init__``.

    ``convert=False`` leaves out the fields' converters, for a caller whose values are already
    what the converters return (the engine's request quantities and prices are Decimals from
    :func:`~autotrader.model.decimal_from_user`): the converters would hand them back as they
    are, at a call each.  ``__attrs_post_init__`` still runs.

    Raises :class:`TypeError` for a class it cannot build faithfully.
    """
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__} is not a slotted attrs class")
    if cls.__weakrefoffset__:
        raise TypeError(f"{cls.__qualname__} has a __weakref__ slot: build it with weakref_slot=False")
    if hasattr(cls, "__attrs_pre_init__"):
        raise TypeError(f"{cls.__qualname__} runs code before init; use its constructor")
    fields = attrs.fields(cls)
    converters: dict[str, Any] = {}
    for i, field in enumerate(fields):
        if field.validator is not None or not field.init:
            raise TypeError(f"{cls.__qualname__}.{field.name} is validated; use the constructor")
        if isinstance(field.converter, attrs.Converter):
            raise TypeError(
                f"{cls.__qualname__}.{field.name} converts with the instance; use the constructor"
            )
        if field.converter is not None and convert:
            converters[f"_c{i}"] = field.converter
        if field.alias != field.name:
            raise TypeError(f"{cls.__qualname__}.{field.name} has an alias; use the constructor")
    if cls.__mro__[1:] != (object,):
        raise TypeError(f"{cls.__qualname__} has a base class; its layout may differ")
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": cls.__dict__["__slots__"]})
    names = [field.name for field in fields]
    # The parameters are positional-only and renamed (_0, _1, ...) so that no field name can
    # shadow the function's own locals.
    params = ", ".join(f"_{i}" for i in range(len(names)))
    body = "".join(
        f"    _o.{name} = _c{i}(_{i})\n" if f"_c{i}" in converters else f"    _o.{name} = _{i}\n"
        for i, name in enumerate(names)
    )
    # __attrs_post_init__ runs on the finished, frozen object, as attrs runs it at the end of
    # __init__ (it may check the fields together; it cannot change them).
    post_init = "    _o.__attrs_post_init__()\n" if hasattr(cls, "__attrs_post_init__") else ""
    source = (
        f"def make({params}, /):\n    _o = _new(_twin)\n{body}    _o.__class__ = _cls\n"
        f"{post_init}    return _o\n"
    )
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls, **converters}
    # Generated as attrs generates __init__: the source holds only the class's field names.
    exec(compile(source, f"<positional constructor of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    make: Callable[..., T] = namespace["make"]
    make.__doc__ = f"{cls.__qualname__}(*values) without its __init__ (see autotrader.frozen)."
    probe: Any = object.__new__(twin)
    try:
        probe.__class__ = cls
    except TypeError as exc:  # pragma: no cover - a layout CPython refuses
        raise TypeError(f"{cls.__qualname__}: {exc}") from None
    return make
