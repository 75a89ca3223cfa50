"""The client honours PagerDuty's rate-limit headers on every thread: nothing is sent before a
429's `ratelimit-reset`, and no more is sent than `ratelimit-remaining` allows (PagerDuty's
"REST API rate limits": parse ratelimit-limit, ratelimit-remaining and ratelimit-reset; after a
429 wait the ratelimit-reset seconds). The emulator is the witness: it records every request
that arrives before a reset its key was told (tests/emulator/test_rate_limit_reset.py)."""

from __future__ import annotations

import concurrent.futures
import ssl
import threading
from collections.abc import Iterator

import httpx2
import pytest

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.ratelimit import AccountQuota
from oncall_testbed.emulator import EmulatorServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_first_request_goes_alone_and_its_answer_lets_the_rest_go() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    second_started = threading.Event()

    def second() -> None:
        quota.start()
        second_started.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not second_started.wait(0.2)  # nobody knows yet how many the account has left
    quota.finish(succeeded=True, remaining=5, reset_seconds=40)
    assert second_started.wait(5)
    waiter.join()
    assert clock.sleeps == []


def test_remaining_less_the_requests_in_flight_is_what_may_start() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish(succeeded=True, remaining=3, reset_seconds=40)
    for _ in range(3):
        quota.start()
    # The first of three answers: 2 remained when it arrived, 2 others are still on their way.
    quota.finish(succeeded=True, remaining=2, reset_seconds=39)
    quota.finish(succeeded=True, remaining=1, reset_seconds=39)
    quota.finish(succeeded=True, remaining=0, reset_seconds=39)
    assert clock.sleeps == []
    quota.start()  # spent: wait for the reset the last answer gave, then ask again
    assert clock.sleeps == [39.0]


def test_an_overtaken_answer_does_not_raise_the_allowance() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish(succeeded=True, remaining=2, reset_seconds=10)
    quota.start()
    quota.start()
    quota.finish(succeeded=True, remaining=1, reset_seconds=10)  # with the other still on its way
    quota.finish(succeeded=True, remaining=0, reset_seconds=10)
    quota.start()
    assert clock.sleeps == [10.0]


def test_an_allowance_spent_while_more_remain_asks_again_at_once() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish(succeeded=True, remaining=1, reset_seconds=50)
    quota.start()
    quota.finish(succeeded=True, remaining=900, reset_seconds=50)  # the window moved on
    quota.start()  # the allowance (1, spent) asks again at once rather than in 50 s
    assert clock.sleeps == []
    quota.finish(succeeded=True, remaining=899, reset_seconds=50)
    for _ in range(100):
        quota.start()
    assert clock.sleeps == []


def test_an_overtaken_answer_saying_one_remains_does_not_send_into_a_spent_window() -> None:
    """Two requests in flight; the later one's answer (none remain) arrives first, the earlier
    one's (one remains) last. The window is spent: the next request waits for the reset."""
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish(succeeded=True, remaining=2, reset_seconds=10)
    quota.start()
    quota.start()
    quota.finish(succeeded=True, remaining=0, reset_seconds=10)  # the second request's answer
    quota.finish(succeeded=True, remaining=1, reset_seconds=10)  # the first's, overtaken
    quota.start()
    assert clock.sleeps == [10.0]


def test_a_429_holds_every_thread_even_those_already_waiting() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish(succeeded=True, remaining=10, reset_seconds=30)
    quota.start()
    quota.finish(rate_limited=True, reset_seconds=12)  # another consumer spent the account's
    assert quota.start() == 12.0
    assert clock.now == 12.0


def test_no_answer_leaves_the_quota_unknown_and_the_next_request_asks_again() -> None:
    clock = FakeClock()
    quota = AccountQuota(clock=clock, sleep=clock.sleep)
    quota.start()
    quota.finish()  # the connection dropped
    quota.start()
    quota.finish(succeeded=True)  # an answer without the headers: PagerDuty says nothing
    for _ in range(50):
        quota.start()
    assert clock.sleeps == []


@pytest.fixture
def throttled(emulator: EmulatorServer) -> Iterator[PagerDutyClient]:
    """A real-time client of an emulator allowing 4 requests per 1-second window."""
    emulator.set_rate_limit(4, window_seconds=1.0)
    client = PagerDutyClient(
        emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file), max_retries=5
    )
    yield client
    client.close()


def test_threads_sharing_a_client_never_go_past_the_remaining(
    throttled: PagerDutyClient, emulator: EmulatorServer
) -> None:
    throttled.user_cache_ttl_seconds = 0.0  # every lookup is a request
    emails = [f"{name}@example.com" for name in ("ana", "bo", "cy", "dee")] * 3
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(throttled.find_user_by_email, emails))
    assert [u["email"] if u else None for u in found] == emails
    assert [r["status"] for r in emulator.requests()] == [200] * 12  # three windows, no 429
    assert emulator.early_requests() == []


def test_after_another_consumer_spent_the_window_every_thread_waits_for_the_reset(
    throttled: PagerDutyClient, emulator: EmulatorServer
) -> None:
    with httpx2.Client(
        base_url=emulator.base_url,
        headers={"Authorization": f"Token token={emulator.token}"},
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
    ) as neighbour:
        assert [neighbour.get("/users").status_code for _ in range(4)] == [200] * 4
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        teams = list(pool.map(lambda _: throttled.find_teams("x"), range(8)))
    assert teams == [[]] * 8
    statuses = [r["status"] for r in emulator.requests()][4:]
    assert statuses[0] == 429  # the client's first request learnt the account was spent
    assert statuses.count(200) == 8
    assert emulator.early_requests() == []
