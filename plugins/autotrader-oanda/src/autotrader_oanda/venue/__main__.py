"""``python -m autotrader_oanda.venue [--port N] [--token T]``: run the local v20 venue by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
