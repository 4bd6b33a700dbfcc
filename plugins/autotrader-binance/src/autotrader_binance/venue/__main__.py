"""``python -m autotrader_binance.venue --port 9000``: run the local Binance venue by hand.

It listens on 127.0.0.1 only, prints the endpoints, the test credentials and the command that
points ``autotrader run --broker binance`` at it, and serves until Ctrl-C (or SIGTERM).  The
market is synthetic: each symbol's price stays where ``--price`` puts it unless ``--walk`` moves
it (a seeded random walk, so resting orders fill over time); its best bid and ask stand a tick
either side, published on the ``<symbol>@bookTicker`` streams as they move.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from autotrader_binance.venue.limits import RateLimits
from autotrader_binance.venue.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue

log = logging.getLogger("autotrader_binance.venue")


def _price(text: str) -> tuple[str, Decimal]:
    symbol, _, value = text.partition("=")
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SYMBOL=PRICE, e.g. BTCUSDT=50000") from None
    if not symbol or price <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SYMBOL=PRICE with a positive price")
    return symbol.upper(), price


def instructions(venue: BinanceVenue) -> str:
    """What a user needs to point autotrader (or any Binance client) at this venue."""
    return "\n".join(
        [
            f"Binance venue on 127.0.0.1:{venue.port}",
            f"  REST API_URL : {venue.rest_url}",
            f"  WS_API_URL   : {venue.ws_api_url}",
            f"  STREAM_URL   : {venue.stream_url}",
            f"  API key      : {DEFAULT_API_KEY}",
            f"  API secret   : {DEFAULT_API_SECRET}",
            "  symbols      : " + ", ".join(f"{s} {m.spec.price}" for s, m in venue.exchange.markets.items()),
            "",
            "Trade against it:",
            f"  export BINANCE_API_KEY={DEFAULT_API_KEY} BINANCE_API_SECRET={DEFAULT_API_SECRET}",
            f"  export BINANCE_API_URL={venue.rest_url} BINANCE_WS_API_URL={venue.ws_api_url}"
            f" BINANCE_STREAM_URL={venue.stream_url}",
            "  autotrader run --broker binance --data prices.csv --symbol BTCUSDT",
            "  autotrader run --broker binance --live --symbol BTCUSDT    # on its live quotes (with --walk)",
        ]
    )


async def _walk(venue: BinanceVenue, step: float, interval: float, seed: int) -> None:
    """Move every price by a random fraction (standard deviation ``step``) each ``interval`` seconds."""
    rng = random.Random(seed)
    while True:
        await asyncio.sleep(interval)
        for symbol, market in venue.exchange.markets.items():
            spec = market.spec
            moved = spec.price * Decimal(str(1 + rng.gauss(0, step)))
            price = max(spec.tick, moved.quantize(spec.tick, rounding=ROUND_HALF_EVEN))
            venue.exchange.set_price(symbol, price)


async def serve(
    port: int,
    prices: list[tuple[str, Decimal]],
    walk: float,
    interval: float,
    seed: int,
    *,
    limits: RateLimits | None = None,
    access_log: bool = False,
) -> None:
    venue = BinanceVenue(port=port, limits=limits, access_log=access_log)
    for symbol, price in prices:
        if symbol not in venue.exchange.markets:
            raise SystemExit(f"unknown symbol {symbol}: the venue lists {', '.join(venue.exchange.markets)}")
        venue.exchange.set_price(symbol, price)
    await venue.start()
    print(instructions(venue), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    walker = asyncio.create_task(_walk(venue, walk, interval, seed)) if walk > 0 else None
    try:
        await stop.wait()
    finally:
        if walker is not None:
            walker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await walker
        await venue.stop()
        log.info(
            "venue stopped: %d orders, %d trades", len(venue.exchange.orders), len(venue.exchange.trades)
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autotrader_binance.venue", description=__doc__)
    parser.add_argument("--port", type=int, default=9000, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--price", type=_price, action="append", default=[], metavar="SYMBOL=PRICE", help="starting price"
    )
    parser.add_argument("--walk", type=float, default=0.0, help="random-walk step per tick, e.g. 0.001")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between walk ticks")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders-per-10s", type=int, default=100, help="ORDERS limit (Binance: 100)")
    parser.add_argument("--weight-per-minute", type=int, default=6000, help="REQUEST_WEIGHT limit (6000)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    limits = RateLimits(orders_per_10s=args.orders_per_10s, weight_per_minute=args.weight_per_minute)
    asyncio.run(
        serve(
            args.port, args.price, args.walk, args.interval, args.seed, limits=limits, access_log=args.verbose
        )
    )


if __name__ == "__main__":
    main()
