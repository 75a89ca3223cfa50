"""Rate limit, fault injection, scripted responses, the request log and the /_emulator/ endpoints."""

from __future__ import annotations

import json
import ssl

import httpx2
import pytest
from aiohttp import web

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies


def test_ratelimit_headers_on_every_response(pd: httpx2.Client) -> None:
    first = pd.get("/users")
    second = pd.get("/users")
    assert first.headers["ratelimit-limit"] == "960"
    assert (
        int(first.headers["ratelimit-remaining"]) == int(second.headers["ratelimit-remaining"]) + 1
    )
    assert 0 <= int(second.headers["ratelimit-reset"]) <= 60


def test_over_the_limit_is_429_with_reset(pd: httpx2.Client, emulator: EmulatorServer) -> None:
    emulator.set_rate_limit(3)
    statuses = [pd.get("/teams").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = pd.get("/teams")
    assert limited.json()["error"] == {"code": 2020, "message": "Rate Limit Exceeded"}
    assert limited.headers["ratelimit-limit"] == "3"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(limited.headers["ratelimit-reset"]) <= 60
    assert "retry-after" not in limited.headers  # PagerDuty documents none


def test_error_rate_one_fails_every_request(pd: httpx2.Client, emulator: EmulatorServer) -> None:
    emulator.set_faults(error_rate=1.0, error_status=503)
    assert [pd.get("/users").status_code for _ in range(3)] == [503, 503, 503]
    emulator.set_faults()
    assert pd.get("/users").status_code == 200


def test_latency_is_accepted_and_requests_still_succeed(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.set_faults(latency_seconds=0.01)
    assert pd.get("/users").status_code == 200


@pytest.mark.parametrize(
    "faults",
    [{"error_rate": 1.5}, {"latency_seconds": -1.0}, {"error_status": 200}],
)
def test_bad_faults_are_refused(emulator: EmulatorServer, faults: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        emulator.set_faults(**faults)  # type: ignore[arg-type]


def test_scripted_responses_answer_the_given_times(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.script_response("GET", "/teams", 429, headers={"ratelimit-reset": "7"}, times=2)
    emulator.script_response("POST", "/teams", 500)
    first, second, third = (pd.get("/teams") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["ratelimit-reset"] == "7"
    assert first.headers["ratelimit-limit"] == "960"  # the rest as on any response
    assert pd.post("/teams", json=bodies.team()).status_code == 500
    assert pd.post("/teams", json=bodies.team()).status_code == 201


def test_scripted_body(pd: httpx2.Client, emulator: EmulatorServer) -> None:
    emulator.script_response(
        "GET",
        "/users?query=ana%40",
        200,
        body={"users": [], "limit": 25, "offset": 0, "more": False},
    )
    assert pd.get("/users", params={"query": "ana@"}).json()["users"] == []
    assert len(pd.get("/users", params={"query": "ana@"}).json()["users"]) == 1


def test_request_log(pd: httpx2.Client, emulator: EmulatorServer) -> None:
    pd.get("/users", params={"query": "bo"})
    pd.post("/teams", json=bodies.team())
    pd.get("/teams/PNOSUCH")
    log = emulator.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", "/users?query=bo", 200),
        ("POST", "/teams", 201),
        ("GET", "/teams/PNOSUCH", 404),
    ]
    assert all(e["time"].endswith("+00:00") for e in log)
    over_http = pd.get("/_emulator/requests").json()
    assert [e["path"] for e in over_http] == [e["path"] for e in log]  # admin calls not logged
    emulator.clear_requests()
    assert emulator.requests() == []


def test_reset_keeps_users_only(pd: httpx2.Client, emulator: EmulatorServer) -> None:
    pd.post("/teams", json=bodies.team())
    emulator.set_faults(error_rate=0.5)
    emulator.set_rate_limit(5)
    emulator.script_response("GET", "/teams", 500)
    emulator.reset()
    teams = pd.get("/teams")
    assert (teams.json()["teams"], teams.headers["ratelimit-limit"]) == ([], "960")
    assert len(pd.get("/users", params={"limit": 100}).json()["users"]) == 10
    assert [e["path"] for e in emulator.requests()] == ["/teams", "/users?limit=100"]


def test_admin_endpoints_over_http(own_pd: httpx2.Client, own_emulator: EmulatorServer) -> None:
    seeded = own_pd.post(
        "/_emulator/users",
        json={"users": [{"name": "Zed", "email": "zed@example.com", "time_zone": "UTC"}]},
    )
    assert seeded.status_code == 201
    assert own_pd.get("/users", params={"query": "zed@"}).json()["users"][0]["name"] == "Zed"
    ana = own_pd.get("/users", params={"query": "ana@"}).json()["users"][0]["id"]
    policy = bodies.policy(("user_reference", ana))
    policy_id = own_pd.post("/escalation_policies", json=policy).json()["escalation_policy"]["id"]
    incident = {
        "title": "t",
        "created_at": "2026-01-01T00:00:00Z",
        "escalation_policy_id": policy_id,
    }
    assert own_pd.post("/_emulator/incidents", json={"incidents": [incident]}).status_code == 201
    assert own_pd.put("/_emulator/rate_limit", json={"requests_per_minute": 5}).status_code == 204
    assert own_pd.get("/users").headers["ratelimit-limit"] == "5"
    script = {"method": "get", "path": "/teams", "status": 502}
    assert own_pd.post("/_emulator/scripts", json=script).status_code == 204
    assert own_pd.get("/teams").status_code == 502
    assert own_pd.put("/_emulator/faults", json={"error_rate": 2}).status_code == 400
    assert own_pd.put("/_emulator/rate_limit", json={}).status_code == 400
    assert own_pd.delete("/_emulator/requests").status_code == 204
    assert own_pd.get("/_emulator/requests").json() == []
    assert own_pd.post("/_emulator/reset").status_code == 204
    assert own_pd.get("/incidents", params={"date_range": "all"}).json()["incidents"] == []
    unauthenticated = httpx2.get(
        f"{own_emulator.base_url}/_emulator/requests",
        verify=ssl.create_default_context(cafile=str(own_emulator.ca_file)),
    )
    assert unauthenticated.status_code == 401


def test_unknown_paths_are_404_in_pagerduty_form(pd: httpx2.Client) -> None:
    response = pd.get("/business_services")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 2100


def test_the_token_never_appears_in_the_repr(emulator: EmulatorServer) -> None:
    assert emulator.token not in repr(emulator)


async def test_a_failing_handler_answers_a_pagerduty_style_500() -> None:
    from aiohttp.test_utils import make_mocked_request

    from oncall_testbed.emulator.control import _handled

    async def broken(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("bug")

    response = await _handled(
        make_mocked_request("GET", "/teams"), broken, {"ratelimit-limit": "1"}
    )
    assert isinstance(response, web.Response) and response.body is not None
    assert (response.status, response.headers["ratelimit-limit"]) == (500, "1")
    assert json.loads(bytes(response.body)) == {"error": {"message": "Internal Server Error"}}


def test_a_rotated_token_refuses_the_old_one_until_reset(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    # A deleted key is refused with 401 (NOTES.md: "Statuses 400, 401, ..."; errors.py code 2006).
    original = emulator.token
    emulator.set_token("rotated-token")
    refused = pd.get("/teams")
    with httpx2.Client(
        base_url=emulator.base_url,
        headers={"Authorization": "Token token=rotated-token"},
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
    ) as rotated:
        accepted = rotated.get("/teams")
    emulator.reset()

    assert (refused.status_code, accepted.status_code) == (401, 200)
    assert emulator.token == original
    assert pd.get("/teams").status_code == 200


def test_token_endpoint_rotates_the_key_over_http(
    own_pd: httpx2.Client, own_emulator: EmulatorServer
) -> None:
    assert own_pd.put("/_emulator/token", json={"token": ""}).status_code == 400
    assert own_pd.put("/_emulator/token", json={"token": "next"}).status_code == 204
    assert own_pd.get("/teams").status_code == 401
    assert own_pd.get("/_emulator/requests").status_code == 401, "admin needs the new key too"
    own_pd.headers["Authorization"] = "Token token=next"
    assert own_pd.get("/teams").status_code == 200
