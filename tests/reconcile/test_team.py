"""OnCallTeam reconcile against the emulator: create, no-op, drift, adoption, members (pages:
test_team_pages.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import OnCallTeamStatus
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import NotFound
from oncall_operator.reconcile.errors import RetryLater
from oncall_operator.reconcile.model import Outcome
from oncall_operator.reconcile.team import delete_team, reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import (
    NOW,
    assert_fits_the_crd,
    condition,
    event_reasons,
    meta,
    reasons,
    writes,
)

SPEC: dict[str, Any] = {
    "displayName": "Out of hours",
    "description": "Volunteers outside business hours.",
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com", "role": "manager"},
        {"email": "cy@example.com", "role": "observer"},
    ],
}
META = meta("OnCallTeam", "out-of-hours")


def members_by_email(client: PagerDutyClient, team_id: str) -> dict[str, str]:
    emails = {}
    for email in ("ana", "bo", "cy", "dee", "eli", "fay", "gus", "mgr1", "mgr2", "cto"):
        user = client.find_user_by_email(f"{email}@example.com")
        assert user is not None
        emails[str(user["id"])] = f"{email}@example.com"
    return {emails[str(m["user"]["id"])]: m["role"] for m in client.list_team_members(team_id)}


def create(client: PagerDutyClient, spec: dict[str, Any] = SPEC) -> Outcome:
    outcome = reconcile_team(client, META, spec, {}, NOW)
    assert outcome.ready, outcome.status
    assert_fits_the_crd(outcome, OnCallTeamStatus)
    return outcome


def test_create_makes_the_team_and_its_memberships(client: PagerDutyClient) -> None:
    outcome = create(client)
    team_id = outcome.status["pagerduty"]["id"]
    team = client.get_team(team_id)
    assert team["name"] == "Out of hours"
    assert team["description"] == (
        "Volunteers outside business hours.\n"
        "Managed by oncall-operator as oncall/OnCallTeam/out-of-hours; edit it in Git, not here."
    )
    assert members_by_email(client, team_id) == {
        "ana@example.com": "responder",
        "bo@example.com": "manager",
        "cy@example.com": "observer",
    }
    assert outcome.status["observedGeneration"] == 1
    assert outcome.status["pagerduty"]["htmlUrl"].startswith("https://")
    assert outcome.status["members"] == {
        "total": 3,
        "resolved": 3,
        "active": 3,
        "unresolved": [],
        "expiringSoon": [],
    }
    nobody_paged = {"pages": 0, "nightPages": 0, "maxPagesIn12h": 0}
    assert outcome.status["pages"] == {
        "outOfHoursLast30Days": 0,
        "people": [
            {"email": f"{name}@example.com", **nobody_paged} for name in ("ana", "bo", "cy")
        ],
    }
    assert reasons(outcome) == {
        "Ready": ("True", "Synced"),
        "Synced": ("True", "Synced"),
        "ReferencesResolved": ("True", "Resolved"),
        "Sustainable": ("True", "NoPolicy"),
    }
    assert event_reasons(outcome) == ["Created", "MembershipChanged"]
    assert outcome.requeue_after is None


def test_second_reconcile_writes_nothing_and_returns_the_same_status(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = create(client)
    emulator.clear_requests()
    second = reconcile_team(client, META, SPEC, first.status, NOW + dt.timedelta(minutes=5))
    assert writes(emulator) == []
    assert second.status == first.status
    assert second.events == []


def test_drift_by_hand_is_corrected(client: PagerDutyClient) -> None:
    first = create(client)
    team_id = first.status["pagerduty"]["id"]
    client.update_team(team_id, {"type": "team", "name": "Renamed in the UI", "description": ""})
    dee = client.find_user_by_email("dee@example.com")
    assert dee is not None
    client.set_team_member(team_id, str(dee["id"]), "responder")

    second = reconcile_team(client, META, SPEC, first.status, NOW)
    assert event_reasons(second) == ["DriftCorrected", "MembershipChanged"]
    assert second.events[1].message.endswith("removed dee@example.com.")
    assert client.get_team(team_id)["name"] == "Out of hours"
    assert set(members_by_email(client, team_id)) == {
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    }
    assert second.status == first.status


def test_crash_before_status_write_adopts_instead_of_duplicating(
    client: PagerDutyClient,
) -> None:
    first = create(client)
    again = reconcile_team(client, META, SPEC, {}, NOW)  # the first status was never stored
    assert again.ready
    assert again.status["pagerduty"] == first.status["pagerduty"]
    assert event_reasons(again) == ["Adopted"]
    assert len(client.find_teams("Out of hours")) == 1


def test_team_deleted_in_pagerduty_is_made_again(client: PagerDutyClient) -> None:
    first = create(client)
    client.delete_team(first.status["pagerduty"]["id"])
    again = reconcile_team(client, META, SPEC, first.status, NOW)
    assert again.ready
    assert again.status["pagerduty"]["id"] != first.status["pagerduty"]["id"]
    assert event_reasons(again) == ["Recreating", "Created", "MembershipChanged"]


def test_adopts_the_team_named_by_spec_pagerduty_id(client: PagerDutyClient) -> None:
    existing = client.create_team({"type": "team", "name": "Legacy team"})
    spec = SPEC | {"pagerduty": {"id": existing["id"]}}
    outcome = create(client, spec)
    assert outcome.status["pagerduty"]["id"] == existing["id"]
    assert event_reasons(outcome) == ["Adopted", "Updated", "MembershipChanged"]
    assert client.get_team(existing["id"])["name"] == "Out of hours"


def test_adopting_a_missing_id_says_so(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    outcome = reconcile_team(client, META, SPEC | {"pagerduty": {"id": "PNOPE00"}}, {}, NOW)
    assert not outcome.ready
    ready = condition(outcome, "Ready")
    assert ready["reason"] == "PagerDutyError"
    assert ready["message"] == "spec.pagerduty.id: PagerDuty has no team PNOPE00 to adopt."
    assert writes(emulator) == []


@pytest.mark.parametrize(
    ("members", "expected", "event"),
    [
        pytest.param(
            [{"email": "ana@example.com"}, {"email": "bo@example.com", "role": "manager"}],
            {"ana@example.com": "responder", "bo@example.com": "manager"},
            "removed cy@example.com",
            id="remove",
        ),
        pytest.param(
            [*SPEC["members"], {"email": "dee@example.com"}],
            {
                "ana@example.com": "responder",
                "bo@example.com": "manager",
                "cy@example.com": "observer",
                "dee@example.com": "responder",
            },
            "added dee@example.com",
            id="add",
        ),
        pytest.param(
            [
                {"email": "ana@example.com", "role": "manager"},
                {"email": "bo@example.com", "role": "manager"},
                {"email": "cy@example.com", "role": "observer"},
            ],
            {
                "ana@example.com": "manager",
                "bo@example.com": "manager",
                "cy@example.com": "observer",
            },
            "changed the role of ana@example.com to manager",
            id="role",
        ),
        pytest.param(
            [
                {"email": "ana@example.com", "until": "2026-12-01"},
                {"email": "bo@example.com", "role": "manager"},
                {"email": "cy@example.com", "role": "observer", "since": "2026-12-03"},
            ],
            {"bo@example.com": "manager"},
            "removed ana@example.com and cy@example.com",
            id="term-ended-or-not-begun",
        ),
    ],
)
def test_membership_follows_the_spec(
    client: PagerDutyClient, members: list[dict[str, str]], expected: dict[str, str], event: str
) -> None:
    first = create(client)
    team_id = first.status["pagerduty"]["id"]
    spec = SPEC | {"members": members}
    second = reconcile_team(client, meta("OnCallTeam", "out-of-hours", 2), spec, first.status, NOW)
    assert second.ready
    assert members_by_email(client, team_id) == expected
    assert event_reasons(second) == ["MembershipChanged"]
    assert event in second.events[0].message


def test_expiring_soon_uses_term_warning_days_and_says_so_once(client: PagerDutyClient) -> None:
    in_days = [(NOW + dt.timedelta(days=n)).date().isoformat() for n in (14, 15, 20)]
    spec = SPEC | {
        "members": [
            {"email": "ana@example.com", "until": in_days[0]},  # within the default 14 days
            {"email": "bo@example.com", "until": in_days[1]},
            {"email": "cy@example.com", "until": in_days[2]},
        ]
    }
    outcome = create(client, spec)
    assert outcome.status["members"]["expiringSoon"] == ["ana@example.com"]
    (told,) = [e for e in outcome.events if e.reason == "TermEnding"]
    assert f"ana@example.com on {in_days[0]}" in told.message
    again = reconcile_team(client, META, spec, outcome.status, NOW + dt.timedelta(hours=1))
    assert "TermEnding" not in event_reasons(again)
    wider = spec | {"policy": {"termWarningDays": 20}}
    third = reconcile_team(client, meta("OnCallTeam", "out-of-hours", 2), wider, again.status, NOW)
    assert third.status["members"]["expiringSoon"] == [
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    ]
    (told,) = [e for e in third.events if e.reason == "TermEnding"]
    assert "ana@" not in told.message and "bo@example.com" in told.message


def test_unknown_email_leaves_the_rest_of_the_team_working(client: PagerDutyClient) -> None:
    spec = SPEC | {"members": [{"email": "zed@example.com"}, {"email": "Ana@Example.com"}]}
    outcome = reconcile_team(client, META, spec, {}, NOW)
    team_id = outcome.status["pagerduty"]["id"]
    assert members_by_email(client, team_id) == {"ana@example.com": "responder"}
    assert outcome.status["members"] == {
        "total": 2,
        "resolved": 1,
        "active": 1,
        "unresolved": ["zed@example.com"],
        "expiringSoon": [],
    }
    assert reasons(outcome)["ReferencesResolved"] == ("False", "UnknownEmails")
    assert reasons(outcome)["Ready"] == ("False", "ReferencesUnresolved")
    assert reasons(outcome)["Synced"] == ("True", "Synced")
    assert "zed@example.com" in condition(outcome, "Ready")["message"]
    assert not outcome.ready


def test_paused_touches_nothing(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    paused = meta("OnCallTeam", "out-of-hours", annotations={"oncall.dev/paused": "true"})
    outcome = reconcile_team(client, paused, SPEC, {}, NOW)
    assert emulator.requests() == []
    assert reasons(outcome) == {"Ready": ("False", "Paused"), "Synced": ("False", "Paused")}
    assert outcome.status["observedGeneration"] == 1


def test_invalid_spec_names_the_field_and_touches_nothing(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    spec = {"members": [{"email": "ana@example.com", "role": "boss"}]}
    outcome = reconcile_team(client, META, spec, {}, NOW)
    assert emulator.requests() == []
    ready = condition(outcome, "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.members[0].role: Input should be" in ready["message"]
    assert [(e.type, e.reason) for e in outcome.events] == [("Warning", "InvalidSpec")]
    again = reconcile_team(client, META, spec, outcome.status, NOW)
    assert again.events == []  # the same error is not announced on every retry
    assert again.status == outcome.status


def test_rate_limit_sets_the_condition_and_requeues(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = create(client)
    team_id = first.status["pagerduty"]["id"]
    emulator.script_response("GET", f"/teams/{team_id}", 429, headers={"ratelimit-reset": "7"})
    # The client's own bounded retries would wait out the reset; here it gives up at once.
    impatient = PagerDutyClient(
        emulator.token, api_url=emulator.base_url, ca_file=str(emulator.ca_file), max_retries=0
    )
    try:
        outcome = reconcile_team(impatient, META, SPEC, first.status, NOW)
    finally:
        impatient.close()
    assert reasons(outcome)["Synced"] == ("False", "RateLimited")
    assert reasons(outcome)["Ready"] == ("False", "RateLimited")
    assert condition(outcome, "Synced")["message"] == (
        "PagerDuty's rate limit was reached while reading the PagerDuty team; trying again in 7s."
    )
    assert outcome.requeue_after == 7
    assert [(e.type, e.reason) for e in outcome.events] == [("Warning", "Failed")]
    assert outcome.status["pagerduty"] == first.status["pagerduty"]
    assert emulator.token not in str(outcome.status)
    recovered = reconcile_team(client, META, SPEC, outcome.status, NOW)
    assert recovered.ready
    assert recovered.requeue_after is None


@pytest.mark.parametrize("policy", ["Delete", None])
def test_delete_removes_the_team(client: PagerDutyClient, policy: str | None) -> None:
    spec = SPEC | ({"deletionPolicy": policy} if policy else {})
    first = create(client, spec)
    team_id = first.status["pagerduty"]["id"]
    events = delete_team(client, META, spec, first.status)
    assert [e.reason for e in events] == ["Deleted"]
    with pytest.raises(NotFound):
        client.get_team(team_id)
    again = delete_team(client, META, spec, first.status)  # 404: already gone is success
    assert [e.reason for e in again] == ["Deleted"]
    assert "already gone" in again[0].message


def test_orphan_makes_no_pagerduty_call(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    spec = SPEC | {"deletionPolicy": "Orphan"}
    first = create(client, spec)
    emulator.clear_requests()
    events = delete_team(client, META, spec, first.status)
    assert [e.reason for e in events] == ["Orphaned"]
    assert emulator.requests() == []
    assert client.get_team(first.status["pagerduty"]["id"])["name"] == "Out of hours"


def test_delete_without_status_finds_the_team_by_its_marker(client: PagerDutyClient) -> None:
    first = create(client)
    events = delete_team(client, META, SPEC, {})
    assert [e.reason for e in events] == ["Deleted"]
    with pytest.raises(NotFound):
        client.get_team(first.status["pagerduty"]["id"])


def test_team_owning_a_schedule_is_deleted_later(client: PagerDutyClient) -> None:
    first = create(client)
    team_id = first.status["pagerduty"]["id"]
    ana = client.find_user_by_email("ana@example.com")
    assert ana is not None
    client.create_schedule(
        {
            "type": "schedule",
            "name": "Owned",
            "time_zone": "UTC",
            "teams": [{"id": team_id, "type": "team_reference"}],
            "schedule_layers": [
                {
                    "start": "2026-12-01T00:00:00Z",
                    "rotation_virtual_start": "2026-12-01T00:00:00Z",
                    "rotation_turn_length_seconds": 86400,
                    "users": [{"user": {"id": ana["id"], "type": "user_reference"}}],
                }
            ],
        }
    )
    with pytest.raises(RetryLater) as retry:
        delete_team(client, META, SPEC, first.status)
    assert retry.value.delay > 0
    assert team_id in str(retry.value)


def test_refused_token_is_unauthorized_and_never_shown(emulator: EmulatorServer) -> None:
    wrong = PagerDutyClient(
        "wrong-secret-token", api_url=emulator.base_url, ca_file=str(emulator.ca_file)
    )
    try:
        outcome = reconcile_team(wrong, META, SPEC, {}, NOW)
    finally:
        wrong.close()
    assert reasons(outcome)["Ready"] == ("False", "Unauthorized")
    assert reasons(outcome)["Synced"] == ("False", "Unauthorized")
    assert outcome.requeue_after is None
    assert "wrong-secret-token" not in str(outcome)


def test_paused_deletion_leaves_pagerduty_alone(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = create(client)
    emulator.clear_requests()
    paused = meta("OnCallTeam", "out-of-hours", annotations={"oncall.dev/paused": "true"})
    events = delete_team(client, paused, SPEC, first.status)
    assert [(e.reason, e.message) for e in events] == [
        (
            "Orphaned",
            f"Left PagerDuty team {first.status['pagerduty']['id']} in place (the object is paused).",
        )
    ]
    assert emulator.requests() == []


def test_deleting_what_was_never_made_is_a_no_op(client: PagerDutyClient) -> None:
    assert delete_team(client, META, SPEC, {}) == []
