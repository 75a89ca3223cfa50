"""Schedule overrides as NOTES.md "Overrides" and the spec's /schedules/{id}/overrides describe them:
{start, end, user} with no description, the last created winning, shown in final_schedule,
overrides_subschedule and /oncalls but never in the layers; past ones cannot be deleted, one in
progress is truncated to now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies
from tests.emulator.spec_check import validating_client
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN

# The layer: daily turns from Monday 2026-01-05 09:00 UTC (Dublin is on UTC in January), ana then bo.
MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)
NOW = MONDAY + timedelta(days=2)  # Wednesday 09:00: the emulator's clock in these tests
HOUR = timedelta(hours=1)


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def clocked() -> Iterator[EmulatorServer]:
    with EmulatorServer(TOKEN, users=DEFAULT_USERS, clock=lambda: NOW) as server:
        yield server


@pytest.fixture
def api(clocked: EmulatorServer) -> Iterator[httpx2.Client]:
    with validating_client(clocked.base_url, TOKEN, str(clocked.ca_file)) as client:
        yield client


@pytest.fixture
def users(api: httpx2.Client) -> dict[str, str]:
    found = api.get("/users", params={"limit": 100}).json()["users"]
    return {u["email"].split("@")[0]: u["id"] for u in found}


@pytest.fixture
def schedule_id(api: httpx2.Client, users: dict[str, str]) -> str:
    body = bodies.schedule(bodies.layer(users["ana"], users["bo"], end=None))
    created = api.post("/schedules", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["schedule"]["id"])


def _override(user_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "start": _iso(start),
        "end": _iso(end),
        "user": {"id": user_id, "type": "user_reference"},
        "time_zone": "UTC",
    }


def _create(api: httpx2.Client, schedule_id: str, *overrides: dict[str, Any]) -> list[Any]:
    response = api.post(f"/schedules/{schedule_id}/overrides", json={"overrides": list(overrides)})
    assert response.status_code == 201, response.text
    results: list[Any] = response.json()
    return results


def _final(api: httpx2.Client, schedule_id: str, since: datetime, until: datetime) -> Any:
    params = {"since": _iso(since), "until": _iso(until), "time_zone": "UTC"}
    return api.get(f"/schedules/{schedule_id}", params=params).json()["schedule"]


def _entries(subschedule: dict[str, Any]) -> list[tuple[str, datetime, datetime]]:
    return [
        (e["user"]["id"], _utc(e["start"]), _utc(e["end"]))
        for e in subschedule["rendered_schedule_entries"]
    ]


def test_overrides_show_in_final_schedule_and_overrides_subschedule_not_in_layers(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    thursday = MONDAY + timedelta(days=3)  # ana's turn (turns: ana Mon, bo Tue, ana Wed, bo Thu)
    start, end = thursday + 3 * HOUR, thursday + 5 * HOUR
    (result,) = _create(api, schedule_id, _override(users["cy"], start, end))
    assert result["status"] == 201
    assert set(result["override"]) >= {"id", "start", "end", "user"}
    assert "description" not in result["override"]

    schedule = _final(api, schedule_id, thursday, thursday + 12 * HOUR)
    assert _entries(schedule["final_schedule"]) == [
        (users["bo"], thursday, start),
        (users["cy"], start, end),
        (users["bo"], end, thursday + 12 * HOUR),
    ]
    assert _entries(schedule["overrides_subschedule"]) == [(users["cy"], start, end)]
    (layer,) = schedule["schedule_layers"]
    assert _entries(layer) == [(users["bo"], thursday, thursday + 12 * HOUR)]


def test_the_override_created_last_wins_where_overrides_overlap(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    day = MONDAY + timedelta(days=3)
    _create(api, schedule_id, _override(users["cy"], day, day + 4 * HOUR))
    _create(api, schedule_id, _override(users["dee"], day + 2 * HOUR, day + 6 * HOUR))
    schedule = _final(api, schedule_id, day, day + 8 * HOUR)
    assert _entries(schedule["final_schedule"]) == [
        (users["cy"], day, day + 2 * HOUR),
        (users["dee"], day + 2 * HOUR, day + 6 * HOUR),
        (users["bo"], day + 6 * HOUR, day + 8 * HOUR),
    ]


def test_list_needs_since_and_until_and_cuts_at_the_bounds_unless_overflow(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    day = MONDAY + timedelta(days=3)
    (created,) = _create(api, schedule_id, _override(users["cy"], day, day + 10 * HOUR))
    path = f"/schedules/{schedule_id}/overrides"
    assert api.get(path).status_code == 400
    window = {"since": _iso(day + 2 * HOUR), "until": _iso(day + 4 * HOUR)}
    (cut,) = api.get(path, params=window).json()["overrides"]
    assert (cut["id"], _utc(cut["start"]), _utc(cut["end"])) == (
        created["override"]["id"],
        day + 2 * HOUR,
        day + 4 * HOUR,
    )
    (whole,) = api.get(path, params={**window, "overflow": "true"}).json()["overrides"]
    assert (_utc(whole["start"]), _utc(whole["end"])) == (day, day + 10 * HOUR)
    after = {"since": _iso(day + 11 * HOUR), "until": _iso(day + 20 * HOUR)}
    assert api.get(path, params=after).json()["overrides"] == []


def test_each_item_answers_its_own_status(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    good = _override(users["cy"], NOW + HOUR, NOW + 2 * HOUR)
    backwards = _override(users["cy"], NOW + 2 * HOUR, NOW + HOUR)
    nobody = _override("PNOUSER", NOW + HOUR, NOW + 2 * HOUR)
    results = _create(api, schedule_id, good, backwards, nobody)
    assert [r["status"] for r in results] == [201, 400, 400]
    assert "end" in results[1]["errors"][0]
    assert "user" in results[2]["errors"][0]
    missing_user = {"start": _iso(NOW), "end": _iso(NOW + HOUR)}
    refused = api.post(f"/schedules/{schedule_id}/overrides", json={"overrides": [missing_user]})
    assert refused.status_code == 400
    assert api.post("/schedules/PNOSUCH/overrides", json={"overrides": [good]}).status_code == 404


def test_delete_removes_a_future_override_truncates_one_in_progress_and_refuses_a_past_one(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    (past, current, future) = _create(
        api,
        schedule_id,
        _override(users["cy"], NOW - 5 * HOUR, NOW - 4 * HOUR),
        _override(users["dee"], NOW - HOUR, NOW + HOUR),
        _override(users["eli"], NOW + 2 * HOUR, NOW + 3 * HOUR),
    )
    path = f"/schedules/{schedule_id}/overrides"
    assert api.delete(f"{path}/{future['override']['id']}").status_code == 204
    assert api.delete(f"{path}/{current['override']['id']}").status_code == 200
    assert api.delete(f"{path}/{past['override']['id']}").status_code == 400
    assert api.delete(f"{path}/QNOSUCHOVERRIDE").status_code == 404
    params = {"since": _iso(NOW - 6 * HOUR), "until": _iso(NOW + 6 * HOUR)}
    left = api.get(path, params=params).json()["overrides"]
    assert [(o["user"]["id"], _utc(o["start"]), _utc(o["end"])) for o in left] == [
        (users["cy"], NOW - 5 * HOUR, NOW - 4 * HOUR),
        (users["dee"], NOW - HOUR, NOW),
    ]


def test_oncalls_include_overrides(
    api: httpx2.Client, users: dict[str, str], schedule_id: str
) -> None:
    policy = {
        "escalation_policy": {
            "type": "escalation_policy",
            "name": "Payments",
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 30,
                    "targets": [{"id": schedule_id, "type": "schedule_reference"}],
                }
            ],
        }
    }
    assert api.post("/escalation_policies", json=policy).status_code == 201
    _create(api, schedule_id, _override(users["cy"], NOW + HOUR, NOW + 2 * HOUR))
    params = {"since": _iso(NOW + HOUR), "until": _iso(NOW + 2 * HOUR)}
    (oncall,) = api.get("/oncalls", params=params).json()["oncalls"]
    assert oncall["user"]["id"] == users["cy"]
    assert (_utc(oncall["start"]), _utc(oncall["end"])) == (NOW + HOUR, NOW + 2 * HOUR)
