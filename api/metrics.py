"""Prometheus metrics in the text exposition format (0.0.4), without extra packages.

Counters and histograms with labels, thread-safe, rendered by ``Metrics.render()`` for
``GET /metrics``. ``MetricsMiddleware`` times every request under its route template (never
the raw path, so indicator values do not become label values), and ``InstrumentedStore``
times every store call, so store latency includes the Attributor's queries too.

With ``actorgraph serve --workers N`` the workers share their numbers through a directory
(``Metrics(share_dir=...)``): each writes its own to ``metrics-<pid>.json`` every second and
``render()`` sums every worker's file, so a scrape that reaches any worker sees the whole
server (at most about a second behind for the other workers).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actorgraph.graph.errors import ActorgraphError
from actorgraph.graph.store import GraphStore, Row

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.15,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    parts = []
    for name, value in zip(names, values, strict=True):
        escaped = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{name}="{escaped}"')
    return "{" + ",".join(parts) + "}"


class Counter:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the series of these label values."""
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        """The current value of one series (0 if never incremented)."""
        return self._values.get(labels, 0.0)

    def dump(self) -> list[list[Any]]:
        """``[[labels, value], ...]``, JSON-ready."""
        with self._lock:
            return [[list(k), v] for k, v in self._values.items()]

    def add(self, dumped: list[list[Any]]) -> None:
        """Add another process's ``dump()`` to this counter."""
        for labels, value in dumped:
            self.inc(*labels, amount=float(value))

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        for labels, value in items:
            yield f"{self.name}{_labels(self.label_names, labels)} {value:g}"


class Histogram:
    """Observations in cumulative buckets per label set (seconds by convention)."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], list[float]] = {}  # bucket counts..., sum, count
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation."""
        slot = bisect.bisect_left(self.buckets, value)
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = [0.0] * (len(self.buckets) + 3)
            series[slot] += 1  # slot len(buckets) is the +Inf overflow
            series[-2] += value
            series[-1] += 1

    def count(self, *labels: str) -> int:
        """How many observations one series holds."""
        series = self._series.get(labels)
        return int(series[-1]) if series else 0

    def dump(self) -> list[list[Any]]:
        """``[[labels, [bucket counts..., +Inf, sum, count]], ...]``, JSON-ready."""
        with self._lock:
            return [[list(k), list(v)] for k, v in self._series.items()]

    def add(self, dumped: list[list[Any]]) -> None:
        """Add another process's ``dump()`` (same buckets) to this histogram."""
        with self._lock:
            for labels, other in dumped:
                if len(other) != len(self.buckets) + 3:
                    continue  # written with other buckets: not comparable
                series = self._series.setdefault(tuple(labels), [0.0] * len(other))
                for i, v in enumerate(other):
                    series[i] += float(v)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        names = (*self.label_names, "le")
        for labels, series in items:
            cumulative = 0.0
            for bound, n in zip(self.buckets, series, strict=False):
                cumulative += n
                yield f"{self.name}_bucket{_labels(names, (*labels, f'{bound:g}'))} {cumulative:g}"
            cumulative += series[len(self.buckets)]
            yield f"{self.name}_bucket{_labels(names, (*labels, '+Inf'))} {cumulative:g}"
            base = _labels(self.label_names, labels)
            yield f"{self.name}_sum{base} {series[-2]:.6f}"
            yield f"{self.name}_count{base} {series[-1]:g}"


class Metrics:
    """The API's metrics registry (one per app).

    Args:
        share_dir: a directory the workers of one server share; None for a lone process.
        flush_s: how often a worker writes its numbers there.
        worker: this worker's name in that directory (default: its pid).
    """

    def __init__(
        self, share_dir: Path | None = None, flush_s: float = 1.0, worker: str | None = None
    ) -> None:
        self.requests = Counter(
            "actorgraph_http_requests_total",
            "HTTP requests by method, route template and status code.",
            ("method", "route", "status"),
        )
        self.latency = Histogram(
            "actorgraph_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ("method", "route"),
        )
        self.attributions = Counter(
            "actorgraph_attributions_total",
            "Attributions answered, by top answer (candidate or unknown) and persistence.",
            ("top", "persisted"),
        )
        self.store_latency = Histogram(
            "actorgraph_store_query_duration_seconds",
            "Graph store call latency by operation (read, query, batch, atomic).",
            ("operation",),
        )
        self.store_errors = Counter(
            "actorgraph_store_errors_total", "Graph store errors by class.", ("error",)
        )
        self.rate_limited = Counter(
            "actorgraph_rate_limited_total", "Requests refused by the per-key rate limit."
        )
        self.ingested = Counter(
            "actorgraph_ingested_bundles_total",
            "Bundles ingested through the API, by outcome.",
            ("outcome",),
        )
        self.started = time.time()
        self.share_dir = Path(share_dir) if share_dir else None
        if self.share_dir is not None:
            self.share_dir.mkdir(parents=True, exist_ok=True)
            self._own = self.share_dir / f"metrics-{worker or os.getpid()}.json"
            threading.Thread(
                target=self._flush_every, args=(flush_s,), name="metrics-flush", daemon=True
            ).start()

    def _all(self) -> tuple[Counter | Histogram, ...]:
        return (
            self.requests,
            self.latency,
            self.attributions,
            self.store_latency,
            self.store_errors,
            self.rate_limited,
            self.ingested,
        )

    def snapshot(self) -> dict[str, Any]:
        """This process's numbers, JSON-ready."""
        return {
            "pid": os.getpid(),
            "started": self.started,
            "metrics": {m.name: m.dump() for m in self._all()},
        }

    def flush(self) -> None:
        """Write this worker's numbers to the shared directory (replaced whole, never torn)."""
        if self.share_dir is None:
            return
        tmp = self._own.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        os.replace(tmp, self._own)

    def _flush_every(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            with contextlib.suppress(OSError):  # a removed directory at shutdown
                self.flush()

    def render(self) -> str:
        """All metrics in the Prometheus text format: of every worker sharing the directory,
        summed, or of this process alone."""
        snapshots = [self.snapshot()]
        if self.share_dir is not None:
            for path in sorted(self.share_dir.glob("metrics-*.json")):
                if path == self._own:
                    continue
                with contextlib.suppress(OSError, ValueError):
                    snapshots.append(json.loads(path.read_text()))
        total = self
        if len(snapshots) > 1:
            total = Metrics()  # a scratch registry for the sum
            for snap in snapshots:
                for metric in total._all():
                    metric.add(snap["metrics"].get(metric.name, []))
        lines: list[str] = [
            "# HELP actorgraph_process_start_time_seconds Start time of each worker (unix).",
            "# TYPE actorgraph_process_start_time_seconds gauge",
        ]
        lines += [
            f'actorgraph_process_start_time_seconds{{pid="{snap["pid"]}"}} {snap["started"]:.3f}'
            for snap in snapshots
        ]
        for metric in total._all():
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Pure ASGI middleware: count and time each HTTP request under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.inc(method, template, str(status))
            self.metrics.latency.observe(time.perf_counter() - start, method, template)


class InstrumentedStore(GraphStore):
    """A ``GraphStore`` that forwards every call to ``inner`` and records its latency."""

    def __init__(self, inner: GraphStore, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.backend = inner.backend

    def query(
        self,
        cypher: str,
        params: dict[str, Any] | None = None,
        *,
        read_only: bool = False,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
    ) -> list[Row]:
        start = time.perf_counter()
        try:
            return self.inner.query(
                cypher, params, read_only=read_only, timeout_ms=timeout_ms, max_rows=max_rows
            )
        except ActorgraphError as exc:
            self.metrics.store_errors.inc(type(exc).__name__)
            raise
        finally:
            self.metrics.store_latency.observe(
                time.perf_counter() - start, "read" if read_only else "query"
            )

    def write_batches(self, cypher: str, rows: Sequence[Row], **kwargs: Any) -> int:
        start = time.perf_counter()
        try:
            return self.inner.write_batches(cypher, rows, **kwargs)
        finally:
            self.metrics.store_latency.observe(time.perf_counter() - start, "batch")

    def write_atomic(self, statements: Sequence[tuple[str, Sequence[Row]]], **params: Any) -> int:
        # The inner store's own unit (one transaction on Neo4j), not the default chained query.
        start = time.perf_counter()
        try:
            return self.inner.write_atomic(statements, **params)
        finally:
            self.metrics.store_latency.observe(time.perf_counter() - start, "atomic")

    def ensure_schema(self) -> None:
        self.inner.ensure_schema()

    def health(self) -> dict[str, Any]:
        return self.inner.health()

    def counts(self) -> dict[str, dict[str, int]]:
        return self.inner.counts()

    def clear(self) -> None:
        self.inner.clear()

    @property
    def adhoc_slots(self) -> int:
        return self.inner.adhoc_slots

    def adhoc_slot(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        return self.inner.adhoc_slot(wait_s)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Backend-specific extras (graph name, socket path) stay reachable.
        return getattr(self.inner, name)
