"""kill -9 at any moment loses nothing: the engine runs in a subprocess that is SIGKILLed at
seeded points, then restarted with resume, against the OANDA plugin's local v20 venue.

After every crash and resume: the venue holds exactly the orders the strategy decided, each once;
every venue trade is in the OMS exactly once; the OMS position equals the venue's.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("autotrader_oanda")

from autotrader_oanda.venue import Exchange, VenueServer

ORDERS = 8
WORKER = Path(__file__).with_name("worker.py")
SEED = 20261124


def kill_points() -> list[str]:
    """Exact points (after the intent is journaled; after the venue accepted) and seeded random times."""
    rng = random.Random(SEED)
    exact = [f"intent:{i}" for i in rng.sample(range(ORDERS), 3)] + [
        f"sent:{i}" for i in rng.sample(range(ORDERS), 3)
    ]
    timed = [f"after:{rng.uniform(0.2, 2.5):.2f}" for _ in range(3)]
    return exact + timed


@pytest.fixture
def venue() -> Any:
    token = secrets.token_urlsafe(16)
    server = VenueServer(Exchange(commission_rate=Decimal("0.00002")), token=token, heartbeat_interval=0.25)
    server.start()
    server.call(server.exchange.set_price, "EUR_USD", Decimal("1.10000"))
    try:
        yield server, token
    finally:
        server.stop()


def run_worker(
    server: VenueServer, token: str, journal: Path, *extra: str, kill_after: float | None = None
) -> Any:
    command = [
        sys.executable,
        str(WORKER),
        "--url",
        server.url,
        "--environment",
        f"crash-{server.port}",
        "--account",
        server.exchange.account_id,
        "--journal",
        str(journal),
        "--orders",
        str(ORDERS),
        *extra,
    ]
    env = {**os.environ, "OANDA_ACCESS_TOKEN": token}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.mark.parametrize("kill", kill_points())
def test_kill_9_then_resume_loses_nothing(venue: Any, tmp_path: Path, kill: str) -> None:
    server, token = venue
    journal = tmp_path / "journal.sqlite"
    mode, _, value = kill.partition(":")
    if mode == "after":
        code, _, err = run_worker(server, token, journal, kill_after=float(value))
        assert code in (0, -signal.SIGKILL), err
    else:
        code, _, err = run_worker(server, token, journal, "--kill", kill)
        assert code == -signal.SIGKILL, f"the worker should have died at {kill}: {err}"
    time.sleep(0.2)
    code, out, err = run_worker(server, token, journal, "--resume")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])

    exchange = server.exchange
    ledger = server.call(lambda: [o.client_id for o in exchange.ledger_orders])
    assert sorted(ledger) == sorted(f"crash{i}" for i in range(ORDERS)), "each decided order exactly once"

    trades = server.call(lambda: {f.trade_id: f for f in exchange.ledger_fills})
    applied = [f["trade_id"] for f in result["fills"]]
    assert len(applied) == len(set(applied)), "a fill was applied twice"
    assert set(applied) == set(trades), (
        "a venue fill is missing from the OMS (or the OMS has one the venue lacks)"
    )

    venue_units = sum((f.units if f.is_buy else -f.units for f in trades.values()), Decimal(0))
    assert Decimal(result["positions"].get("EUR_USD", "0")) == venue_units
