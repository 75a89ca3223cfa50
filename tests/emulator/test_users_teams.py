"""Users, teams and team members over HTTPS, every response checked against the spec."""

from __future__ import annotations

import re
import ssl

import httpx2
import pytest

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies
from tests.emulator.spec_check import check_httpx_response
from tests.fixtures.emulator import DEFAULT_USERS

PAGERDUTY_ID = re.compile(r"^P[A-Z0-9]{6}$")


def test_requests_without_the_token_are_401(emulator: EmulatorServer) -> None:
    for headers in ({}, {"Authorization": "Token token=wrong"}, {"Authorization": "test-token"}):
        response = httpx2.get(
            f"{emulator.base_url}/users", headers=headers, verify=_context(emulator)
        )
        check_httpx_response(response)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == 2006


def _context(emulator: EmulatorServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(emulator.ca_file))


def test_users_are_seeded_with_pagerduty_ids_and_html_urls(pd: httpx2.Client) -> None:
    body = pd.get("/users", params={"limit": 100}).json()
    assert [u["email"] for u in body["users"]] == [u["email"] for u in DEFAULT_USERS]
    for user in body["users"]:
        assert PAGERDUTY_ID.match(user["id"])
        assert user["html_url"] == f"https://emulator.pagerduty.local/users/{user['id']}"
        assert user["time_zone"] == "Europe/Dublin"
    assert (body["offset"], body["limit"], body["more"], body["total"]) == (0, 100, False, None)


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ("ana@example.com", ["ana@example.com"]),
        ("ANA@EXAMPLE.COM", ["ana@example.com"]),
        ("Manager", ["mgr1@example.com", "mgr2@example.com"]),
        ("nobody", []),
    ],
)
def test_user_query_matches_names_and_emails(
    pd: httpx2.Client, query: str, emails: list[str]
) -> None:
    users = pd.get("/users", params={"query": query}).json()["users"]
    assert [u["email"] for u in users] == emails


def test_get_user_and_404(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    user = pd.get(f"/users/{user_ids['bo']}").json()["user"]
    assert (user["name"], user["email"]) == ("Bo Berg", "bo@example.com")
    response = pd.get("/users/PNOSUCH")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": 2100, "message": "Not Found"}}


def test_pagination_pages_and_total(pd: httpx2.Client) -> None:
    first = pd.get("/users", params={"limit": 4, "total": "true"}).json()
    last = pd.get("/users", params={"limit": 4, "offset": 8}).json()
    assert (len(first["users"]), first["more"], first["total"]) == (4, True, 10)
    assert (len(last["users"]), last["more"], last["total"]) == (2, False, None)


@pytest.mark.parametrize(
    ("offset", "limit", "status"),
    [(9900, 100, 200), (9901, 100, 400), (10000, 1, 400), (0, "many", 400), (-1, 10, 400)],
)
def test_offset_pagination_cap(pd: httpx2.Client, offset: int, limit: object, status: int) -> None:
    response = pd.get("/teams", params={"offset": offset, "limit": limit})
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"]["message"] == "Invalid Input Provided"


def test_limit_is_capped_at_100(pd: httpx2.Client) -> None:
    assert pd.get("/users", params={"limit": 500}).json()["limit"] == 100


def test_team_lifecycle(pd: httpx2.Client) -> None:
    created = pd.post("/teams", json=bodies.team("Payments", description="Money"))
    assert created.status_code == 201
    team = created.json()["team"]
    assert PAGERDUTY_ID.match(team["id"])
    assert team["html_url"] == f"https://emulator.pagerduty.local/teams/{team['id']}"
    assert (team["name"], team["description"]) == ("Payments", "Money")
    pd.post("/teams", json=bodies.team("Search"))
    names = [t["name"] for t in pd.get("/teams", params={"query": "pay"}).json()["teams"]]
    assert names == ["Payments"]
    updated = pd.put(f"/teams/{team['id']}", json=bodies.team("Payments EU"))
    assert (updated.status_code, updated.json()["team"]["name"]) == (200, "Payments EU")
    assert pd.get(f"/teams/{team['id']}").json()["team"]["name"] == "Payments EU"
    deleted = pd.delete(f"/teams/{team['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert pd.get(f"/teams/{team['id']}").status_code == 404
    assert pd.delete(f"/teams/{team['id']}").status_code == 404


def test_invalid_team_body_is_400_with_errors(pd: httpx2.Client) -> None:
    response = pd.post("/teams", json={"team": {"type": "team", "name": "x" * 101}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (2001, "Invalid Input Provided")
    assert any("team.name" in line for line in error["errors"])
    assert pd.post("/teams", content=b"").status_code == 400
    assert pd.post("/teams", content=b"{not json").status_code == 400


def test_members_are_added_and_removed_with_204(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    for name, role in [("ana", "manager"), ("bo", "responder")]:
        response = pd.put(f"/teams/{team_id}/users/{user_ids[name]}", json={"role": role})
        assert (response.status_code, response.content) == (204, b"")
    members = pd.get(f"/teams/{team_id}/members").json()["members"]
    assert [(m["user"]["id"], m["role"]) for m in members] == [
        (user_ids["ana"], "manager"),
        (user_ids["bo"], "responder"),
    ]
    pd.put(f"/teams/{team_id}/users/{user_ids['bo']}", json={"role": "observer"})
    removed = pd.delete(f"/teams/{team_id}/users/{user_ids['ana']}")
    assert (removed.status_code, removed.content) == (204, b"")
    members = pd.get(f"/teams/{team_id}/members").json()["members"]
    assert [(m["user"]["id"], m["role"]) for m in members] == [(user_ids["bo"], "observer")]
    user = pd.get(f"/users/{user_ids['bo']}").json()["user"]
    assert [t["id"] for t in user["teams"]] == [team_id]
    assert [u["id"] for u in pd.get("/users", params={"team_ids[]": team_id}).json()["users"]] == [
        user_ids["bo"]
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/teams/PNOTEAM/users/{user}", {"role": "manager"}),
        ("/teams/{team}/users/PNOUSER", {"role": "manager"}),
    ],
)
def test_membership_of_unknown_team_or_user_is_404(
    pd: httpx2.Client, user_ids: dict[str, str], path: str, body: dict[str, str]
) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    url = path.format(team=team_id, user=user_ids["ana"])
    assert pd.put(url, json=body).status_code == 404
    assert pd.delete(url).status_code == 404


def test_membership_with_an_unknown_role_is_400(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    response = pd.put(f"/teams/{team_id}/users/{user_ids['ana']}", json={"role": "boss"})
    assert response.status_code == 400
