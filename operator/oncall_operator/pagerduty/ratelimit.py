"""What paces a client's requests, shared by every call of the client (and its threads): its own
rate limit (`RateLimiter`, the operator's share of the account) and PagerDuty's word on what the
account may still send (`AccountQuota`, the `ratelimit-*` headers)."""

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

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


ANSWER_WAIT_SECONDS = 1.0  # a thread waiting for another's answer looks again at least this often


class AccountQuota:
    """What PagerDuty's `ratelimit-*` headers say this client may still send, for every thread.

    PagerDuty counts the account's requests per key and tells each answer how many remain in the
    window (`ratelimit-remaining`) and in how many seconds it moves on (`ratelimit-reset`); a 429
    says to send nothing until its reset (PagerDuty's "REST API rate limits"). So:

    - a 429 holds every thread until its reset, threads already waiting included;
    - when no answer has said how many remain (at start, after a reset), one request goes at a
      time: its answer tells the rest how many may follow;
    - an answer's remaining, less the requests still in flight, is how many more may start
      (never more than an earlier answer allowed: answers may come out of order); when none
      may, threads wait for the answers in flight, then ask again with one request, after the
      last answer's reset if it said none remained.

    A request is only ever sent when PagerDuty's latest word allows it, so no request of this
    client reaches PagerDuty before a reset it was told. Answers without the headers (a proxy's
    error) change nothing; if PagerDuty never sends them, only the client's `RateLimiter` paces.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._changed = threading.Condition()
        self._allowance: float | None = None  # None: unknown, ask with one request
        self._in_flight = 0
        self._hold_until = float("-inf")  # a 429's reset: nothing starts before it
        self._next_reset: float | None = None  # when the latest answer said the window moves on
        # The least any answer said remained since the allowance was last asked afresh: answers
        # overtake each other, so the last to arrive may say one remained when none did.
        self._least_remaining: int | None = None

    def start(self) -> float:
        """Wait until a request may go and count it in flight; returns the seconds slept for a
        reset (not the wait for another thread's answer). Call `finish` for every `start`."""
        slept = 0.0
        while True:
            with self._changed:
                pause = self._pause(self._clock())
                if pause is None:
                    if self._allowance is not None:
                        self._allowance -= 1
                    self._in_flight += 1
                    return slept
                if pause == 0.0:
                    self._changed.wait(ANSWER_WAIT_SECONDS)
                    continue
            self._sleep(pause)
            slept += pause

    def finish(
        self,
        *,
        rate_limited: bool = False,
        succeeded: bool = False,
        remaining: int | None = None,
        reset_seconds: float | None = None,
    ) -> None:
        """The answer to a started request: a 429, or any other answer with its headers (None
        when absent); no answer at all (a network error) is `finish()`."""
        with self._changed:
            self._in_flight -= 1
            now = self._clock()
            if rate_limited:
                wait = reset_seconds if reset_seconds is not None else 1.0
                self._hold_until = max(self._hold_until, now + wait)
                self._allowance = None
                self._least_remaining = None
            elif remaining is not None:
                fresh = float(remaining - self._in_flight)
                # An answer overtaken by a later one may say more remain than do: keep the least.
                self._allowance = fresh if self._allowance is None else min(self._allowance, fresh)
                if self._least_remaining is None or remaining < self._least_remaining:
                    self._least_remaining = remaining
                if reset_seconds is not None:
                    self._next_reset = now + reset_seconds
            elif succeeded and self._allowance is None:
                self._allowance = float("inf")  # PagerDuty does not say: RateLimiter paces alone
            self._changed.notify_all()

    def _pause(self, now: float) -> float | None:
        """None: go now; 0: wait for an answer in flight; else the seconds until a reset."""
        if self._hold_until > now:
            return self._hold_until - now
        if self._allowance is None:
            return None if self._in_flight == 0 else 0.0
        if self._allowance >= 1:
            return None
        if self._in_flight:
            return 0.0
        # Spent, nothing in flight: ask again, after the reset the latest answer gave if any
        # answer since the last asking said nothing remained (else the window moved on meanwhile:
        # it may say more remain now).
        spent = self._least_remaining is not None and self._least_remaining <= 0
        self._allowance = None
        self._least_remaining = None
        if spent and self._next_reset is not None and self._next_reset > now:
            self._hold_until = self._next_reset
            return self._hold_until - now
        return None
