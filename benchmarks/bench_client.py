"""Print what the PagerDuty client costs per call against the local emulator (figures, not a test).

Run: .venv/bin/python benchmarks/bench_client.py
"""

from __future__ import annotations

import concurrent.futures
import time

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.ratelimit import RateLimiter
from oncall_testbed.emulator import EmulatorServer

CALLS = 200
USERS = [{"name": "Ana", "email": "ana@example.com", "time_zone": "UTC"}]


def limiter_cost() -> None:
    limiter = RateLimiter(10**9, burst=10**8)  # never waits: measures the lock and arithmetic
    started = time.perf_counter()
    for _ in range(100_000):
        limiter.acquire()
    per_call = (time.perf_counter() - started) / 100_000
    print(f"rate limiter acquire: {per_call * 1e6:.2f} µs")


def calls_per_second(client: PagerDutyClient, threads: int) -> float:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda _: client.find_teams("bench"), range(CALLS)))
    return CALLS / (time.perf_counter() - started)


def main() -> None:
    limiter_cost()
    with EmulatorServer("bench-token", users=USERS, rate_limit_per_minute=10**6) as server:
        client = PagerDutyClient(
            server.token,
            api_url=server.base_url,
            ca_file=str(server.ca_file),
            requests_per_minute=10**6,  # the emulator is the bottleneck here, not the limiter
        )
        try:
            for threads in (1, 4):
                rate = calls_per_second(client, threads)
                print(f"GET /teams over HTTPS, {threads} thread(s): {rate:.0f} calls/s")
        finally:
            client.close()
    print("PagerDuty itself allows 960 requests/minute (16/s); the client's default is 900.")


if __name__ == "__main__":
    main()
