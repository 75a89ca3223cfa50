"""The read budget: the share of the account's PagerDuty rate limit the operator reads with at rest.

Reads a reconcile needs (a spec edit, a referent becoming ready, a handoff) never wait for it:
they are spent at once, ahead of everything else. The drift sweep and the drift checks are the
readers that wait (each on a thread of its own), so they go slower when others have spent the
budget, and a sweep takes longer than the drift interval when the account's objects need more
reads than the budget allows in one interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SECONDS_PER_MINUTE = 60.0
SUSTAINED_SHARE = 0.9  # of the budget, refilled steadily; the rest is the burst a sweep starts with


class ReadBudget:
    """A token bucket of `per_minute` reads: `wait_for_one` paces the sweep, `spend` records the
    reads that jumped the queue. Debt is capped at one minute of budget, so a burst of
    convergence reads delays the sweep by at most a minute. Thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"the read budget must be at least 1 per minute, not {per_minute}")
        self.per_minute = per_minute
        # A sweep may start with a few reads at once (a tenth of a minute's worth); the refill is
        # what is left, so the burst and the refill never pass `per_minute` in any minute.
        self.capacity = per_minute * (1 - SUSTAINED_SHARE)
        self.rate = per_minute * SUSTAINED_SHARE / SECONDS_PER_MINUTE
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def spend(self, reads: int = 1) -> None:
        """Reads made without waiting (a reconcile's own): the sweep waits for them instead."""
        with self._lock:
            self._refill()
            self._tokens = max(self._tokens - reads, -float(self.per_minute))

    def wait_for_one(self) -> float:
        """Take one read for the sweep, waiting until the budget has it; returns seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


def sweep_period(drift_interval: float, reads_per_sweep: int, per_minute: int) -> float:
    """How long one drift sweep takes: the drift interval, or longer when its reads do not fit
    in the budget for that time."""
    return max(
        drift_interval, reads_per_sweep * SECONDS_PER_MINUTE / (per_minute * SUSTAINED_SHARE)
    )
