"""What PagerDuty's list endpoints give and omit, which the operator's read model relies on to read
many objects at once (../shared/pagerduty/NOTES.md, "Reading many objects at once")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2

from oncall_testbed.emulator import EmulatorServer
from tests.emulator import bodies

DAY = timedelta(days=1)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _schedule(pd: httpx2.Client, user_id: str, name: str) -> str:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - 30 * DAY
    layer = bodies.layer(user_id, start=_iso(start), rotation_virtual_start=_iso(start))
    response = pd.post("/schedules", json=bodies.schedule(layer, name=name))
    assert response.status_code == 200, response.text
    schedule_id: str = response.json()["schedule"]["id"]
    return schedule_id


def test_schedule_list_gives_layers_only_when_included_and_never_final_or_overrides(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    """api-schema issue 430: the list never carries overrides_subschedule or final_schedule,
    even when include[] asks for them; include[]=schedule_layers adds the layers, rendered over
    since..until (list parameters the reference omits: developer-docs issue 53)."""
    schedule_id = _schedule(pd, user_ids["ana"], "Listed")
    plain = pd.get("/schedules").json()["schedules"]
    assert [s["id"] for s in plain] == [schedule_id]
    assert "schedule_layers" not in plain[0]
    now = datetime.now(UTC)
    listed = pd.get(
        "/schedules",
        params={
            "include[]": ["schedule_layers", "final_schedule", "overrides_subschedule"],
            "since": _iso(now),
            "until": _iso(now + 2 * DAY),
            "time_zone": "Etc/UTC",
        },
    ).json()["schedules"][0]
    assert "final_schedule" not in listed
    assert "overrides_subschedule" not in listed
    (layer,) = listed["schedule_layers"]
    assert layer["users"] == [{"user": {"id": user_ids["ana"], "type": "user_reference"}}]
    assert layer["rendered_schedule_entries"], "layers are rendered over since..until"
    assert {e["user"]["id"] for e in layer["rendered_schedule_entries"]} == {user_ids["ana"]}
    # Only the single-schedule read has them.
    one = pd.get(f"/schedules/{schedule_id}").json()["schedule"]
    assert "final_schedule" in one
    assert "overrides_subschedule" in one


def test_schedule_list_pages_by_100(pd: httpx2.Client, user_ids: dict[str, str]) -> None:
    for index in range(3):
        _schedule(pd, user_ids["ana"], f"S{index}")
    first = pd.get("/schedules", params={"limit": 2, "include[]": "schedule_layers"}).json()
    assert len(first["schedules"]) == 2
    assert first["more"] is True
    assert all(s["schedule_layers"] for s in first["schedules"])
    capped = pd.get("/schedules", params={"limit": 500}).json()
    assert capped["limit"] == 100


def test_escalation_policy_list_carries_rules_and_targets(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    """NOTES.md: GET /escalation_policies returns full policies (rules and targets)."""
    schedule_id = _schedule(pd, user_ids["ana"], "Primary")
    created = pd.post(
        "/escalation_policies",
        json=bodies.policy(("schedule_reference", schedule_id), ("user_reference", user_ids["bo"])),
    )
    assert created.status_code == 201, created.text
    (listed,) = pd.get("/escalation_policies").json()["escalation_policies"]
    (rule,) = listed["escalation_rules"]
    assert [(t["type"], t["id"]) for t in rule["targets"]] == [
        ("schedule_reference", schedule_id),
        ("user_reference", user_ids["bo"]),
    ]
    assert rule["escalation_delay_in_minutes"] >= 1


def test_user_list_is_the_directory_with_emails(pd: httpx2.Client) -> None:
    """NOTES.md: GET /users lists the directory, 100 per page, the email on each user."""
    users = pd.get("/users", params={"limit": 100}).json()
    assert users["users"]
    assert all("@" in u["email"] for u in users["users"])
    assert all("teams" in u for u in users["users"])


def test_oncalls_answer_only_for_schedules_an_escalation_policy_uses(
    pd: httpx2.Client, user_ids: dict[str, str]
) -> None:
    """NOTES.md: an on-call is a user on call for an escalation policy's rule, so a schedule no
    policy uses has no entries in GET /oncalls; its own GET /schedules/{id} renders it."""
    used = _schedule(pd, user_ids["ana"], "Used")
    bare = _schedule(pd, user_ids["bo"], "Bare")
    pd.post("/escalation_policies", json=bodies.policy(("schedule_reference", used)))
    now = datetime.now(UTC)
    window = {"since": _iso(now), "until": _iso(now + 3 * DAY)}
    oncalls = pd.get(
        "/oncalls", params={"schedule_ids[]": [used, bare], **window, "limit": 100}
    ).json()["oncalls"]
    assert oncalls
    assert {o["schedule"]["id"] for o in oncalls} == {used}
    rendered = pd.get(f"/schedules/{bare}", params=window).json()["schedule"]
    assert rendered["final_schedule"]["rendered_schedule_entries"]


def test_oncalls_have_their_own_tighter_rate_limit(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    """PagerDuty support docs "REST API rate limits" and staff in community thread 151: GET
    /oncalls has a limit of its own below the account's; other endpoints stay usable."""
    emulator.set_rate_limit(100, oncalls=2)
    assert [pd.get("/oncalls").status_code for _ in range(3)] == [200, 200, 429]
    limited = pd.get("/oncalls")
    assert limited.headers["ratelimit-limit"] == "2"
    assert 1 <= int(limited.headers["ratelimit-reset"]) <= 60
    assert pd.get("/teams").status_code == 200  # the account's own limit is not used up
    assert pd.get("/teams").headers["ratelimit-limit"] == "100"


def test_oncalls_count_against_the_account_limit_too(
    pd: httpx2.Client, emulator: EmulatorServer
) -> None:
    emulator.set_rate_limit(3, oncalls=10)
    assert [pd.get(p).status_code for p in ("/teams", "/oncalls", "/teams", "/oncalls")] == [
        200,
        200,
        200,
        429,
    ]
