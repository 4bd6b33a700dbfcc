"""``python -m autotrader_ibkr.tws --port 7497``: run the local TWS by hand (paper account DU1234567)."""

from __future__ import annotations

import argparse
import contextlib
import logging
from decimal import Decimal

import anyio

from autotrader_ibkr.tws.exchange import Exchange
from autotrader_ibkr.tws.server import TwsServer
from autotrader_ibkr.tws.walk import walk_prices


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autotrader_ibkr.tws", description=__doc__)
    parser.add_argument("--port", type=int, default=7497, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="CONID=PRICE",
        help="initial last price of a contract (default: AAPL 100, EUR.USD 1.1, ESZ5 5000)",
    )
    parser.add_argument(
        "--walk",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="move every price one tick each SECONDS, 20 ticks up and down (for live runs)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    exchange = Exchange()
    prices = {265598: Decimal("100.00"), 12087792: Decimal("1.1"), 495512563: Decimal("5000")}
    for item in args.price:
        con_id, _, price = item.partition("=")
        prices[int(con_id)] = Decimal(price)
    for con_id, price in prices.items():
        exchange.set_price(con_id, price)
    server = TwsServer(exchange)

    async def run() -> None:
        async with anyio.create_task_group() as tg:
            port = await tg.start(lambda task_status: server.serve(port=args.port, task_status=task_status))
            print(
                f"local TWS listening on 127.0.0.1:{port} (server version 176, account DU1234567)", flush=True
            )
            if args.walk > 0:
                tg.start_soon(lambda: walk_prices(server, prices, interval=args.walk))

    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(run)


if __name__ == "__main__":
    main()
