"""Schedules over HTTPS: create answers 200, rendering is wired in, layer history as PagerDuty keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.emulator import bodies

DAY = timedelta(days=1)
# A fixed winter Monday: Europe/Dublin is on UTC then, so local and UTC times agree.
MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _create(pd: httpx2.Client, *layers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = pd.post("/schedules", json=bodies.schedule(*layers, **fields))
    assert response.status_code == 200, response.text
    schedule: dict[str, Any] = response.json()["schedule"]
    return schedule


def _entries(subschedule: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (e["user"]["id"], e["start"], e["end"]) for e in subschedule["rendered_schedule_entries"]
    ]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_create_answers_200_with_ids_and_references(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    schedule = _create(
        pd,
        bodies.layer(user_ids["ana"], user_ids["bo"], end=None),
        teams=[{"id": team_id, "type": "team_reference"}],
    )
    assert schedule["html_url"] == f"https://emulator.pagerduty.local/schedules/{schedule['id']}"
    (layer,) = schedule["schedule_layers"]
    assert layer["id"] != schedule["id"]
    assert (layer["name"], layer["end"], layer["start"]) == (
        "Layer 1",
        None,
        "2026-01-05T09:00:00+00:00",  # written in the schedule's time zone
    )
    assert [u["user"]["id"] for u in layer["users"]] == [user_ids["ana"], user_ids["bo"]]
    assert [t["id"] for t in schedule["teams"]] == [team_id]
    assert [u["id"] for u in schedule["users"]] == [user_ids["ana"], user_ids["bo"]]
    assert pd.get(f"/schedules/{schedule['id']}").json()["schedule"]["name"] == "Payments primary"


@pytest.mark.parametrize(
    ("fields", "layer_fields", "expected"),
    [
        ({"time_zone": "Mars/Olympus"}, {}, "schedule.time_zone"),
        ({"teams": [{"id": "PNOTEAM", "type": "team_reference"}]}, {}, "schedule.teams"),
        ({}, {"users": [{"user": {"id": "PNOUSER", "type": "user_reference"}}]}, "users"),
        ({}, {"rotation_turn_length_seconds": 0}, "rotation_turn_length_seconds"),
        ({}, {"users": []}, "schedule.schedule_layers[0].users"),
    ],
)
def test_invalid_schedules_are_400(
    pd: httpx2.Client,
    user_ids: dict[str, str],
    fields: dict[str, Any],
    layer_fields: dict[str, Any],
    expected: str,
) -> None:
    body = bodies.schedule(bodies.layer(user_ids["ana"], **layer_fields))
    body["schedule"].update(fields)
    response = pd.post("/schedules", json=body)
    assert response.status_code == 400
    assert any(expected in line for line in response.json()["error"]["errors"])
    assert pd.get("/schedules").json()["schedules"] == []


def test_get_with_since_until_renders_final_and_layer_entries(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    ana, bo, cy = user_ids["ana"], user_ids["bo"], user_ids["cy"]
    business_hours = {
        "type": "daily_restriction",
        "start_time_of_day": "10:00:00",
        "duration_seconds": 3600,
    }
    schedule = _create(pd, bodies.layer(ana, bo), bodies.layer(cy, restrictions=[business_hours]))
    window = {"since": _iso(MONDAY), "until": _iso(MONDAY + 2 * DAY)}
    rendered = pd.get(f"/schedules/{schedule['id']}", params=window).json()["schedule"]
    first, second = rendered["schedule_layers"]
    assert _entries(first) == [
        (ana, "2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00"),
        (bo, "2026-01-06T09:00:00+00:00", "2026-01-07T09:00:00+00:00"),
    ]
    assert [(u, s) for u, s, _ in _entries(second)] == [
        (cy, "2026-01-05T10:00:00+00:00"),
        (cy, "2026-01-06T10:00:00+00:00"),
    ]
    # The later layer wins where it has someone on call.
    assert [u for u, _, _ in _entries(rendered["final_schedule"])] == [ana, cy, ana, bo, cy, bo]
    assert rendered["final_schedule"]["rendered_coverage_percentage"] == 100.0
    without_window = pd.get(f"/schedules/{schedule['id']}").json()["schedule"]
    assert without_window["final_schedule"]["rendered_schedule_entries"] == []


def test_time_zone_and_overflow_parameters(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    schedule = _create(pd, bodies.layer(user_ids["ana"], user_ids["bo"]))
    params = {
        "since": _iso(MONDAY + timedelta(hours=3)),
        "until": _iso(MONDAY + timedelta(hours=4)),
    }
    clipped = pd.get(f"/schedules/{schedule['id']}", params=params).json()["schedule"]
    assert [(s, e) for _, s, e in _entries(clipped["final_schedule"])] == [
        ("2026-01-05T12:00:00+00:00", "2026-01-05T13:00:00+00:00")
    ]
    params |= {"overflow": "true", "time_zone": "America/New_York"}
    whole = pd.get(f"/schedules/{schedule['id']}", params=params).json()["schedule"]
    assert whole["time_zone"] == "America/New_York"
    assert whole["schedule_layers"][0]["start"] == "2026-01-05T04:00:00-05:00"
    assert [(s, e) for _, s, e in _entries(whole["final_schedule"])] == [
        ("2026-01-05T04:00:00-05:00", "2026-01-06T04:00:00-05:00")
    ]
    bad = pd.get(f"/schedules/{schedule['id']}", params={"time_zone": "Nowhere/Land"})
    assert bad.status_code == 400


def test_list_filters_by_query_and_team(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    owned = _create(
        pd,
        bodies.layer(user_ids["ana"]),
        name="Payments primary",
        teams=[{"id": team_id, "type": "team_reference"}],
    )
    _create(pd, bodies.layer(user_ids["ana"]), name="Search primary")
    by_query = pd.get("/schedules", params={"query": "PAYMENTS"}).json()["schedules"]
    by_team = pd.get("/schedules", params={"team_ids[]": team_id}).json()["schedules"]
    assert [s["id"] for s in by_query] == [s["id"] for s in by_team] == [owned["id"]]


def _put(pd: httpx2.Client, schedule_id: str, *layers: dict[str, Any]) -> dict[str, Any]:
    response = pd.put(f"/schedules/{schedule_id}", json=bodies.schedule(*layers))
    assert response.status_code == 200, response.text
    schedule: dict[str, Any] = response.json()["schedule"]
    return schedule


def _as_sent(layer: dict[str, Any]) -> dict[str, Any]:
    readonly = {"rendered_schedule_entries", "rendered_coverage_percentage"}
    return {key: value for key, value in layer.items() if key not in readonly}


def test_update_keeps_ids_resets_start_and_ends_removed_layers(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    ana, bo, cy = user_ids["ana"], user_ids["bo"], user_ids["cy"]
    created = _create(pd, bodies.layer(ana, bo), bodies.layer(cy))
    first, second = created["schedule_layers"]
    before = datetime.now(UTC).replace(microsecond=0)
    updated = _put(
        pd,
        created["id"],
        {**_as_sent(first), "users": [{"user": {"id": bo, "type": "user_reference"}}]},
        bodies.layer(ana, name="Weekend"),
    )
    after = datetime.now(UTC)
    changed, added, removed = updated["schedule_layers"]
    assert changed["id"] == first["id"]
    assert before <= _utc(changed["start"]) <= after  # PagerDuty resets start on update
    assert [u["user"]["id"] for u in changed["users"]] == [bo]
    assert added["id"] not in {first["id"], second["id"]}
    assert (added["name"], added["start"]) == ("Weekend", "2026-01-05T09:00:00+00:00")
    assert removed["id"] == second["id"]
    assert removed["end"] is not None and before <= _utc(removed["end"]) <= after
    # GET keeps returning the ended layer.
    fetched = pd.get(f"/schedules/{created['id']}").json()["schedule"]["schedule_layers"]
    assert [layer["id"] for layer in fetched] == [changed["id"], added["id"], removed["id"]]


def test_unchanged_layer_keeps_its_start(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    created = _create(pd, bodies.layer(user_ids["ana"], user_ids["bo"]))
    (layer,) = created["schedule_layers"]
    (again,) = _put(pd, created["id"], _as_sent(layer))["schedule_layers"]
    assert again == layer


def test_layer_times_are_returned_in_the_schedule_time_zone(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    sent = bodies.layer(user_ids["ana"], start="2026-07-01T08:00:00Z", end="2026-08-01T08:00:00Z")
    sent["rotation_virtual_start"] = "2026-07-01T08:00:00Z"
    (layer,) = _create(pd, sent)["schedule_layers"]
    assert (layer["start"], layer["end"], layer["rotation_virtual_start"]) == (
        "2026-07-01T09:00:00+01:00",
        "2026-08-01T09:00:00+01:00",
        "2026-07-01T09:00:00+01:00",
    )


def test_lowercase_rfc3339_times_are_accepted(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    sent = bodies.layer(user_ids["ana"], start="2026-01-05t09:00:00z")
    (layer,) = _create(pd, sent)["schedule_layers"]
    assert layer["start"] == "2026-01-05T09:00:00+00:00"


def test_end_null_clears_an_end(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    far = "2030-01-01T00:00:00+00:00"
    created = _create(pd, bodies.layer(user_ids["ana"], end=far))
    (layer,) = created["schedule_layers"]
    assert layer["end"] == far
    (cleared,) = _put(pd, created["id"], {**_as_sent(layer), "end": None})["schedule_layers"]
    assert cleared["end"] is None


def test_history_renders_the_old_layer_before_the_update(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    ana, bo = user_ids["ana"], user_ids["bo"]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    month_ago = _iso(today - 30 * DAY)
    created = _create(pd, bodies.layer(ana, start=month_ago, rotation_virtual_start=month_ago))
    (layer,) = created["schedule_layers"]
    _put(pd, created["id"], {**_as_sent(layer), "users": [{"user": {"id": bo, "type": "user"}}]})
    past = {"since": _iso(today - 10 * DAY), "until": _iso(today - 9 * DAY)}
    future = {"since": _iso(today + 9 * DAY), "until": _iso(today + 10 * DAY)}
    for window, expected in ((past, ana), (future, bo)):
        schedule = pd.get(f"/schedules/{created['id']}", params=window).json()["schedule"]
        assert {u for u, _, _ in _entries(schedule["final_schedule"])} == {expected}


def test_update_of_unknown_schedule_is_404(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    response = pd.put("/schedules/PNOSUCH", json=bodies.schedule(bodies.layer(user_ids["ana"])))
    assert response.status_code == 404


def test_delete_and_referential_rules(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    schedule = _create(
        pd, bodies.layer(user_ids["ana"]), teams=[{"id": team_id, "type": "team_reference"}]
    )
    policy = pd.post(
        "/escalation_policies", json=bodies.policy(("schedule_reference", schedule["id"]))
    )
    assert policy.status_code == 201
    refused = pd.delete(f"/schedules/{schedule['id']}")
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"] == [
        "Schedule can't be deleted if it's being used by escalation policies"
    ]
    fetched = pd.get(f"/schedules/{schedule['id']}").json()["schedule"]
    assert [p["id"] for p in fetched["escalation_policies"]] == [
        policy.json()["escalation_policy"]["id"]
    ]
    assert pd.delete(f"/teams/{team_id}").status_code == 400  # the team still owns the schedule
    assert (
        pd.delete(f"/escalation_policies/{policy.json()['escalation_policy']['id']}").status_code
        == 204
    )
    deleted = pd.delete(f"/schedules/{schedule['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert pd.get(f"/schedules/{schedule['id']}").status_code == 404
    assert pd.delete(f"/teams/{team_id}").status_code == 204
