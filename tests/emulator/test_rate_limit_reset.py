"""The emulator as witness of PagerDuty's rate-limit contract, and its network faults.

Source: /work/shared/pagerduty/NOTES.md "Rate limit" and PagerDuty's support docs "REST API rate
limits": over the limit PagerDuty answers 429 with `ratelimit-limit`, `ratelimit-remaining` and
`ratelimit-reset` (the seconds to wait before sending again). PagerDuty just answers 429 again
to a request that comes sooner; the emulator also records it (`early_requests`), so a test can
require that a client honoured every reset.
"""

from __future__ import annotations

import ssl
import time

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies


def test_a_request_before_the_reset_of_a_429_is_recorded_as_early(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.set_rate_limit(2)
    assert [pd.get("/teams").status_code for _ in range(3)] == [200, 200, 429]
    assert emulator.early_requests() == []  # the 429 itself came before any reset
    reset = int(pd.get("/users").headers["ratelimit-reset"])
    early = emulator.early_requests()
    assert [(e["method"], e["path"]) for e in early] == [("GET", "/users")]
    assert 0 < early[0]["early_seconds"] <= reset
    assert emulator.requests()[-1]["status"] == 429  # PagerDuty itself just refuses it again


def test_a_request_after_the_reset_is_not_early(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    # A scripted 429 tells the key to wait its ratelimit-reset like the limit's own 429 does.
    emulator.script_response("GET", "/teams", 429, None, {"ratelimit-reset": "1"})
    assert pd.get("/teams").status_code == 429
    time.sleep(1.05)
    assert pd.get("/teams").status_code == 200
    assert emulator.early_requests() == []
    emulator.script_response("GET", "/teams", 429, None, {"ratelimit-reset": "30"})
    pd.get("/teams")
    pd.get("/users")
    assert [e["path"] for e in emulator.early_requests()] == ["/users"]


def test_the_oncall_lists_own_limit_holds_back_only_the_oncall_list(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.set_rate_limit(100, oncalls=1)
    since = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}
    assert [pd.get("/oncalls", params=since).status_code for _ in range(2)] == [200, 429]
    assert pd.get("/teams").status_code == 200
    assert emulator.early_requests() == []
    pd.get("/oncalls", params=since)
    assert [e["path"].split("?")[0] for e in emulator.early_requests()] == ["/oncalls"]


def test_early_requests_over_http_are_cleared_with_the_log(
    own_pd: httpx2.Client, own_emulator: EmulatorServer
) -> None:
    own_emulator.script_response("GET", "/teams", 429, None, {"ratelimit-reset": "30"})
    own_pd.get("/teams")
    own_pd.get("/teams")
    early = own_pd.get("/_emulator/early_requests").json()
    assert [(e["method"], e["path"]) for e in early] == [("GET", "/teams")]
    assert own_pd.delete("/_emulator/requests").status_code == 204
    assert own_pd.get("/_emulator/early_requests").json() == []
    own_pd.get("/teams")
    assert own_pd.post("/_emulator/reset").status_code == 204
    assert own_emulator.early_requests() == []


def _client(emulator: EmulatorServer, timeout: float) -> httpx2.Client:
    return httpx2.Client(
        base_url=emulator.base_url,
        headers={"Authorization": f"Token token={emulator.token}"},
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
        timeout=timeout,
    )


def test_a_slow_answer_comes_after_the_request_was_carried_out(
    emulator: EmulatorServer, pd: httpx2.Client
) -> None:
    emulator.set_faults(slow_rate=1.0, slow_seconds=1.0)
    with _client(emulator, timeout=0.3) as impatient, pytest.raises(httpx2.ReadTimeout):
        impatient.post("/teams", json=bodies.team("Late"))
    emulator.set_faults()
    # The client never saw the answer, but the team was made: a retry must look before it posts.
    assert [t["name"] for t in pd.get("/teams").json()["teams"]] == ["Late"]


def test_a_dropped_connection_leaves_the_request_carried_out_and_unanswered(
    emulator: EmulatorServer, pd: httpx2.Client
) -> None:
    emulator.set_faults(drop_rate=1.0)
    with _client(emulator, timeout=5) as client, pytest.raises(httpx2.RemoteProtocolError):
        client.post("/teams", json=bodies.team("Dropped"))
    emulator.set_faults()
    assert [t["name"] for t in pd.get("/teams").json()["teams"]] == ["Dropped"]
    first = emulator.requests()[0]
    assert (first["method"], first["status"]) == ("POST", None)


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"slow_rate": 1.5, "slow_seconds": 1.0}, "slow_rate"),
        ({"slow_rate": 0.5}, "slow_seconds"),
        ({"slow_seconds": 61.0}, "slow_seconds"),
        ({"drop_rate": -0.1}, "drop_rate"),
    ],
)
def test_bad_network_faults_are_refused_by_name(
    emulator: EmulatorServer, faults: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        emulator.set_faults(**faults)  # type: ignore[arg-type]


def test_a_shorter_window_frees_its_requests_sooner(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.set_rate_limit(2, window_seconds=1.0)
    assert [pd.get("/teams").status_code for _ in range(3)] == [200, 200, 429]
    assert pd.get("/teams").headers["ratelimit-reset"] == "1"  # early, and told so again
    time.sleep(1.05)
    assert pd.get("/teams").status_code == 200
    with pytest.raises(ValueError, match="window_seconds"):
        emulator.set_rate_limit(2, window_seconds=0.5)
