"""PagerDuty's Advanced Permissions side effects: users of a schedule or escalation policy become
members of that object's teams [PagerDuty knowledge base "Teams", "Team Association Behavior";
shared/pagerduty/NOTES.md "Side effects PagerDuty applies by itself"]."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies
from tests.emulator.spec_check import validating_client
from tests.fixtures.emulator import DEFAULT_USERS, TOKEN


def members(pd: httpx2.Client, team_id: str) -> dict[str, str]:
    listed = pd.get(f"/teams/{team_id}/members").json()["members"]
    return {m["user"]["id"]: m["role"] for m in listed}


def new_team(pd: httpx2.Client, name: str = "Payments") -> str:
    return str(pd.post("/teams", json=bodies.team(name)).json()["team"]["id"])


def test_a_schedules_users_join_its_team_and_keep_their_roles(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    team_id = new_team(pd)
    pd.put(f"/teams/{team_id}/users/{user_ids['ana']}", json={"role": "observer"})
    schedule = bodies.schedule(bodies.layer(user_ids["ana"], user_ids["bo"]))
    schedule["schedule"]["teams"] = [{"id": team_id, "type": "team_reference"}]
    assert pd.post("/schedules", json=schedule).status_code == 200
    assert members(pd, team_id) == {user_ids["ana"]: "observer", user_ids["bo"]: "responder"}


def test_associating_a_team_later_adds_the_schedules_users(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    schedule = bodies.schedule(bodies.layer(user_ids["cy"]))
    made = pd.post("/schedules", json=schedule).json()["schedule"]
    team_id = new_team(pd)
    assert members(pd, team_id) == {}
    schedule["schedule"]["teams"] = [{"id": team_id, "type": "team_reference"}]
    schedule["schedule"]["schedule_layers"][0]["id"] = made["schedule_layers"][0]["id"]
    pd.put(f"/schedules/{made['id']}", json=schedule)
    assert members(pd, team_id) == {user_ids["cy"]: "responder"}


def test_a_policys_user_targets_join_its_team(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    team_id = new_team(pd)
    schedule = pd.post("/schedules", json=bodies.schedule(bodies.layer(user_ids["dee"])))
    policy = bodies.policy(
        ("user_reference", user_ids["cto"]),
        ("schedule_reference", schedule.json()["schedule"]["id"]),
        teams=[{"id": team_id, "type": "team_reference"}],
    )
    assert pd.post("/escalation_policies", json=policy).status_code == 201
    # The schedule's own users join the schedule's teams, not the policy's.
    assert members(pd, team_id) == {user_ids["cto"]: "responder"}


@pytest.fixture
def plain_pd() -> Iterator[httpx2.Client]:
    server = EmulatorServer(TOKEN, users=DEFAULT_USERS, advanced_permissions=False)
    with server, validating_client(server.base_url, TOKEN, str(server.ca_file)) as client:
        yield client


def test_without_advanced_permissions_membership_is_left_alone(plain_pd: httpx2.Client) -> None:
    users = plain_pd.get("/users", params={"limit": 100}).json()["users"]
    ana = next(u["id"] for u in users if u["email"] == "ana@example.com")
    team_id = new_team(plain_pd)
    schedule = bodies.schedule(bodies.layer(ana))
    schedule["schedule"]["teams"] = [{"id": team_id, "type": "team_reference"}]
    plain_pd.post("/schedules", json=schedule)
    assert members(plain_pd, team_id) == {}
