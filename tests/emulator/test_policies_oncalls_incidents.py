"""Escalation policies and on-calls over HTTPS (incidents: test_incidents_pages.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.emulator import bodies

DAY = timedelta(days=1)


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _schedule(pd: httpx2.Client, *user_ids: str, name: str = "Primary") -> str:
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    layer = bodies.layer(*user_ids, start=_iso(today - 30 * DAY))
    layer["rotation_virtual_start"] = layer["start"]
    response = pd.post("/schedules", json=bodies.schedule(layer, name=name))
    assert response.status_code == 200, response.text
    schedule_id: str = response.json()["schedule"]["id"]
    return schedule_id


def _policy(pd: httpx2.Client, *targets: tuple[str, str], **fields: Any) -> dict[str, Any]:
    response = pd.post("/escalation_policies", json=bodies.policy(*targets, **fields))
    assert response.status_code == 201, response.text
    policy: dict[str, Any] = response.json()["escalation_policy"]
    return policy


def test_policy_lifecycle(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    schedule_id = _schedule(pd, user_ids["ana"])
    policy = _policy(
        pd,
        ("schedule_reference", schedule_id),
        ("user", user_ids["mgr1"]),
        teams=[{"id": team_id, "type": "team_reference"}],
        num_loops=2,
    )
    assert (
        policy["html_url"] == f"https://emulator.pagerduty.local/escalation_policies/{policy['id']}"
    )
    (rule,) = policy["escalation_rules"]
    assert [(t["type"], t["id"]) for t in rule["targets"]] == [
        ("schedule_reference", schedule_id),
        ("user_reference", user_ids["mgr1"]),
    ]
    assert (policy["num_loops"], [t["id"] for t in policy["teams"]]) == (2, [team_id])
    body = bodies.policy(("user_reference", user_ids["mgr2"]), name="Payments v2")
    body["escalation_policy"]["escalation_rules"][0]["id"] = rule["id"]
    updated = pd.put(f"/escalation_policies/{policy['id']}", json=body)
    assert updated.status_code == 200
    (new_rule,) = updated.json()["escalation_policy"]["escalation_rules"]
    assert new_rule["id"] == rule["id"]  # a rule sent with its id keeps it
    assert [t["id"] for t in updated.json()["escalation_policy"]["teams"]] == [team_id]  # kept
    body["escalation_policy"]["teams"] = []
    cleared = pd.put(f"/escalation_policies/{policy['id']}", json=body).json()
    assert cleared["escalation_policy"]["teams"] == []
    found = pd.get("/escalation_policies", params={"query": "v2"}).json()["escalation_policies"]
    assert [p["id"] for p in found] == [policy["id"]]
    by_user = pd.get("/escalation_policies", params={"user_ids[]": user_ids["mgr2"]}).json()
    assert [p["id"] for p in by_user["escalation_policies"]] == [policy["id"]]
    assert pd.get(f"/escalation_policies/{policy['id']}").json()["escalation_policy"]["name"] == (
        "Payments v2"
    )
    assert pd.delete(f"/escalation_policies/{policy['id']}").status_code == 204
    assert pd.get(f"/escalation_policies/{policy['id']}").status_code == 404


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ([("user_reference", "PNOUSER")], "targets[0].id"),
        ([("schedule_reference", "PNOSCHD")], "targets[0].id"),
        ([("schedule_v3_reference", "PV3SCHD")], "targets[0].type"),
    ],
)
def test_policy_targets_must_exist(
    pd: httpx2.Client, targets: list[tuple[str, str]], expected: str
) -> None:
    response = pd.post("/escalation_policies", json=bodies.policy(*targets))
    assert response.status_code == 400
    assert any(expected in line for line in response.json()["error"]["errors"])


def test_team_owning_a_policy_cannot_be_deleted(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    team_id = pd.post("/teams", json=bodies.team()).json()["team"]["id"]
    _policy(
        pd, ("user_reference", user_ids["ana"]), teams=[{"id": team_id, "type": "team_reference"}]
    )
    response = pd.delete(f"/teams/{team_id}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001


def test_oncalls_come_from_schedules_used_by_policies(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    ana, bo, cto = user_ids["ana"], user_ids["bo"], user_ids["cto"]
    used = _schedule(pd, ana, name="Used")
    unused = _schedule(pd, bo, name="Unused")
    policy = _policy(pd, ("schedule_reference", used), ("user_reference", cto))
    oncalls = pd.get("/oncalls").json()["oncalls"]
    by_user = {o["user"]["id"]: o for o in oncalls}
    assert set(by_user) == {ana, cto}  # the unused schedule puts nobody on call here
    assert by_user[ana]["schedule"]["id"] == used
    assert by_user[ana]["escalation_policy"]["id"] == policy["id"]
    assert by_user[ana]["escalation_level"] == 1
    assert (by_user[cto]["start"], by_user[cto]["end"]) == (None, None)  # a permanent on-call
    # A schedule no policy uses has no entries here, only in its own rendering.
    assert pd.get("/oncalls", params={"schedule_ids[]": unused}).json()["oncalls"] == []
    only_used = pd.get("/oncalls", params={"schedule_ids[]": used}).json()["oncalls"]
    assert [o["user"]["id"] for o in only_used] == [ana]
    by_policy = pd.get("/oncalls", params={"escalation_policy_ids[]": "PNOSUCH"}).json()
    assert by_policy["oncalls"] == []
    assert pd.get("/oncalls", params={"user_ids[]": cto}).json()["oncalls"][0]["user"]["id"] == cto


def test_oncalls_over_a_range_and_earliest(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    ana, bo = user_ids["ana"], user_ids["bo"]
    schedule_id = _schedule(pd, ana, bo)
    _policy(pd, ("schedule_reference", schedule_id))
    now = datetime.now(UTC)
    window = {"since": _iso(now), "until": _iso(now + 4 * DAY), "schedule_ids[]": schedule_id}
    shifts = pd.get("/oncalls", params=window).json()["oncalls"]
    assert len(shifts) == 5  # daily turns at 09:00 UTC: the current one plus four more
    users = [o["user"]["id"] for o in shifts]
    assert set(users) == {ana, bo} and all(a != b for a, b in itertools.pairwise(users))
    for shift in shifts:  # whole shifts, not clipped to the range
        start, end = (datetime.fromisoformat(shift[k]) for k in ("start", "end"))
        assert end - start == DAY
    earliest = pd.get("/oncalls", params={**window, "earliest": "true"}).json()["oncalls"]
    assert sorted(o["start"] for o in earliest) == sorted(o["start"] for o in shifts[:2])


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (timedelta(0), timedelta(days=91)),
        (timedelta(days=2), timedelta(days=1)),
    ],
)
def test_oncall_range_is_checked(pd: httpx2.Client, since: timedelta, until: timedelta) -> None:
    now = datetime.now(UTC)
    response = pd.get("/oncalls", params={"since": _iso(now + since), "until": _iso(now + until)})
    assert response.status_code == 400
