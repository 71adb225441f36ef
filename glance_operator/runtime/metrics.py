"""Prometheus metrics, and the HTTP server for /metrics, /healthz and /readyz.

Kept dependency-free: a handful of counters and a histogram in the text exposition format, served
by asyncio's own stream server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.reconciles: dict[tuple[str, str], int] = defaultdict(int)
        self.duration_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.duration_sum: dict[str, float] = defaultdict(float)
        self.duration_count: dict[str, int] = defaultdict(int)
        self.gauges: dict[str, Callable[[], float]] = {}

    def observe_reconcile(self, controller: str, outcome: str, seconds: float) -> None:
        self.reconciles[(controller, outcome)] += 1
        buckets = self.duration_buckets[controller]
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                buckets[i] += 1
        self.duration_sum[controller] += seconds
        self.duration_count[controller] += 1

    def render(self) -> str:
        lines = [
            "# HELP controller_runtime_reconcile_total Total number of reconciliations per controller",
            "# TYPE controller_runtime_reconcile_total counter",
        ]
        for (controller, outcome), n in sorted(self.reconciles.items()):
            lines.append(f'controller_runtime_reconcile_total{{controller="{controller}",result="{outcome}"}} {n}')
        lines += [
            "# HELP controller_runtime_reconcile_errors_total Total number of reconciliation errors",
            "# TYPE controller_runtime_reconcile_errors_total counter",
        ]
        for (controller, outcome), n in sorted(self.reconciles.items()):
            if outcome == "error":
                lines.append(f'controller_runtime_reconcile_errors_total{{controller="{controller}"}} {n}')
        lines += [
            "# HELP controller_runtime_reconcile_time_seconds Length of time per reconciliation",
            "# TYPE controller_runtime_reconcile_time_seconds histogram",
        ]
        for controller, buckets in sorted(self.duration_buckets.items()):
            for bound, n in zip(BUCKETS, buckets, strict=True):
                lines.append(
                    f'controller_runtime_reconcile_time_seconds_bucket{{controller="{controller}",le="{bound}"}} {n}'
                )
            count = self.duration_count[controller]
            lines.append(
                f'controller_runtime_reconcile_time_seconds_bucket{{controller="{controller}",le="+Inf"}} {count}'
            )
            total = self.duration_sum[controller]
            lines.append(f'controller_runtime_reconcile_time_seconds_sum{{controller="{controller}"}} {total}')
            lines.append(f'controller_runtime_reconcile_time_seconds_count{{controller="{controller}"}} {count}')
        for name, read in sorted(self.gauges.items()):
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {read()}")
        return "\n".join(lines) + "\n"


class HTTPServer:
    """Serves a few GET paths; each handler returns (status, body)."""

    def __init__(self, routes: dict[str, Callable[[], tuple[int, str]]]) -> None:
        self.routes = routes
        self._server: asyncio.Server | None = None

    async def start(self, address: str) -> int:
        host, _, port = address.rpartition(":")
        self._server = await asyncio.start_server(self._handle, host or "0.0.0.0", int(port))
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) > 1 else "/"
            handler = self.routes.get(path)
            status, body = handler() if handler else (404, "not found\n")
            reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}.get(status, "Error")
            data = body.encode()
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; version=0.0.4\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
