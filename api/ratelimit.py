"""A token bucket per API key: bursts up to one minute's allowance, then a steady rate.

``SharedRateLimiter`` (what the API uses) keeps the buckets in the keys' SQLite file, so every
worker of ``actorgraph serve --workers N`` draws from the same bucket and a key gets exactly
its rate in total. ``RateLimiter`` keeps them in memory, per process (a key would get up to N
times its rate across N workers); it serves single-process uses and tests.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Bucket:
    tokens: float
    updated: float


class _TokenBucket:
    """The bucket arithmetic both limiters share: capacity, refill rate, clock, waits."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """False when the limit is switched off."""
        return self.capacity > 0

    def acquire(self, key: str) -> float:
        """Take one token for ``key``.

        Returns:
            0.0 when the request may proceed, else the seconds until a token is available.
        """
        if not self.enabled:
            return 0.0
        return self._take(key, self.clock())

    def _take(self, key: str, now: float) -> float:
        """``acquire`` for an enabled limit at time ``now``: where the buckets live."""
        raise NotImplementedError

    def _refilled(self, tokens: float, updated: float, now: float) -> float:
        return min(self.capacity, tokens + max(0.0, now - updated) * self.rate)

    def _wait(self, tokens: float) -> float:
        """Seconds until a bucket holding ``tokens`` (< 1) has one."""
        return max(0.0, (1.0 - tokens) / self.rate)


class RateLimiter(_TokenBucket):
    """Allow ``per_minute`` requests per key per minute, with bursts of that size.

    Args:
        per_minute: requests per key per minute; 0 or less disables the limit.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(per_minute, clock)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _take(self, key: str, now: float) -> float:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = self._refilled(bucket.tokens, bucket.updated, now)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return self._wait(bucket.tokens)


_BUCKETS = """CREATE TABLE IF NOT EXISTS rate_buckets (
    key_id  TEXT PRIMARY KEY,
    tokens  REAL NOT NULL,
    updated REAL NOT NULL
)"""

# One statement, so one atomic step under SQLite's write lock: refill by the time elapsed,
# then take a token only if one is there. No row comes back when none is.
_TAKE = """INSERT INTO rate_buckets (key_id, tokens, updated) VALUES (:key, :cap - 1, :now)
ON CONFLICT (key_id) DO UPDATE SET
    tokens = min(:cap, tokens + max(0, :now - updated) * :rate) - 1,
    updated = :now
WHERE min(:cap, tokens + max(0, :now - updated) * :rate) >= 1
RETURNING tokens"""


class SharedRateLimiter(_TokenBucket):
    """``RateLimiter``'s bucket, shared by every process that opens the same SQLite file.

    Args:
        per_minute: requests per key per minute; 0 or less disables the limit.
        path: the SQLite file (the API uses ``<home>/keys.sqlite``).
        clock: seconds since the epoch (shared by processes; tests pass a fake one).
    """

    def __init__(self, per_minute: int, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(per_minute, clock)
        self.path = Path(path)
        self._local = threading.local()
        if self.enabled:
            self._db().execute(_BUCKETS)

    def _db(self) -> sqlite3.Connection:
        # One autocommit connection per thread: each statement is its own transaction.
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            # No fsync per request: a bucket lost in a power cut only refills early
            # (fsync's cost per request: benchmarks/RESULTS.md).
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _take(self, key: str, now: float) -> float:
        params = {"key": key, "cap": self.capacity, "rate": self.rate, "now": now}
        db = self._db()
        if db.execute(_TAKE, params).fetchone() is not None:
            return 0.0
        row = db.execute(
            "SELECT tokens, updated FROM rate_buckets WHERE key_id = ?", (key,)
        ).fetchone()
        return self._wait(self._refilled(row[0], row[1], now) if row else 0.0)
