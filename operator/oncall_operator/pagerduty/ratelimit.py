"""One client-side rate limiter shared by every call of a client (and its threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SECONDS_PER_MINUTE = 60.0


class RateLimiter:
    """Token bucket that lets at most `per_minute` requests start in any 60-second window.

    A burst of `burst` requests may go at once; the refill rate is `(per_minute - burst) / 60`
    per second, so burst plus refill never exceed `per_minute` within one minute. Each caller
    reserves its slot under the lock and sleeps outside it, so threads queue in order.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 2:
            raise ValueError(f"requests per minute must be at least 2, not {per_minute}")
        capacity = burst if burst is not None else max(1, per_minute // 60)
        if not 1 <= capacity < per_minute:
            raise ValueError(f"burst must be between 1 and {per_minute - 1}, not {capacity}")
        self.per_minute = per_minute
        self.capacity = float(capacity)
        self.rate = (per_minute - capacity) / SECONDS_PER_MINUTE
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one request slot, waiting when the bucket is empty; returns the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def hold(self, seconds: float) -> None:
        """Make every caller wait `seconds` from now (PagerDuty said so with a 429)."""
        with self._lock:
            self._refill()
            # One slot is ready the moment the hold ends; the debt is paid back at `rate`.
            self._tokens = min(self._tokens, 1.0) - seconds * self.rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
