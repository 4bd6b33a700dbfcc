"""Plugin discovery: one pluggy PluginManager per engine, brokers from entry points.

Entry points of the group ``autotrader`` are loaded one by one so that a plugin that fails to
import is reported and the others still load (pluggy's own loader stops at the first failure).
``AUTOTRADER_PLUGINS`` (comma separated entry-point names) allow-lists what loads.
"""

from __future__ import annotations

import importlib.metadata
import logging
import operator
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from autotrader import hookspecs
from autotrader.capabilities import Capabilities
from autotrader.errors import PluginError

if TYPE_CHECKING:
    from autotrader.adapter import BrokerAdapter
    from autotrader.testing.harness import ExternalVenueHarness, VenueHarness

__all__ = [
    "ALLOW_ENV",
    "ENTRY_POINT_GROUP",
    "BrokerRegistry",
    "BrokerSpec",
    "DirectHook",
    "LoadReport",
    "live_hook",
    "make_plugin_manager",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "autotrader"
ALLOW_ENV = "AUTOTRADER_PLUGINS"


@attrs.frozen
class BrokerSpec:
    """What a broker plugin contributes (returned by its ``autotrader_broker`` hook)."""

    name: str
    factory: Callable[..., BrokerAdapter]
    """Builds an adapter; called with the broker's config (keyword arguments or ``config=``)."""
    capabilities: Capabilities
    version: str
    config_class: type[Any] | None = None
    harness: VenueHarness | None = None
    """Zero-argument factory of the plugin's conformance VenueHarness."""
    description: str = ""
    external_venue: ExternalVenueHarness | None = None
    """Zero-argument factory of the plugin's local venue for an engine in another process (the
    crash test); see :class:`~autotrader.testing.harness.ExternalVenue`."""


@attrs.frozen
class LoadReport:
    loaded: tuple[str, ...]
    failed: dict[str, str]
    skipped: tuple[str, ...]


def _allowed(env: str | None) -> frozenset[str] | None:
    if not env:
        return None
    return frozenset(name.strip() for name in env.split(",") if name.strip())


def make_plugin_manager(
    *,
    load_entry_points: bool = True,
    plugins: Iterable[object] = (),
    allow: Iterable[str] | None = None,
) -> tuple[pluggy.PluginManager, LoadReport]:
    """A fresh manager with the hookspecs, ``plugins`` registered and entry points loaded."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    loaded: list[str] = []
    failed: dict[str, str] = {}
    skipped: list[str] = []
    if load_entry_points:
        allowed = frozenset(allow) if allow is not None else _allowed(os.environ.get(ALLOW_ENV))
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                skipped.append(ep.name)
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
            except Exception as exc:  # a broken plugin must not take the others down
                failed[ep.name] = f"{type(exc).__name__}: {exc}"
                log.error("autotrader plugin %r failed to load: %s", ep.name, failed[ep.name])
                continue
            loaded.append(ep.name)
    pm.check_pending()
    return pm, LoadReport(tuple(loaded), failed, tuple(skipped))


def live_hook(relay: Any, name: str) -> DirectHook | None:
    """A caller for hook ``name`` if any plugin implements it, else ``None``.

    The order path asks this once, when the engine is built (plugins register before that),
    instead of paying pluggy's dispatch for hooks nobody listens to on every event.  The caller
    it returns is a :class:`DirectHook`.
    """
    if relay is None:
        return None
    caller = getattr(relay, name)
    return DirectHook(caller) if caller.get_hookimpls() else None


def _picker(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """What picks ``keys`` (names out of the call's keywords, or positions) as a tuple.

    An ``itemgetter`` for two or more keys (C, where a list comprehension per call is a Python
    frame of its own: one per order for the risk checks, several with the journal on).
    """
    if len(keys) >= 2:
        return operator.itemgetter(*keys)
    if keys:
        key = keys[0]
        return lambda source: (source[key],)
    return lambda source: ()


_Pick = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def _positions(argnames: Sequence[str], spec: Sequence[str]) -> _Pick | None:
    """What picks an implementation's arguments out of the spec-ordered ones (``None``: all)."""
    if tuple(argnames) == tuple(spec):
        return None
    return _picker([spec.index(name) for name in argnames])


class DirectHook:
    """Calls a hook's plain implementations directly, with pluggy's order and result.

    When every implementation is a plain function (no wrapper, no keyword-only arguments, and
    the hook is neither firstresult nor historic), they are called in pluggy's order -- last
    registered first, ``tryfirst``/``trylast`` honoured -- and the non-``None`` results are
    returned as a list, as pluggy does: the same answer without ``_multicall``'s per-call
    set-up, which cost more than the journal's and the risk checks' own bodies on the order
    path.  Otherwise pluggy's caller is used.  A plugin registered or unregistered later is
    noticed on the next call (the implementations are compared on every call).

    :meth:`call` takes the arguments by position, in the hookspec's order: the order path's
    calls, which then build no keyword dict and pick nothing out of one for an implementation
    that takes every argument in that order (callgrind: 6.2k -> 2.5k instructions around the risk
    hook, once per order; the journal's hooks, four or five times).  A call by keyword picks
    the spec's arguments out of its keywords and takes the same path.
    """

    __slots__ = ("_argnames", "_caller", "_impls", "_live", "_positional", "_spec_arguments")

    def __init__(self, caller: Any) -> None:
        self._caller = caller
        self._argnames: tuple[str, ...] = tuple(caller.spec.argnames) if caller.spec is not None else ()
        # pluggy keeps a hook's implementations in one list that registering changes in place:
        # compared with our copy on each call, without copying it (get_hookimpls() copies).
        live = getattr(caller, "_hookimpls", None)
        self._live: list[Any] | None = live if isinstance(live, list) else None
        self._spec_arguments = _picker(self._argnames)
        self._impls: list[Any] = []
        self._positional: tuple[tuple[Callable[..., Any], _Pick | None], ...] | None = None
        self._refresh(caller.get_hookimpls())

    def _refresh(self, impls: list[Any]) -> None:
        self._impls = list(impls)
        opts = self._caller.spec.opts if self._caller.spec is not None else {}
        plain = self._caller.spec is not None and not (
            opts.get("firstresult")
            or opts.get("historic")
            or any(i.hookwrapper or i.wrapper or i.kwargnames for i in impls)
        )
        self._positional = (
            tuple((i.function, _positions(i.argnames, self._argnames)) for i in reversed(impls))
            if plain
            else None
        )

    def __call__(self, **kwargs: Any) -> Any:
        try:
            args = self._spec_arguments(kwargs)
        except KeyError:  # an argument left out: pluggy's own handling (and its warning)
            return self._caller(**kwargs)
        return self.call(*args)

    def only(self) -> Callable[..., Any] | None:
        """The function of the hook's single implementation, if it has exactly one and it is
        plain; else ``None``.  For a caller that can do what that very function does by a
        shorter way (the engine's built-in risk checks), and must notice any other plugin."""
        impls = self._live if self._live is not None else self._caller.get_hookimpls()
        if impls != self._impls:
            self._refresh(impls)
        positional = self._positional
        return positional[0][0] if positional is not None and len(positional) == 1 else None

    def call(self, *args: Any) -> Any:
        """The hook with ``args`` by position, in the order of the hookspec's arguments."""
        impls = self._live if self._live is not None else self._caller.get_hookimpls()
        if impls != self._impls:
            self._refresh(impls)
        if self._positional is None:
            return self._caller(**dict(zip(self._argnames, args, strict=True)))
        results = []
        for function, pick in self._positional:
            result = function(*args) if pick is None else function(*pick(args))
            if result is not None:
                results.append(result)
        return results


class BrokerRegistry:
    """The brokers the plugin manager's ``autotrader_broker`` hooks provide, by name."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        specs: dict[str, BrokerSpec] = {}
        for spec in pm.hook.autotrader_broker():
            if not isinstance(spec, BrokerSpec):
                raise PluginError(f"autotrader_broker returned {spec!r}, not a BrokerSpec")
            if spec.name in specs:
                raise PluginError(f"two plugins provide the broker {spec.name!r}")
            specs[spec.name] = spec
        self._specs = dict(sorted(specs.items()))

    @classmethod
    def discover(cls, **kwargs: Any) -> BrokerRegistry:
        pm, _ = make_plugin_manager(**kwargs)
        return cls(pm)

    def names(self) -> list[str]:
        return list(self._specs)

    def specs(self) -> list[BrokerSpec]:
        return list(self._specs.values())

    def get(self, name: str) -> BrokerSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self._specs) or "none"
            raise PluginError(
                f"no broker named {name!r} is installed (installed: {known}); pip install autotrader-{name}"
            ) from None

    def create(self, name: str, **config: Any) -> BrokerAdapter:
        return self.get(name).factory(**config)
