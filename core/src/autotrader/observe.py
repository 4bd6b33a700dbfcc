"""Watching a running engine: Prometheus metrics, a status snapshot, structured logs.

:class:`MetricsPlugin` turns the OMS, resiliency and engine hooks into Prometheus metrics in a
registry of its own (one per engine, never the process-global one).  :class:`StatusPublisher`
keeps the seed's status dict as JSON, in a file that ``autotrader status`` reads and at
``/status`` beside ``/metrics`` on the loopback HTTP server.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from autotrader.hookspecs import hookimpl
from autotrader.model import Fill, Order, OrderStatus
from autotrader.resiliency import DeadLetter

__all__ = ["MetricsPlugin", "MetricsServer", "StatusPublisher", "configure_logging", "read_status"]

_CIRCUIT_VALUES: Final = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}
LOOPBACK: Final = "127.0.0.1"


class MetricsPlugin:
    """Prometheus metrics from the engine's hooks (register it on the engine's plugin manager)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.orders = Counter("autotrader_orders", "Orders by final status", ["status"], registry=r)
        self.submitted = Counter("autotrader_orders_submitted", "Orders sent to the venue", registry=r)
        self.fills = Counter(
            "autotrader_fills", "Fills applied (duplicates excluded)", ["symbol", "side"], registry=r
        )
        self.rejects = Counter("autotrader_rejects", "Orders rejected", registry=r)
        self.fill_latency = Histogram(
            "autotrader_fill_latency_seconds",
            "Send to complete fill",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.circuit = Gauge(
            "autotrader_circuit_state", "0 closed, 1 half-open, 2 open", ["broker"], registry=r
        )
        self.dlq = Gauge("autotrader_dead_letters", "Dead letters since start", registry=r)
        self.open_orders = Gauge("autotrader_open_orders", "Orders not yet in a final state", registry=r)
        self.anomalies = Counter(
            "autotrader_oms_anomalies", "Venue reports the OMS refused", ["kind"], registry=r
        )
        self._open: set[str] = set()

    @hookimpl
    def autotrader_order_updated(self, order: Order, previous: Order | None) -> None:
        if (
            previous is not None
            and previous.status is OrderStatus.PENDING
            and order.status is OrderStatus.SUBMITTED
        ):
            self.submitted.inc()
        if order.status.is_terminal and (previous is None or not previous.status.is_terminal):
            self.orders.labels(order.status.value).inc()
            if order.status is OrderStatus.REJECTED:
                self.rejects.inc()
            if order.status is OrderStatus.FILLED and previous is not None:
                self.fill_latency.observe(max(0.0, order.updated_at - order.created_at))
            self._open.discard(order.client_order_id)
        elif order.status.is_open:
            self._open.add(order.client_order_id)
        self.open_orders.set(len(self._open))

    @hookimpl
    def autotrader_fill(self, fill: Fill, order: Order) -> None:
        self.fills.labels(fill.symbol, fill.side.value).inc()

    @hookimpl
    def autotrader_circuit_state_changed(self, name: str, old: str, new: str) -> None:
        self.circuit.labels(name).set(_CIRCUIT_VALUES.get(new, -1))

    @hookimpl
    def autotrader_dead_letter(self, letter: DeadLetter) -> None:
        self.dlq.inc()

    @hookimpl
    def autotrader_oms_anomaly(self, kind: str, detail: str) -> None:
        self.anomalies.labels(kind).inc()


class StatusPublisher:
    """Holds the latest status snapshot (JSON) and writes it atomically to a file if asked."""

    def __init__(self, status: Callable[[], dict[str, Any]], path: Path | None = None) -> None:
        self._status = status
        self.path = path
        self._snapshot = "{}"
        self._lock = threading.Lock()

    def publish(self) -> str:
        """Take a snapshot now (call from the event loop; the HTTP thread only reads it)."""
        text = json.dumps(self._status(), default=str, sort_keys=True)
        with self._lock:
            self._snapshot = text
        if self.path is not None:
            _atomic_write(self.path, text)
        return text

    @property
    def snapshot(self) -> str:
        with self._lock:
            return self._snapshot


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def read_status(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a status object")
    return data


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


class MetricsServer:
    """``/metrics`` (Prometheus) and ``/status`` (JSON) on 127.0.0.1, in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, status: StatusPublisher, port: int = 0) -> None:
        metrics_app = make_wsgi_app(registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/status":
                body = status.snapshot.encode()
                start_response(
                    "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
                )
                return [body]
            return metrics_app(environ, start_response)  # type: ignore[no-any-return]

        self._server: WSGIServer = make_server(LOOPBACK, port, app, handler_class=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="autotrader-metrics", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def configure_logging(log_format: str = "text", level: str = "WARNING") -> None:
    """Text for people, JSON (python-json-logger) for log shippers."""
    handler = logging.StreamHandler()
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"}
            )
        )
    elif log_format == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        raise ValueError(f"log format is 'text' or 'json', not {log_format!r}")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
