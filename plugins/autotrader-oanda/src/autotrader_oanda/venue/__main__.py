"""``python -m autotrader_oanda.venue [--port N] [--token T] [--walk S]``: run the local v20 venue by hand.

``--walk S`` moves every instrument's price by a random step each S seconds, so that a strategy
run with ``autotrader run --broker oanda --live`` against it has a market to trade.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
from decimal import Decimal

from autotrader_oanda.venue.exchange import Exchange
from autotrader_oanda.venue.server import VenueServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autotrader_oanda.venue", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--token",
        default=os.environ.get("OANDA_ACCESS_TOKEN"),
        help="bearer token clients must send (default: $OANDA_ACCESS_TOKEN or a random one)",
    )
    parser.add_argument("--account", default="101-001-0000001-001", help="the account id")
    parser.add_argument("--balance", default="100000", help="opening balance in USD")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="stream heartbeat interval, seconds")
    parser.add_argument("--walk", type=float, default=0.0, help="move prices every S seconds (0: never)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the price walk")
    args = parser.parse_args(argv)
    token = args.token or secrets.token_hex(16)
    server = VenueServer(
        Exchange(account_id=args.account, balance=Decimal(args.balance)),
        token=token,
        port=args.port,
        heartbeat_interval=args.heartbeat,
    )

    async def run() -> None:
        await server.serve_here()
        print(f"OANDA v20 venue on {server.url}  account {args.account}", flush=True)
        if not args.token:
            print(f"bearer token (generated): {token}", flush=True)
        if args.walk > 0:
            await random_walk(server.exchange, args.walk, random.Random(args.seed))
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def random_walk(exchange: Exchange, every: float, rng: random.Random) -> None:
    """Each ``every`` seconds, move each instrument's mid by -2..+2 ticks (a market to trade on)."""
    while True:
        await asyncio.sleep(every)
        for name, spec in exchange.instruments.items():
            bid, ask = exchange.quote(name)
            mid = ((bid + ask) / 2).quantize(spec.tick)
            exchange.set_price(name, max(spec.tick, mid + spec.tick * rng.randint(-2, 2)))


if __name__ == "__main__":
    main()
