"""``python -m autotrader_binance.venue --port 9000``: run the local Binance venue by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from autotrader_binance.venue.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue


async def _serve(port: int) -> None:
    venue = BinanceVenue(port=port)
    await venue.start()
    print(f"Binance venue on 127.0.0.1:{venue.port}")
    print(f"  REST API_URL : {venue.rest_url}")
    print(f"  WS_API_URL   : {venue.ws_api_url}")
    print(f"  API key      : {DEFAULT_API_KEY}")
    print(f"  API secret   : {DEFAULT_API_SECRET}")
    print("  symbols      : " + ", ".join(venue.exchange.markets))
    try:
        await asyncio.Event().wait()
    finally:
        await venue.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autotrader_binance.venue", description=__doc__)
    parser.add_argument("--port", type=int, default=9000, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
