"""A token bucket per API key: bursts up to one minute's allowance, then a steady rate.

In memory, per server worker process: with ``--workers N`` a key gets up to N times the
rate in total. That bounds abuse of one key without a shared store; put a proxy with a
shared limiter in front when the exact global rate matters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``per_minute`` requests per key per minute, with bursts of that size.

    Args:
        per_minute: requests per key per minute; 0 or less disables the limit.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

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
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate
