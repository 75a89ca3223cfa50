"""Services, incidents and who they page, over HTTPS.

Source for every rule here: ../shared/pagerduty/NOTES.md "Incidents, pages and teams" — an
incident belongs to teams through its escalation policy (and service); whom it paged is in its
notify_log_entry log entries (and assignments); POST /incidents needs a `From` header with a
user's email and a service; a policy used by a service cannot be deleted.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies
from tests.emulator.spec_check import validating_client
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN

DAY = timedelta(days=1)
# A Monday: the daily layer below hands over at 09:00 UTC, ana first.
ANCHOR = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _team(pd: httpx2.Client, name: str) -> str:
    team_id: str = pd.post("/teams", json=bodies.team(name)).json()["team"]["id"]
    return team_id


def _daily_schedule(pd: httpx2.Client, *user_ids: str, **layer_fields: Any) -> str:
    """Daily turns from ANCHOR in UTC (ana, bo, ... in the order given)."""
    body = bodies.schedule(bodies.layer(*user_ids, **layer_fields), time_zone="Etc/UTC")
    response = pd.post("/schedules", json=body)
    assert response.status_code == 200, response.text
    schedule_id: str = response.json()["schedule"]["id"]
    return schedule_id


def _policy(pd: httpx2.Client, *targets: tuple[str, str], team_id: str | None = None) -> str:
    fields: dict[str, Any] = (
        {"teams": [{"id": team_id, "type": "team_reference"}]} if team_id else {}
    )
    response = pd.post("/escalation_policies", json=bodies.policy(*targets, **fields))
    assert response.status_code == 201, response.text
    policy_id: str = response.json()["escalation_policy"]["id"]
    return policy_id


def _service(pd: httpx2.Client, policy_id: str, name: str = "Checkout") -> dict[str, Any]:
    body = {
        "service": {
            "type": "service",
            "name": name,
            "escalation_policy": {"id": policy_id, "type": "escalation_policy_reference"},
        }
    }
    response = pd.post("/services", json=body)
    assert response.status_code == 201, response.text
    service: dict[str, Any] = response.json()["service"]
    return service


def _all(pd: httpx2.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        response = pd.get(path, params={**params, "offset": len(found), "limit": 100})
        assert response.status_code == 200, response.text
        found += response.json()[key]
        if not response.json()["more"]:
            return found


def test_service_lifecycle_and_a_policy_in_use_cannot_be_deleted(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    payments, search = _team(pd, "Payments"), _team(pd, "Search")
    policy_id = _policy(pd, ("user_reference", user_ids["ana"]), team_id=payments)
    service = _service(pd, policy_id)
    assert service["escalation_policy"]["id"] == policy_id
    assert [t["id"] for t in service["teams"]] == [payments]
    assert pd.get(f"/services/{service['id']}").json()["service"]["name"] == "Checkout"
    assert [s["id"] for s in _all(pd, "/services", "services", **{"team_ids[]": payments})] == [
        service["id"]
    ]
    assert _all(pd, "/services", "services", **{"team_ids[]": search}) == []
    policy = pd.get(f"/escalation_policies/{policy_id}").json()["escalation_policy"]
    assert [s["id"] for s in policy["services"]] == [service["id"]]

    refused = pd.delete(f"/escalation_policies/{policy_id}")
    assert refused.status_code == 400
    assert "can't be deleted" in str(refused.json()["error"])
    assert pd.delete(f"/services/{service['id']}").status_code == 204
    assert pd.get(f"/services/{service['id']}").status_code == 404
    assert pd.delete(f"/escalation_policies/{policy_id}").status_code == 204


def test_a_service_needs_a_name_and_an_existing_policy(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    policy_id = _policy(pd, ("user_reference", user_ids["ana"]))

    def service(**fields: Any) -> int:
        body = {
            "type": "service",
            "name": "Checkout",
            "escalation_policy": {"id": policy_id, "type": "escalation_policy_reference"},
            **fields,
        }
        return pd.post("/services", json={"service": body}).status_code

    assert service() == 201
    assert (
        service(escalation_policy={"id": "PNOPE00", "type": "escalation_policy_reference"}) == 400
    )
    assert service(name="") == 400
    assert pd.post("/services", json={"service": {"type": "service"}}).status_code == 400


def _incident_body(service_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "incident": {
            "type": "incident",
            "title": "Checkout is down",
            "service": {"id": service_id, "type": "service_reference"},
            **fields,
        }
    }


def test_post_incident_pages_who_the_first_rule_has_on_call_now(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    ids = user_ids
    schedule_id = _daily_schedule(pd, ids["ana"], ids["bo"], start=_iso(ANCHOR))
    team_id = _team(pd, "Payments")
    policy_id = _policy(
        pd, ("schedule_reference", schedule_id), ("user_reference", ids["cto"]), team_id=team_id
    )
    service = _service(pd, policy_id)
    now = datetime.now(UTC)
    on_call = ids["ana"] if (now - ANCHOR) // DAY % 2 == 0 else ids["bo"]

    assert pd.post("/incidents", json=_incident_body(service["id"])).status_code == 400
    unknown = {"From": "nobody@example.com"}
    assert (
        pd.post("/incidents", json=_incident_body(service["id"]), headers=unknown).status_code
        == 400
    )
    sent = pd.post(
        "/incidents", json=_incident_body(service["id"]), headers={"From": "MGR1@example.com"}
    )
    assert sent.status_code == 201, sent.text
    incident = sent.json()["incident"]
    assert (incident["status"], incident["urgency"]) == ("triggered", "high")
    assert incident["service"]["id"] == service["id"]
    assert incident["escalation_policy"]["id"] == policy_id
    assert [t["id"] for t in incident["teams"]] == [team_id]
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [on_call, ids["cto"]]

    entries = _all(pd, f"/incidents/{incident['id']}/log_entries", "log_entries")
    assert [e["type"] for e in entries] == [
        "trigger_log_entry",
        "assign_log_entry",
        "notify_log_entry",
        "notify_log_entry",
    ]
    assert [u["id"] for u in entries[1]["assignees"]] == [on_call, ids["cto"]]
    assert [e["user"]["id"] for e in entries[2:]] == [on_call, ids["cto"]]
    assert {e["incident"]["id"] for e in entries} == {incident["id"]}


def test_seeded_incidents_page_whoever_the_emulator_renders_at_created_at(
    pd: httpx2.Client, emulator: EmulatorServer, user_ids: dict[str, str]
) -> None:
    ids = user_ids
    # Out of hours only (weekdays 17:00-09:00 UTC and weekends): a restricted layer.
    restrictions = [
        {
            "type": "weekly_restriction",
            "start_time_of_day": "17:00:00",
            "duration_seconds": 16 * 3600,
            "start_day_of_week": day,
        }
        for day in (1, 2, 3, 4)
    ] + [
        {
            "type": "weekly_restriction",
            "start_time_of_day": "17:00:00",
            "duration_seconds": 64 * 3600,
            "start_day_of_week": 5,
        }
    ]
    schedule_id = _daily_schedule(
        pd, ids["ana"], ids["bo"], start=_iso(ANCHOR), restrictions=restrictions
    )
    volunteers = _team(pd, "Out of hours")  # owns no policy
    product = _team(pd, "Payments")
    policy_id = _policy(pd, ("schedule_reference", schedule_id), team_id=product)
    response = pd.post(
        "/_emulator/incidents",
        json={
            "incidents": [
                # Tuesday 2026-01-06 03:00 UTC: Monday's turn (ana) out of hours
                {
                    "escalation_policy_id": policy_id,
                    "created_at": "2026-01-06T03:00:00Z",
                    "urgency": "high",
                    "title": "night",
                },
                # Tuesday 12:00: business hours, nobody on this layer
                {
                    "escalation_policy_id": policy_id,
                    "created_at": "2026-01-06T12:00:00Z",
                    "urgency": "high",
                    "title": "noon",
                },
                # Tuesday 20:00 (+01:00 written): bo's turn, low urgency
                {
                    "escalation_policy_id": policy_id,
                    "created_at": "2026-01-06T21:00:00+01:00",
                    "urgency": "low",
                    "title": "evening",
                },
            ]
        },
    )
    assert response.status_code == 201, response.text
    window = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-31T00:00:00Z"}
    notified = [
        (e["incident"]["summary"], e["user"]["id"], e["created_at"])
        for e in _all(pd, "/log_entries", "log_entries", **window)
        if e["type"] == "notify_log_entry"
    ]
    assert notified == [
        ("night", ids["ana"], "2026-01-06T03:00:00Z"),
        ("evening", ids["bo"], "2026-01-06T20:00:00Z"),
    ]
    incidents = _all(pd, "/incidents", "incidents", **window)
    assert [(i["title"], i["status"], i["assignments"]) for i in incidents] == [
        ("night", "resolved", []),  # the spec: empty once resolved
        ("noon", "resolved", []),
        ("evening", "resolved", []),
    ]
    # The incidents are the product team's (its policy), not the volunteers' who were paged.
    by_team = {"team_ids[]": product, **window}
    assert len(_all(pd, "/incidents", "incidents", **by_team)) == 3
    assert _all(pd, "/incidents", "incidents", **{"team_ids[]": volunteers, **window}) == []
    assert _all(pd, "/log_entries", "log_entries", **{"team_ids[]": volunteers, **window}) == []
    assert len(_all(pd, "/log_entries", "log_entries", **by_team)) == 2 + 1 + 2 * 2
    high = _all(pd, "/incidents", "incidents", **{"urgencies[]": "high", **window})
    assert [i["title"] for i in high] == ["night", "noon"]


def test_log_entries_window_paging_and_included_incidents(
    pd: httpx2.Client, emulator: EmulatorServer, user_ids: dict[str, str]
) -> None:
    policy_id = _policy(pd, ("user_reference", user_ids["ana"]))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    emulator.seed_incidents(
        [
            {
                "escalation_policy_id": policy_id,
                "created_at": _iso(start + i * timedelta(hours=1)),
                "title": f"i{i}",
                "status": "triggered",
            }
            for i in range(40)
        ]
    )  # 40 incidents x (trigger, assign, notify) = 120 log entries
    window = {"since": _iso(start), "until": _iso(start + 2 * DAY)}
    first = pd.get("/log_entries", params={**window, "limit": 500}).json()
    assert (first["limit"], first["more"], len(first["log_entries"])) == (100, True, 100)
    assert len(_all(pd, "/log_entries", "log_entries", **window)) == 120
    one_day = {"since": _iso(start), "until": _iso(start + DAY)}
    assert len(_all(pd, "/log_entries", "log_entries", **one_day)) == 24 * 3  # until exclusive
    # The spec types `incident` as a reference only; with include[] PagerDuty puts the full
    # incident there, so this one answer is read without the spec check.
    with httpx2.Client(
        base_url=emulator.base_url,
        verify=ssl.create_default_context(cafile=str(emulator.ca_file)),
        headers={"Authorization": f"Token token={emulator.token}"},
    ) as unchecked:
        included = unchecked.get(
            "/log_entries", params={**window, "include[]": "incidents", "limit": 3}
        )
    incident = included.json()["log_entries"][2]["incident"]
    assert (incident["type"], incident["urgency"], incident["title"]) == ("incident", "high", "i0")
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [user_ids["ana"]]
    reversed_window = {"since": window["until"], "until": window["since"]}
    assert pd.get("/log_entries", params=reversed_window).status_code == 400
    assert pd.get("/incidents/PNOPE00/log_entries").status_code == 404


def test_incidents_and_log_entries_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with EmulatorServer(TOKEN, users=DEFAULT_USERS, state_file=state) as first:
        with validating_client(first.base_url, TOKEN, str(first.ca_file)) as pd:
            ana = pd.get("/users", params={"query": "ana@"}).json()["users"][0]["id"]
            policy_id = _policy(pd, ("user_reference", ana))
        first.seed_incidents(
            [
                {
                    "escalation_policy_id": policy_id,
                    "created_at": "2026-01-01T00:00:00Z",
                    "title": "x",
                }
            ]
        )
    with EmulatorServer(TOKEN, state_file=state) as second:
        kinds = [e["type"] for e in second.account.log_entries.values()]
        assert kinds == ["trigger_log_entry", "assign_log_entry", "notify_log_entry"]
        assert [i["title"] for i in second.account.incidents.values()] == ["x"]


@pytest.mark.parametrize(
    ("incident", "message"),
    [
        ({"urgency": "meh"}, r"incidents\[0\].urgency"),
        ({"status": "closed"}, r"incidents\[0\].status"),
        ({"created_at": "yesterday"}, r"incidents\[0\].created_at"),
        ({"created_at": "2026-01-01T00:00:00"}, r"incidents\[0\].created_at"),  # no offset
        ({"escalation_policy_id": "PNOPE00"}, r"incidents\[0\].escalation_policy_id"),
        ({"title": ""}, r"incidents\[0\].title"),
    ],
)
def test_bad_incident_seed_is_refused(
    pd: httpx2.Client,
    emulator: EmulatorServer,
    user_ids: dict[str, str],
    incident: dict[str, Any],
    message: str,
) -> None:
    policy_id = _policy(pd, ("user_reference", user_ids["ana"]))
    good = {"title": "x", "created_at": "2026-01-01T00:00:00Z", "escalation_policy_id": policy_id}
    with pytest.raises(ValueError, match=message):
        emulator.seed_incidents([{**good, **incident}])
    assert emulator.account.incidents == {}


def test_an_override_decides_who_is_paged(
    pd: httpx2.Client, emulator: EmulatorServer, user_ids: dict[str, str]
) -> None:
    """NOTES.md "Overrides": overrides show in final_schedule, so they page whom they put on call."""
    ids = user_ids
    schedule_id = _daily_schedule(pd, ids["ana"], start=_iso(ANCHOR))
    policy_id = _policy(pd, ("schedule_reference", schedule_id))
    override = {
        "start": "2026-01-06T00:00:00Z",
        "end": "2026-01-06T06:00:00Z",
        "user": {"id": ids["gus"], "type": "user_reference"},
        "time_zone": "UTC",
    }
    made = pd.post(f"/schedules/{schedule_id}/overrides", json={"overrides": [override]})
    assert made.status_code == 201, made.text
    emulator.seed_incidents(
        [
            {"escalation_policy_id": policy_id, "created_at": at, "title": at}
            for at in ("2026-01-06T03:00:00Z", "2026-01-06T07:00:00Z")
        ]
    )
    window = {"since": "2026-01-06T00:00:00Z", "until": "2026-01-07T00:00:00Z"}
    notified = [
        e["user"]["id"]
        for e in _all(pd, "/log_entries", "log_entries", **window)
        if e["type"] == "notify_log_entry"
    ]
    assert notified == [ids["gus"], ids["ana"]]
