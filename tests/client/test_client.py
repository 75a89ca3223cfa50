"""The operator's PagerDuty client against the emulator over real HTTPS: every operation, every error."""

from __future__ import annotations

import bisect
import concurrent.futures
import datetime as dt
import logging
import pathlib
import threading
import traceback
from collections.abc import Iterator

import pytest

from oncall_operator.pagerduty import (
    Forbidden,
    InUse,
    Invalid,
    NotFound,
    PagerDutyClient,
    PagerDutyError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from oncall_operator.pagerduty.ratelimit import RateLimiter
from oncall_testbed.emulator import EmulatorServer

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


class Recorder:
    """Hooks, clock and sleep: sleeping moves the clock on at once and is remembered."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.requests: list[tuple[str, int | None]] = []
        self.rate_limit_waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def request_done(self, method: str, status: int | None, seconds: float) -> None:
        self.requests.append((method, status))

    def rate_limit_waited(self, seconds: float) -> None:
        self.rate_limit_waits.append(seconds)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(emulator: EmulatorServer, recorder: Recorder) -> Iterator[PagerDutyClient]:
    pd = PagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        hooks=recorder,
        clock=recorder.clock,
        sleep=recorder.sleep,
    )
    yield pd
    pd.close()


def schedule_body(user_id: str, name: str = "Weekly") -> dict[str, object]:
    return {
        "type": "schedule",
        "name": name,
        "time_zone": "Europe/Dublin",
        "schedule_layers": [
            {
                "name": "primary",
                "start": "2026-11-01T00:00:00Z",
                "rotation_virtual_start": "2026-11-02T09:00:00Z",
                "rotation_turn_length_seconds": 604800,
                "users": [{"user": {"id": user_id, "type": "user_reference"}}],
            }
        ],
    }


def policy_body(schedule_id: str) -> dict[str, object]:
    return {
        "type": "escalation_policy",
        "name": "Product alerts",
        "num_loops": 1,
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 15,
                "targets": [{"type": "schedule_reference", "id": schedule_id}],
            }
        ],
    }


def test_users_are_found_by_email_ignoring_case_and_cached(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    user = client.find_user_by_email("ANA@Example.com")
    assert user is not None and user["email"] == "ana@example.com"
    assert client.get_user(user["id"])["email"] == "ana@example.com"
    emulator.clear_requests()
    assert client.find_user_by_email("ana@example.com") == user
    assert client.find_user_by_email("zed@example.com") is None
    assert client.find_user_by_email("zed@example.com") is None
    lookups = [r for r in emulator.requests() if r["path"].startswith("/users?")]
    assert len(lookups) == 1  # ana from the cache; zed asked once, then cached as unknown


def test_a_name_query_match_is_not_an_email_match(client: PagerDutyClient) -> None:
    # "ana" matches Ana Alvarez's name and email partially; only an exact email counts
    assert client.find_user_by_email("ana@example") is None


def test_team_lifecycle_and_memberships(client: PagerDutyClient) -> None:
    team = client.create_team({"type": "team", "name": "Payments", "description": "d"})
    assert client.get_team(team["id"])["name"] == "Payments"
    assert [t["id"] for t in client.find_teams("Payments")] == [team["id"]]
    updated = client.update_team(team["id"], {"type": "team", "name": "Payments EU"})
    assert updated["name"] == "Payments EU"
    ana = client.find_user_by_email("ana@example.com")
    bo = client.find_user_by_email("bo@example.com")
    assert ana and bo
    client.set_team_member(team["id"], ana["id"], "manager")
    client.set_team_member(team["id"], bo["id"], "responder")
    client.set_team_member(team["id"], bo["id"], "observer")
    roles = {m["user"]["id"]: m["role"] for m in client.list_team_members(team["id"])}
    assert roles == {ana["id"]: "manager", bo["id"]: "observer"}
    client.remove_team_member(team["id"], bo["id"])
    assert [m["user"]["id"] for m in client.list_team_members(team["id"])] == [ana["id"]]
    client.delete_team(team["id"])
    with pytest.raises(NotFound):
        client.get_team(team["id"])


def test_lists_follow_every_page(client: PagerDutyClient) -> None:
    for n in range(105):
        client.create_team({"type": "team", "name": f"squad-{n:03}"})
    assert len(client.find_teams("squad-")) == 105


def test_schedule_lifecycle_renders_who_is_on_call(client: PagerDutyClient) -> None:
    ana = client.find_user_by_email("ana@example.com")
    assert ana
    schedule = client.create_schedule(schedule_body(ana["id"]))
    assert [s["id"] for s in client.find_schedules("Weekly")] == [schedule["id"]]
    rendered = client.get_schedule(schedule["id"], since=NOW, until=NOW + dt.timedelta(days=7))
    entries = rendered["final_schedule"]["rendered_schedule_entries"]
    assert {e["user"]["id"] for e in entries} == {ana["id"]}
    body = schedule_body(ana["id"], name="Weekly 2")
    assert client.update_schedule(schedule["id"], body)["name"] == "Weekly 2"
    policy = client.create_escalation_policy(policy_body(schedule["id"]))
    oncalls = client.list_oncalls(
        schedule_ids=[schedule["id"]],
        since=dt.datetime.now(dt.UTC),
        until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    assert [o["user"]["id"] for o in oncalls] == [ana["id"]]
    with pytest.raises(InUse, match="being used by escalation policies"):
        client.delete_schedule(schedule["id"])
    client.delete_escalation_policy(policy["id"])
    client.delete_schedule(schedule["id"])
    with pytest.raises(NotFound):
        client.get_schedule(schedule["id"])


def test_escalation_policy_lifecycle(client: PagerDutyClient) -> None:
    ana = client.find_user_by_email("ana@example.com")
    assert ana
    schedule = client.create_schedule(schedule_body(ana["id"]))
    policy = client.create_escalation_policy(policy_body(schedule["id"]))
    assert client.get_escalation_policy(policy["id"])["num_loops"] == 1
    assert [p["id"] for p in client.find_escalation_policies("Product")] == [policy["id"]]
    changed = client.update_escalation_policy(
        policy["id"], {**policy_body(schedule["id"]), "num_loops": 3}
    )
    assert changed["num_loops"] == 3
    client.delete_escalation_policy(policy["id"])
    with pytest.raises(NotFound):
        client.get_escalation_policy(policy["id"])


def _policy_paging(client: PagerDutyClient, email: str) -> str:
    user = client.find_user_by_email(email)
    assert user is not None
    policy = client.create_escalation_policy(
        {
            "type": "escalation_policy",
            "name": f"Pages {email}",
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 5,
                    "targets": [{"type": "user_reference", "id": user["id"]}],
                }
            ],
        }
    )
    return str(policy["id"])


def test_log_entries_are_read_with_their_incidents(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    policy_id = _policy_paging(client, "ana@example.com")
    emulator.seed_incidents(
        [
            {
                "title": "a",
                "urgency": "high",
                "escalation_policy_id": policy_id,
                "created_at": "2026-11-20T23:00:00Z",
            },
            {
                "title": "b",
                "urgency": "low",
                "escalation_policy_id": policy_id,
                "created_at": "2026-11-21T23:00:00Z",
            },
            {
                "title": "old",
                "escalation_policy_id": policy_id,
                "created_at": "2026-10-01T23:00:00Z",
            },
        ]
    )
    found = client.list_log_entries(since=NOW - dt.timedelta(days=30), until=NOW)
    notified = [
        (e["incident"]["title"], e["incident"]["urgency"], e["user"]["summary"])
        for e in found
        if e["type"] == "notify_log_entry"
    ]
    assert notified == [("a", "high", "Ana Alvarez"), ("b", "low", "Ana Alvarez")]


def test_invalid_input_carries_pagerdutys_errors(client: PagerDutyClient) -> None:
    with pytest.raises(Invalid) as caught:
        client.create_escalation_policy(
            {"type": "escalation_policy", "name": "x", "escalation_rules": []}
        )
    assert caught.value.errors
    assert caught.value.status == 400
    assert "POST escalation_policies" in str(caught.value)


def test_unknown_token_is_unauthorized(emulator: EmulatorServer) -> None:
    client = PagerDutyClient(
        "not-the-token", api_url=emulator.base_url, ca_file=str(emulator.ca_file)
    )
    with pytest.raises(Unauthorized) as caught:
        client.find_teams("x")
    assert "not-the-token" not in str(caught.value) and "oken" in str(caught.value)


def test_forbidden_is_a_kind_of_unauthorized(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    emulator.script_response(
        "GET", "/teams", 403, {"error": {"code": 2010, "message": "Access Denied", "errors": []}}
    )
    with pytest.raises(Forbidden, match="Access Denied"):
        client.find_teams("x")


def test_rate_limit_waits_for_the_reset_then_succeeds(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    emulator.script_response(
        "GET",
        "/teams",
        429,
        {"error": {"message": "Rate Limit Exceeded"}},
        {"ratelimit-reset": "7"},
        times=2,
    )
    assert client.find_teams("x") == []
    assert recorder.sleeps == pytest.approx([7.0, 7.0])
    assert recorder.rate_limit_waits == recorder.sleeps
    assert [s for _, s in recorder.requests] == [429, 429, 200]


def test_a_429_holds_every_later_call_of_the_client_until_the_reset(
    emulator: EmulatorServer, recorder: Recorder
) -> None:
    client = PagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        max_retries=0,
        hooks=recorder,
        clock=recorder.clock,
        sleep=recorder.sleep,
    )
    emulator.script_response("GET", "/teams", 429, None, {"ratelimit-reset": "12"})
    with pytest.raises(RateLimited) as caught:
        client.find_teams("x")
    assert caught.value.reset_seconds == 12.0
    assert recorder.sleeps == []  # no retry allowed: the caller decides when to come back
    assert client.find_schedules("y") == []
    assert recorder.sleeps == pytest.approx([12.0])


@pytest.mark.parametrize(
    ("header", "expected"),
    [({"ratelimit-reset": "2.5"}, 2.5), ({"ratelimit-reset": "soon"}, 1.0)],
)
def test_reset_delay_comes_from_the_header_or_defaults_to_a_second(
    client: PagerDutyClient,
    emulator: EmulatorServer,
    recorder: Recorder,
    header: dict[str, str],
    expected: float,
) -> None:
    emulator.script_response("GET", "/teams", 429, None, header, times=4)
    with pytest.raises(RateLimited) as caught:
        client.find_teams("x")
    assert caught.value.reset_seconds == expected


def test_rate_limit_retries_are_bounded(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    emulator.script_response("GET", "/teams", 429, None, {"ratelimit-reset": "600"}, times=10)
    with pytest.raises(RateLimited) as caught:
        client.find_teams("x")
    assert caught.value.reset_seconds == 60.0  # capped, so no call waits for minutes
    assert len(recorder.requests) == 4  # one try and three retries
    assert len(emulator.requests()) == 4  # the library's own unbounded 429 retry is off
    assert len(recorder.sleeps) == 3 and max(recorder.sleeps) < 61.0


def test_server_errors_are_retried_then_unavailable(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    emulator.script_response("GET", "/teams", 503, None, times=10)
    with pytest.raises(Unavailable, match="503"):
        client.find_teams("x")
    assert recorder.sleeps == [1.0, 2.0, 4.0]


def test_a_transient_server_error_is_absorbed(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    emulator.script_response("GET", "/teams", 500, None, times=1)
    assert client.find_teams("x") == []
    assert [s for _, s in recorder.requests] == [500, 200]


def test_unreachable_pagerduty_is_unavailable(emulator: EmulatorServer, recorder: Recorder) -> None:
    client = PagerDutyClient(
        "t",
        api_url="https://127.0.0.1:9",
        ca_file=str(emulator.ca_file),
        sleep=recorder.sleep,
        max_retries=1,
    )
    with pytest.raises(Unavailable, match="could not be reached"):
        client.find_teams("x")


def test_plain_http_is_refused() -> None:
    with pytest.raises(ValueError, match="not usable"):
        PagerDutyClient("t", api_url="http://127.0.0.1:1")


def test_the_token_never_shows(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture, recorder: Recorder
) -> None:
    secret = "s3cr3t-token-value-4242"
    caplog.set_level(logging.DEBUG)
    client = PagerDutyClient(
        secret, api_url=emulator.base_url, ca_file=str(emulator.ca_file), sleep=recorder.sleep
    )
    with pytest.raises(PagerDutyError) as caught:
        client.find_teams("x")
    emulator.script_response("GET", "/teams", 503, None, times=5)
    with pytest.raises(PagerDutyError) as caught_again:
        client.find_teams("y")
    shown = [
        repr(client),
        str(client),
        str(caught.value),
        repr(caught.value),
        str(caught_again.value),
        "".join(traceback.format_exception(caught.value)),  # chained causes included
        "".join(traceback.format_exception(caught_again.value)),
    ]
    shown += [r.getMessage() for r in caplog.records]
    for text in shown:
        assert secret not in text and secret[-4:] not in text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "PAGERDUTY_API_TOKEN is not set"),
        (
            {"PAGERDUTY_API_TOKEN": "t", "PAGERDUTY_RATE_LIMIT": "fast"},
            "PAGERDUTY_RATE_LIMIT='fast'",
        ),
        ({"PAGERDUTY_API_TOKEN": "t", "PAGERDUTY_RATE_LIMIT": "1"}, "at least 2"),
        ({"PAGERDUTY_API_TOKEN": " "}, "PAGERDUTY_API_TOKEN is not set"),
    ],
)
def test_from_env_errors_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PagerDutyClient.from_env(environ)


def test_from_env_reads_url_ca_and_rate(emulator: EmulatorServer) -> None:
    client = PagerDutyClient.from_env(
        {
            "PAGERDUTY_API_TOKEN": emulator.token,
            "PAGERDUTY_API_URL": emulator.base_url,
            "PAGERDUTY_CA_FILE": str(emulator.ca_file),
            "PAGERDUTY_RATE_LIMIT": "120",
        }
    )
    assert client.find_teams("nothing") == []
    assert client.api_url == emulator.base_url


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(62, burst=2, clock=clock, sleep=clock.sleep)  # refills 1 a second
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 1.0, 1.0]
    assert clock.now == 2.0


@pytest.mark.parametrize(("per_minute", "burst"), [(900, None), (960, None), (120, 30), (2, 1)])
def test_rate_limiter_never_starts_more_than_its_rate_in_any_minute(
    per_minute: int, burst: int | None
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute, burst=burst, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3 * per_minute):
        limiter.acquire()
        starts.append(clock.now)
    busiest = max(bisect.bisect_right(starts, t + 60.0 + 1e-9) - i for i, t in enumerate(starts))
    assert busiest <= per_minute
    assert busiest >= per_minute - 1  # and it is not needlessly slow


def test_rate_limiter_gives_concurrent_callers_distinct_slots() -> None:
    limiter = RateLimiter(62, burst=2, clock=lambda: 0.0, sleep=lambda _: None)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        waited = limiter.acquire()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0.0, 0.0, *[float(n) for n in range(1, 39)]]


@pytest.mark.parametrize(("per_minute", "burst"), [(1, None), (60, 60), (60, 0)])
def test_rate_limiter_refuses_settings_it_cannot_honour(per_minute: int, burst: int | None) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(per_minute, burst=burst)


def test_cached_users_expire_after_the_ttl_and_misses_sooner(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    def lookups() -> int:
        return len([r for r in emulator.requests() if r["path"].startswith("/users?")])

    assert client.find_user_by_email("ana@example.com") is not None
    assert client.find_user_by_email("zed@example.com") is None
    recorder.now += 29.0
    client.find_user_by_email("ana@example.com")
    client.find_user_by_email("zed@example.com")
    assert lookups() == 2
    recorder.now += 2.0  # a miss is kept 30 s: a new person may be invited any time
    assert client.find_user_by_email("zed@example.com") is None
    client.find_user_by_email("ana@example.com")
    assert lookups() == 3
    recorder.now += 270.0  # a hit is kept user_cache_ttl_seconds (300)
    assert client.find_user_by_email("ANA@example.com") is not None
    assert lookups() == 4


def test_a_team_that_owns_a_policy_is_in_use(client: PagerDutyClient) -> None:
    team = client.create_team({"type": "team", "name": "Owners"})
    ana = client.find_user_by_email("ana@example.com")
    assert ana
    schedule = client.create_schedule(schedule_body(ana["id"]))
    policy = client.create_escalation_policy(
        {**policy_body(schedule["id"]), "teams": [{"id": team["id"], "type": "team_reference"}]}
    )
    with pytest.raises(InUse, match="can't be deleted") as caught:
        client.delete_team(team["id"])
    assert caught.value.status == 400 and caught.value.method == "DELETE"
    client.delete_escalation_policy(policy["id"])
    client.delete_team(team["id"])


@pytest.mark.parametrize(
    ("status", "body", "error_type", "shown"),
    [
        (400, {"error": {"message": "Invalid Input Provided", "errors": ["Name is taken"]}},
         Invalid, "Invalid Input Provided: Name is taken"),
        (400, {"error": {"message": "Escalation policy is in use by one or more services"}},
         InUse, "in use by one or more services"),
        (402, {"error": {"message": "Payment Required"}}, Invalid, "Payment Required"),
        (404, {"error": {"code": 2100, "message": "Not Found"}}, NotFound, "Not Found"),
        (401, {"error": {"message": "Unauthorized"}}, Unauthorized, "401"),
        (403, {"error": {"message": "Access Denied"}}, Forbidden, "Access Denied"),
        (502, None, Unavailable, "502"),
        (429, {"error": {"message": "Rate Limit Exceeded"}}, RateLimited, "rate limited"),
    ],
)  # fmt: skip
def test_every_error_status_maps_to_our_type_with_method_path_and_message(
    client: PagerDutyClient,
    emulator: EmulatorServer,
    status: int,
    body: dict[str, object] | None,
    error_type: type[PagerDutyError],
    shown: str,
) -> None:
    path = "/escalation_policies/PXYZ123"
    emulator.script_response("DELETE", path, status, body, {"ratelimit-reset": "1"}, times=5)
    with pytest.raises(PagerDutyError) as caught:
        client.delete_escalation_policy("PXYZ123")
    assert type(caught.value) is error_type
    assert caught.value.status == status
    assert str(caught.value).startswith("DELETE escalation_policies/PXYZ123: ")
    assert shown in str(caught.value)


def test_invalid_keeps_pagerdutys_errors_list(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    errors = ["Name has already been taken", "Time zone is invalid"]
    emulator.script_response(
        "POST",
        "/schedules",
        400,
        {"error": {"message": "Invalid Input Provided", "errors": errors}},
    )
    with pytest.raises(Invalid) as caught:
        client.create_schedule(schedule_body("PUSER01"))
    assert caught.value.errors == errors


def test_a_slow_answer_times_out_as_unavailable(
    emulator: EmulatorServer, recorder: Recorder
) -> None:
    client = PagerDutyClient(
        emulator.token,
        api_url=emulator.base_url,
        ca_file=str(emulator.ca_file),
        timeout_seconds=0.2,
        max_retries=1,
        hooks=recorder,
        clock=recorder.clock,
        sleep=recorder.sleep,
    )
    emulator.set_faults(latency_seconds=1.0)  # five times the timeout
    with pytest.raises(Unavailable, match="ReadTimeout") as caught:
        client.find_teams("x")
    assert "after 2 attempts" in str(caught.value)
    assert recorder.requests == [("GET", None), ("GET", None)]
    assert recorder.sleeps == [1.0]


def test_a_missing_ca_file_is_named(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match=r"CA file '.*nope\.pem' cannot be loaded"):
        PagerDutyClient("t", api_url="https://127.0.0.1:1", ca_file=str(tmp_path / "nope.pem"))


def test_an_unknown_ca_is_not_trusted(emulator: EmulatorServer, recorder: Recorder) -> None:
    client = PagerDutyClient(
        emulator.token, api_url=emulator.base_url, max_retries=0, sleep=recorder.sleep
    )
    with pytest.raises(Unavailable, match="could not be reached"):
        client.find_teams("x")


def test_the_emulators_own_rate_limit_surfaces_as_rate_limited_with_its_reset(
    client: PagerDutyClient, emulator: EmulatorServer, recorder: Recorder
) -> None:
    emulator.set_rate_limit(3)
    for _ in range(3):
        client.find_teams("x")
    with pytest.raises(RateLimited) as caught:
        client.find_teams("x")
    assert 1.0 <= caught.value.reset_seconds <= 60.0
    assert [s for _, s in recorder.requests] == [200, 200, 200, 429, 429, 429, 429]
    assert recorder.rate_limit_waits[-3:] == pytest.approx([caught.value.reset_seconds] * 3, abs=1)


def test_threads_share_one_client(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    emails = [f"{name}@example.com" for name in ("ana", "bo", "cy", "dee", "eli", "fay", "gus")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=7) as pool:
        found = list(pool.map(client.find_user_by_email, emails * 3))
    assert [u["email"] for u in found if u] == emails * 3
    # Only this test's lookups: an earlier test's slow request may still be logged late.
    mine = [r for r in emulator.requests() if r["path"].startswith("/users")]
    assert len(mine) >= 7 and all(r["status"] == 200 for r in mine)


def test_log_entries_are_read_past_the_first_page(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    policy_id = _policy_paging(client, "bo@example.com")
    created = "2026-11-20T23:00:00Z"
    emulator.seed_incidents(
        [
            {"title": f"i{n}", "escalation_policy_id": policy_id, "created_at": created}
            for n in range(50)
        ]
    )  # 150 log entries: trigger, assign, notify each
    emulator.clear_requests()
    found = client.list_log_entries(since=NOW - dt.timedelta(days=7), until=NOW)
    assert len(found) == 150
    assert sorted(
        e["incident"]["title"] for e in found if e["type"] == "notify_log_entry"
    ) == sorted(f"i{n}" for n in range(50))
    pages = [r for r in emulator.requests() if r["path"].startswith("/log_entries?")]
    assert len(pages) == 2
