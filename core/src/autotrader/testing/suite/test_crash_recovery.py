"""kill -9 at any moment loses nothing: the broker's engine is killed and resumed against its venue.

It runs for a plugin that offers ``BrokerSpec.external_venue`` (and is skipped, saying so, for
one that does not).  The plugin's venue runs in this process
(:func:`autotrader.testing.external.venue_thread`; for the paper broker, its state file).  The
engine runs in a subprocess (:mod:`autotrader.testing.crash_worker`), built through the
plugin's own factory, and is SIGKILLed at seeded points: right after an order's intent is
journaled (before the send), right after the venue accepted an order (before the ack), after
the k-th OMS event, and at a random time.  Between runs the price may move 2% across the resting
orders (which the worker places 1% away from the market), so some fill while no engine is
alive.  After each kill the worker is restarted with resume, until a run completes.  Then:

* the venue holds exactly the orders the strategy decided, each once;
* every venue trade is in the OMS exactly once, and the OMS has no other;
* the OMS positions equal the net of the venue's trades, and each order's filled quantity and
  status equal the venue's.

Sizing (default: 10 orders, 8 kill plans, 1-3 kills each): set ``AUTOTRADER_CRASH_PLANS``,
``AUTOTRADER_CRASH_ORDERS`` and ``AUTOTRADER_CRASH_SEED`` for a longer run, e.g.
``AUTOTRADER_CRASH_PLANS=50 AUTOTRADER_CRASH_ORDERS=20 autotrader conformance mybroker``.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from autotrader.model import OrderStatus
from autotrader.plugins import BrokerSpec
from autotrader.testing.external import VenueThread, venue_thread
from autotrader.testing.support import net_positions

ORDERS = int(os.environ.get("AUTOTRADER_CRASH_ORDERS", "10"))
PLANS = int(os.environ.get("AUTOTRADER_CRASH_PLANS", "8"))
SEED = int(os.environ.get("AUTOTRADER_CRASH_SEED", "20261124"))
WORKER = "autotrader.testing.crash_worker"
"""The engine process's module (``python -m``): what the installed package ships."""
PRICE_MOVES = (Decimal("-0.02"), Decimal(0), Decimal("0.02"))
"""Between runs: down through the resting buys, nothing, up through the resting sells."""


@attrs.frozen
class KillPlan:
    """The kills of one crash test, in order, the price move after each (a fraction), and the
    async backend the engine processes run under."""

    kills: tuple[str, ...]
    moves: tuple[Decimal, ...]
    backend: str

    def __str__(self) -> str:
        kills = ",".join(f"{k}{f'~{m:+}' if m else ''}" for k, m in zip(self.kills, self.moves, strict=True))
        return f"{self.backend}-{kills}"


def kill_plan(spec: BrokerSpec, number: int) -> KillPlan:
    """Seeded: 1-2 exact kills at increasing orders, then maybe an event-count or a timed kill.

    Plan 0 starts at an intent, plan 1 after a send, and so on, so each plugin meets both exact
    points whatever the seed; the tail alternates event-count kills, timed kills and none, and
    the plans take turns over the backends the plugin supports.
    """
    backends = sorted(spec.capabilities.async_backends)  # asyncio first
    rng = random.Random(f"{SEED}:{spec.name}:{number}")
    exact = sorted(rng.sample(range(ORDERS), rng.randint(1, 2)))
    kinds = ["intent" if number % 2 == 0 else "sent"] + [rng.choice(("intent", "sent")) for _ in exact[1:]]
    kills = [f"{kind}:{i}" for kind, i in zip(kinds, exact, strict=True)]
    tail = number % 3
    if tail == 0:
        kills.append(f"event:{rng.randint(1, 4 * ORDERS)}")
    elif tail == 1:
        kills.append(f"after:{rng.uniform(0.0, 1.0):.2f}")
    moves = tuple(rng.choice(PRICE_MOVES) for _ in kills)
    return KillPlan(tuple(kills), moves, backends[number // 2 % len(backends)])


@pytest.fixture
def autotrader_venue_thread(autotrader_spec: BrokerSpec) -> Iterator[VenueThread]:
    """The broker's external venue, serving from a thread of its own for the whole test."""
    if autotrader_spec.external_venue is None:
        pytest.skip(
            f"{autotrader_spec.name} offers no BrokerSpec.external_venue: the kill -9 test needs a "
            "venue that outlives the engine process"
        )
    with venue_thread(autotrader_spec) as thread:
        yield thread


@attrs.frozen
class Run:
    code: int
    lines: list[Any]
    stderr: str

    @property
    def recovered(self) -> dict[str, Any] | None:
        """The recovery report (``None`` when the run was killed before it finished recovering)."""
        found = (line["recovered"] for line in self.lines if isinstance(line, dict) and "recovered" in line)
        return next(found, None)

    @property
    def result(self) -> dict[str, Any]:
        return next(line for line in reversed(self.lines) if isinstance(line, dict) and "orders" in line)


def run_worker(
    spec: BrokerSpec,
    thread: VenueThread,
    folder: Path,
    kill: str | None,
    *,
    resume: bool,
    price: Decimal,
    backend: str = "asyncio",
) -> Run:
    """One engine process; ``price`` is the market now (the worker's resting orders sit 1% away)."""
    venue = thread.venue
    description = folder / "venue.json"
    description.write_text(
        json.dumps(
            {
                "broker": spec.name,
                "broker_config": dict(venue.broker_config),
                "symbol": venue.symbol,
                "price": str(price),
                **{k: str(getattr(venue, k)) for k in ("quantity", "tick")},
            }
        )
    )
    command = [
        sys.executable,
        "-m",
        WORKER,
        "--venue",
        str(description),
        "--journal",
        str(folder / "journal.sqlite"),
    ]
    command += ["--orders", str(ORDERS), "--backend", backend]
    mode, _, value = (kill or "").partition(":")
    if mode in ("intent", "sent", "event"):
        command += ["--kill", kill or ""]
    if resume:
        command.append("--resume")
    env = {**os.environ, **venue.environment, "AUTOTRADER_PLUGINS": spec.name}
    process = subprocess.Popen(  # noqa: S603 - this interpreter running the packaged worker
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    head: list[str] = []
    if mode == "after":  # a random moment once the engine is up
        assert process.stdout is not None
        while (line := process.stdout.readline()) and line.strip() != '"ready"':
            head.append(line)
        head.append(line)
        time.sleep(float(value))
        process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=90)
    lines = [json.loads(line) for line in [*head, *out.splitlines()] if line.strip()]
    return Run(process.returncode, lines, err)


def move_price(thread: VenueThread, fraction: Decimal) -> Decimal:
    """Set the market ``fraction`` away from the venue's first price; returns the new price."""
    venue = thread.venue
    price = venue.price + (venue.price * fraction / venue.tick).to_integral_value() * venue.tick
    thread.set_price(venue.symbol, price)
    return price


@pytest.mark.parametrize("plan_number", range(PLANS))
def test_kill_9_then_resume_loses_nothing(
    autotrader_spec: BrokerSpec, autotrader_venue_thread: VenueThread, plan_number: int, tmp_path: Path
) -> None:
    """Plan ``plan_number`` of :func:`kill_plan` (seeded by the broker's name): its kills, in turn."""
    spec, thread, plan = autotrader_spec, autotrader_venue_thread, kill_plan(autotrader_spec, plan_number)
    previous: str | None = None
    price = thread.venue.price
    for number, (kill, move) in enumerate(zip(plan.kills, plan.moves, strict=True)):
        run = run_worker(spec, thread, tmp_path, kill, resume=number > 0, price=price, backend=plan.backend)
        if kill.startswith(("intent:", "sent:")):
            assert run.code == -signal.SIGKILL, f"plan {plan}: no death at {kill}: {run.stderr}"
        else:
            assert run.code in (0, -signal.SIGKILL), run.stderr
        if number > 0:
            _check_recovery(run, previous)
        previous = kill
        if move:  # resting orders fill while no engine is alive
            price = move_price(thread, move)
    final = run_worker(spec, thread, tmp_path, None, resume=True, price=price, backend=plan.backend)
    assert final.code == 0, final.stderr
    _check_recovery(final, previous)
    _check_against_the_venue(final.result, thread)


def _check_recovery(run: Run, kill: str | None) -> None:
    """What the run after an exact kill must have done about the order it died on."""
    mode, _, index = (kill or "").partition(":")
    if run.recovered is None:
        return  # killed while recovering: the next run's recovery may find the order already sent
    resent = run.recovered["resent"]
    if mode == "intent":
        assert resent == [f"crash{index}"], f"the intent journaled before the kill is sent once: {resent}"
    elif mode == "sent":
        assert f"crash{index}" not in resent, "an order the venue accepted was sent again"


def _check_against_the_venue(result: dict[str, Any], thread: VenueThread) -> None:
    ledger = thread.orders()
    received = collections.Counter(o.client_order_id for o in ledger)
    assert received == collections.Counter(f"crash{i}" for i in range(ORDERS)), (
        "each decided order exactly once"
    )

    trades = {t.trade_id: t for t in thread.trades()}
    applied = [f["trade_id"] for f in result["fills"]]
    assert len(applied) == len(set(applied)), "a fill was applied twice"
    assert set(applied) == set(trades), (
        "a venue fill is missing from the OMS (or the OMS has one the venue lacks)"
    )

    venue_net = {s: q.normalize() for s, q in net_positions(trades.values()).items()}
    ours = {s: Decimal(q).normalize() for s, q in result["positions"].items()}
    assert ours == venue_net, "the OMS positions differ from the venue's"

    oms_orders = result["orders"]
    for order in ledger:
        mine = oms_orders[order.client_order_id]
        assert Decimal(mine["filled"]) == order.filled_quantity, f"{order.client_order_id}: filled differs"
        assert OrderStatus(mine["status"]) is order.status, f"{order.client_order_id}: status differs"
