"""Plugin discovery: entry points, isolation of broken plugins, the allow-list, check_pending."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from typing import Any

import pluggy
import pytest

from autotrader.adapter import Capabilities
from autotrader.errors import PluginError
from autotrader.hookspecs import hookimpl
from autotrader.plugins import (
    ALLOW_ENV,
    BrokerRegistry,
    BrokerSpec,
    DirectHook,
    live_hook,
    make_plugin_manager,
)

from .scripted import ScriptedAdapter


def _module(name: str, broker: str) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def autotrader_broker() -> BrokerSpec:
        return BrokerSpec(broker, ScriptedAdapter, Capabilities(), "1.0")

    module.autotrader_broker = autotrader_broker  # type: ignore[attr-defined]
    return module


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.modules["good_plugin"] = _module("good_plugin", "good")
    sys.modules["other_plugin"] = _module("other_plugin", "other")
    points = [
        importlib.metadata.EntryPoint("good", "good_plugin", "autotrader"),
        importlib.metadata.EntryPoint("broken", "no_such_module_anywhere", "autotrader"),
        importlib.metadata.EntryPoint("other", "other_plugin", "autotrader"),
    ]

    def entry_points(**kw: Any) -> list[importlib.metadata.EntryPoint]:
        return points if kw.get("group") == "autotrader" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.delenv(ALLOW_ENV, raising=False)


@pytest.mark.usefixtures("fake_entry_points")
def test_broken_plugin_is_reported_and_others_load() -> None:
    pm, report = make_plugin_manager()
    assert report.loaded == ("good", "other")
    assert "ModuleNotFoundError" in report.failed["broken"]
    assert BrokerRegistry(pm).names() == ["good", "other"]


@pytest.mark.usefixtures("fake_entry_points")
def test_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "other")
    pm, report = make_plugin_manager()
    assert report.loaded == ("other",) and set(report.skipped) == {"good", "broken"}
    assert BrokerRegistry(pm).names() == ["other"]


def test_each_manager_is_separate() -> None:
    a, _ = make_plugin_manager(load_entry_points=False, plugins=[_module("a", "a")])
    b, _ = make_plugin_manager(load_entry_points=False)
    assert BrokerRegistry(a).names() == ["a"] and BrokerRegistry(b).names() == []


def test_misspelled_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def autotrader_pretrade_chek(self, request: Any, context: Any) -> None:
            return None

    with pytest.raises(pluggy.PluginValidationError):
        make_plugin_manager(load_entry_points=False, plugins=[Typo()])


def test_unknown_broker_names_the_installed_ones() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False, plugins=[_module("a", "alpha")])
    with pytest.raises(PluginError, match="installed: alpha"):
        BrokerRegistry(pm).get("beta")


def test_duplicate_broker_names_refused() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False, plugins=[_module("a", "same"), _module("b", "same")])
    with pytest.raises(PluginError, match="two plugins"):
        BrokerRegistry(pm)


def test_capability_names() -> None:
    from autotrader.errors import UnknownCapability

    caps = Capabilities(modify=True)
    assert caps.has("modify") and caps.has("order_type:LIMIT") and not caps.has("order_type:STOP")
    assert caps.has("backend:trio")
    for bad in ("teleport", "order_type:ICEBERG", "time_in_force:GTD", "backend:curio", "colour:red"):
        with pytest.raises(UnknownCapability):
            caps.has(bad)


class _Decision:
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name = name
        self.seen = seen

    @hookimpl
    def autotrader_decision(self, decision: Any, order: Any) -> str:
        self.seen.append(self.name)
        return f"{self.name}:{decision}"


class _First(_Decision):
    @hookimpl(tryfirst=True)
    def autotrader_decision(self, decision: Any, order: Any) -> str:
        return super().autotrader_decision(decision, order)


class _Partial:
    @hookimpl
    def autotrader_decision(self, decision: Any) -> None:  # fewer arguments than the spec
        return None


class _NoArguments:
    @hookimpl
    def autotrader_decision(self) -> str:  # none of the spec's arguments
        return "none"


def test_direct_hook_answers_as_pluggy_does() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False)
    seen: list[str] = []
    for plugin in (
        _Decision("a", seen),
        _First("first", seen),
        _Decision("b", seen),
        _Partial(),
        _NoArguments(),
    ):
        pm.register(plugin)
    direct = live_hook(pm.hook, "autotrader_decision")
    assert isinstance(direct, DirectHook)
    assert direct(decision="d", order=None) == pm.hook.autotrader_decision(decision="d", order=None)
    assert direct.call("d", None) == pm.hook.autotrader_decision(decision="d", order=None)
    assert seen == ["first", "b", "a"] * 4


class _Reversed:
    @hookimpl
    def autotrader_decision(self, order: Any, decision: Any) -> str:  # the spec's arguments, swapped
        return f"{decision}/{order}"


class _OrderOnly:
    @hookimpl
    def autotrader_decision(self, order: Any) -> str:
        return f"order {order}"


def test_direct_hook_by_position_gives_each_implementation_its_own_arguments() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False)
    for plugin in (_Reversed(), _OrderOnly(), _NoArguments(), _Partial()):
        pm.register(plugin)
    direct = DirectHook(pm.hook.autotrader_decision)
    expected = pm.hook.autotrader_decision(decision="d", order="o")
    assert expected == ["none", "order o", "d/o"]  # last registered first; None left out
    assert direct.call("d", "o") == expected


def test_direct_hook_sees_later_plugins_and_wrappers() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False)
    assert live_hook(pm.hook, "autotrader_decision") is None
    seen: list[str] = []
    pm.register(_Decision("a", seen))
    direct = DirectHook(pm.hook.autotrader_decision)
    late = _Decision("late", seen)
    pm.register(late)
    assert direct(decision=1, order=None) == ["late:1", "a:1"]

    class Wrapper:
        @hookimpl(wrapper=True)
        def autotrader_decision(self, decision: Any, order: Any) -> Any:
            results = yield
            return [*results, "wrapped"]

    pm.register(Wrapper())
    assert direct(decision=2, order=None) == ["late:2", "a:2", "wrapped"]
    assert direct.call(2, None) == ["late:2", "a:2", "wrapped"]
    pm.unregister(late)
    assert direct(decision=3, order=None) == ["a:3", "wrapped"]
    assert direct.call(3, None) == ["a:3", "wrapped"]
    pm.unregister(next(p for p in pm.get_plugins() if isinstance(p, Wrapper)))
    assert direct.call(4, None) == ["a:4"]


def test_discovery_imports_no_client_library() -> None:
    """`autotrader brokers` stays fast: entry points import their client library only when used."""
    import subprocess

    code = (
        "import sys\n"
        "from autotrader.plugins import BrokerRegistry\n"
        "names = BrokerRegistry.discover().names()\n"
        "libraries = ('oandapyV20', 'binance', 'ib_async', 'ib_insync', 'eventkit', 'aiohttp', 'requests')\n"
        "print(names, [m for m in libraries if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names, loaded = out.rsplit("] [", 1)
    assert "paper" in names
    assert loaded.strip() == "]", f"discovery imported {loaded.strip()[:-1]}"


def test_an_absent_capability_can_say_why() -> None:
    from autotrader.errors import UnknownCapability

    caps = Capabilities(absent_reasons={"time_in_force:DAY": "the venue has no trading day"})
    assert caps.reason_absent("time_in_force:DAY") == "the venue has no trading day"
    assert caps.reason_absent("short_selling") == ""
    with pytest.raises(ValueError, match="is present"):
        Capabilities(absent_reasons={"order_type:LIMIT": "but it is there"})
    with pytest.raises(UnknownCapability):
        Capabilities(absent_reasons={"teleport": "no"})


def test_direct_hook_by_keyword_leaves_a_missing_argument_to_pluggy() -> None:
    pm, _ = make_plugin_manager(load_entry_points=False)
    pm.register(_Partial())
    pm.register(_NoArguments())
    direct = DirectHook(pm.hook.autotrader_decision)
    with pytest.warns(Warning, match="order"):
        expected = pm.hook.autotrader_decision(decision="d")
    with pytest.warns(Warning, match="order"):
        assert direct(decision="d") == expected == ["none"]
