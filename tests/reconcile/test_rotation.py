"""Rotation reconcile against the emulator: references, participants, schedule, on-call, load."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from oncall_operator.api import RotationStatus
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import NotFound
from oncall_operator.reconcile.model import Outcome, References, TeamInfo
from oncall_operator.reconcile.rotation import delete_rotation, reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
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

TEAM_SPEC: dict[str, Any] = {
    "members": [
        {"email": "ana@example.com"},
        {"email": "bo@example.com"},
        {"email": "cy@example.com"},
        {"email": "mgr1@example.com", "role": "manager"},
    ],
}
# Handoffs Mondays 09:00 Dublin (UTC in winter); NOW is Wednesday 2 December 10:00.
SPEC: dict[str, Any] = {
    "teamRef": {"name": "out-of-hours"},
    "displayName": "Out-of-hours weekly",
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {"roles": ["responder"]}},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
        }
    ],
}
META = meta("Rotation", "out-of-hours-weekly")


def team_refs(client: PagerDutyClient, team_spec: dict[str, Any] = TEAM_SPEC) -> References:
    team = reconcile_team(client, meta("OnCallTeam", "out-of-hours"), team_spec, {}, NOW)
    info = TeamInfo(
        name="out-of-hours",
        spec=team_spec,
        pagerduty_id=team.status["pagerduty"]["id"],
        ready=team.ready,
    )
    return References(teams={"out-of-hours": info})


def create(client: PagerDutyClient, refs: References, spec: dict[str, Any] = SPEC) -> Outcome:
    outcome = reconcile_rotation(client, META, spec, {}, refs, NOW)
    assert outcome.ready, outcome.status
    assert_fits_the_crd(outcome, RotationStatus)
    return outcome


def with_layer(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    spec["layers"][0].update(changes)
    return spec


def user_ids(client: PagerDutyClient, *names: str) -> list[str]:
    found = [client.find_user_by_email(f"{name}@example.com") for name in names]
    return [str(user["id"]) for user in found if user is not None]


def active_layers(client: PagerDutyClient, schedule_id: str) -> list[dict[str, Any]]:
    schedule = client.get_schedule(schedule_id)
    return [
        layer
        for layer in schedule["schedule_layers"]
        if layer.get("end") is None
        or dt.datetime.fromisoformat(layer["end"].replace("Z", "+00:00")) > NOW
    ]


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ({}, "OnCallTeam out-of-hours (spec.teamRef) does not exist in this namespace."),
        (
            {"out-of-hours": TeamInfo("out-of-hours", TEAM_SPEC, None, False)},
            "OnCallTeam out-of-hours (spec.teamRef) is not in PagerDuty yet.",
        ),
        (
            {"out-of-hours": TeamInfo("out-of-hours", {"members": "x"}, "PTEAM01", False)},
            "OnCallTeam out-of-hours (spec.teamRef) has an invalid spec; its members cannot be used.",
        ),
    ],
)
def test_waits_for_its_team_without_calling_pagerduty(
    client: PagerDutyClient,
    emulator: EmulatorServer,
    teams: dict[str, TeamInfo],
    message: str,
) -> None:
    outcome = reconcile_rotation(client, META, SPEC, {}, References(teams=teams), NOW)
    assert emulator.requests() == []
    assert reasons(outcome) == {
        "Ready": ("False", "WaitingForReferences"),
        "Synced": ("Unknown", "WaitingForReferences"),
        "ReferencesResolved": ("False", "MissingReferences"),
    }
    assert condition(outcome, "ReferencesResolved")["message"] == message
    assert not outcome.ready


def test_create_makes_the_schedule_and_reports_who_is_on_call(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    outcome = create(client, refs)
    schedule_id = outcome.status["pagerduty"]["id"]
    schedule = client.get_schedule(schedule_id)
    assert schedule["name"] == "Out-of-hours weekly"
    assert [t["id"] for t in schedule["teams"]] == [refs.teams["out-of-hours"].pagerduty_id]
    layers = active_layers(client, schedule_id)
    assert [[u["user"]["id"] for u in layer["users"]] for layer in layers] == [
        user_ids(client, "ana", "bo", "cy")
    ]
    assert outcome.status["layers"] == [{"name": "primary", "id": layers[0]["id"]}]
    assert outcome.status["onCall"] == {
        "now": "ana@example.com",
        "until": "2026-12-07T09:00:00Z",
        "next": "bo@example.com",
    }
    assert outcome.status["nextHandoff"] == "2026-12-07T09:00:00Z"
    # 28 days from the Monday handoff; the layer itself starts now (Wednesday 10:00).
    assert outcome.status["load"] == [
        {"email": "ana@example.com", "hours": 287.0, "outOfHoursHours": 224.0, "shifts": 2},
        {"email": "bo@example.com", "hours": 168.0, "outOfHoursHours": 128.0, "shifts": 1},
        {"email": "cy@example.com", "hours": 168.0, "outOfHoursHours": 128.0, "shifts": 1},
    ]
    assert reasons(outcome) == {
        "Ready": ("True", "Synced"),
        "Synced": ("True", "Synced"),
        "ReferencesResolved": ("True", "Resolved"),
        "Sustainable": ("True", "NoPolicy"),
    }
    assert event_reasons(outcome) == ["Created"]


def test_second_reconcile_writes_nothing_and_status_stays_until_the_handoff(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    emulator.clear_requests()
    for later in (dt.timedelta(minutes=5), dt.timedelta(hours=30)):
        again = reconcile_rotation(client, META, SPEC, first.status, refs, NOW + later)
        assert writes(emulator) == []
        assert again.status == first.status
        assert again.events == []
    after_handoff = reconcile_rotation(
        client, META, SPEC, first.status, refs, dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    )
    assert writes(emulator) == []
    assert after_handoff.status["onCall"]["now"] == "bo@example.com"
    assert after_handoff.status["nextHandoff"] == "2026-12-14T09:00:00Z"


def test_drift_by_hand_is_corrected(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    schedule_id = first.status["pagerduty"]["id"]
    by_hand = client.get_schedule(schedule_id)
    by_hand["schedule_layers"][0]["users"] = [
        {"user": {"id": user_ids(client, "gus")[0], "type": "user_reference"}}
    ]
    client.update_schedule(schedule_id, by_hand)

    second = reconcile_rotation(client, META, SPEC, first.status, refs, NOW)
    assert event_reasons(second) == ["DriftCorrected"]
    assert second.events[0].message == (
        f"PagerDuty schedule {schedule_id} was changed by hand in PagerDuty; set it back to the "
        "spec: layer primary: users: PagerDuty has [gus@example.com], the spec wants "
        "[ana@example.com, bo@example.com, cy@example.com] from its next handoff "
        "(2026-12-07T09:00:00Z)."
    )  # a NextHandoff layer: who PagerDuty has on call now stays until the handoff
    layers = active_layers(client, schedule_id)
    assert [[u["user"]["id"] for u in layer["users"]] for layer in layers][-1] == user_ids(
        client, "ana", "bo", "cy"
    )
    assert second.ready


def test_schedule_deleted_in_pagerduty_is_made_again_and_its_new_id_stored(
    client: PagerDutyClient,
) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    old_id = first.status["pagerduty"]["id"]
    client.delete_schedule(old_id)
    again = reconcile_rotation(client, META, SPEC, first.status, refs, NOW)
    assert again.ready
    new_id = again.status["pagerduty"]["id"]
    assert new_id != old_id
    assert client.get_schedule(new_id)["name"] == "Out-of-hours weekly"
    with pytest.raises(NotFound):
        client.get_schedule(old_id)
    assert [(e.type, e.reason, e.message) for e in again.events] == [
        (
            "Warning",
            "Recreating",
            f"PagerDuty schedule {old_id} (status.pagerduty.id) was deleted in PagerDuty, not "
            "through Git; making it again.",
        ),
        ("Normal", "Created", f"Created PagerDuty schedule {new_id} (Out-of-hours weekly)."),
    ]


def test_crash_before_status_write_adopts_instead_of_duplicating(
    client: PagerDutyClient,
) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    again = reconcile_rotation(client, META, SPEC, {}, refs, NOW)
    assert again.ready
    assert again.status["pagerduty"] == first.status["pagerduty"]
    assert event_reasons(again) == ["Adopted"]
    assert len(client.find_schedules("Out-of-hours weekly")) == 1


def test_adopts_the_schedule_named_by_spec_pagerduty_id(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    legacy = client.create_schedule(
        {
            "type": "schedule",
            "name": "Legacy",
            "time_zone": "UTC",
            "schedule_layers": [
                {
                    "name": "Layer 1",
                    "start": "2026-11-01T00:00:00Z",
                    "rotation_virtual_start": "2026-11-01T00:00:00Z",
                    "rotation_turn_length_seconds": 86400,
                    "users": [
                        {"user": {"id": user_ids(client, "gus")[0], "type": "user_reference"}}
                    ],
                }
            ],
        }
    )
    outcome = create(client, refs, SPEC | {"pagerduty": {"id": legacy["id"]}})
    assert outcome.status["pagerduty"]["id"] == legacy["id"]
    assert event_reasons(outcome) == ["Adopted", "Updated"]
    assert [layer["name"] for layer in active_layers(client, legacy["id"])] == ["primary"]


def test_layer_without_resolvable_participants_leaves_the_schedule_alone(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    spec = with_layer(participants={"emails": ["zed@example.com", "yan@example.com"]})
    spec.pop("teamRef")
    outcome = reconcile_rotation(client, META, spec, {}, References(), NOW)
    assert writes(emulator) == []
    assert reasons(outcome)["Ready"] == ("False", "NoParticipants")
    assert reasons(outcome)["ReferencesResolved"] == ("False", "UnknownEmails")
    assert "Layer primary" in condition(outcome, "Ready")["message"]
    assert "pagerduty" not in outcome.status


def test_team_without_active_responders_has_no_participants(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    # Her term ended the day before the handoff of Monday 30 November: gone from that turn on.
    team_spec = {"members": [{"email": "ana@example.com", "until": "2026-11-29"}]}
    refs = team_refs(client, team_spec)
    emulator.clear_requests()
    outcome = reconcile_rotation(client, META, SPEC, {}, refs, NOW)
    assert writes(emulator) == []
    assert reasons(outcome)["Ready"] == ("False", "NoParticipants")


def test_unknown_email_in_a_layer_with_others_uses_the_others(client: PagerDutyClient) -> None:
    spec = with_layer(participants={"emails": ["zed@example.com", "bo@example.com"]})
    spec.pop("teamRef")
    outcome = reconcile_rotation(client, META, spec, {}, References(), NOW)
    assert reasons(outcome)["Ready"] == ("False", "ReferencesUnresolved")
    assert reasons(outcome)["Synced"] == ("True", "Synced")
    layers = active_layers(client, outcome.status["pagerduty"]["id"])
    assert [u["user"]["id"] for u in layers[0]["users"]] == user_ids(client, "bo")


def test_next_handoff_edit_keeps_the_person_on_call(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    spec = with_layer(participants={"emails": ["dee@example.com", "eli@example.com"]})
    edited = reconcile_rotation(
        client, meta("Rotation", "out-of-hours-weekly", 2), spec, first.status, refs, NOW
    )
    assert edited.ready
    assert event_reasons(edited) == ["Updated"]
    assert edited.status["onCall"] == {
        "now": "ana@example.com",
        "until": "2026-12-07T09:00:00Z",
        "next": "eli@example.com",  # turns count from the spec's handoff: dee had last week
    }
    # The pending layer carries the spec from the handoff on.
    assert edited.status["layers"][0]["id"] != first.status["layers"][0]["id"]
    # Applying the same spec again is a no-op.
    again = reconcile_rotation(
        client, meta("Rotation", "out-of-hours-weekly", 2), spec, edited.status, refs, NOW
    )
    assert again.status == edited.status
    assert again.events == []


def test_immediate_edit_changes_who_is_on_call_now(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    spec = with_layer(
        participants={"emails": ["dee@example.com", "eli@example.com"]},
        changesTakeEffect="Immediately",
    )
    edited = reconcile_rotation(
        client, meta("Rotation", "out-of-hours-weekly", 2), spec, first.status, refs, NOW
    )
    assert edited.status["onCall"]["now"] == "dee@example.com"
    assert edited.status["layers"] == first.status["layers"]


def test_removed_layer_is_ended(client: PagerDutyClient) -> None:
    refs = team_refs(client)
    second_layer = {
        "name": "weekend",
        "participants": {"emails": ["mgr1@example.com"]},
        "shiftLength": "1w",
        "handoff": "2026-11-30T09:00:00",
        "coverage": "Custom",
        "windows": [{"days": ["Sat"], "start": "00:00", "end": "24:00"}],
    }
    two = copy.deepcopy(SPEC)
    two["layers"].append(second_layer)
    first = create(client, refs, two)
    assert [layer["name"] for layer in first.status["layers"]] == ["primary", "weekend"]
    later = NOW + dt.timedelta(hours=1)
    second = reconcile_rotation(
        client, meta("Rotation", "out-of-hours-weekly", 2), SPEC, first.status, refs, later
    )
    assert [layer["name"] for layer in second.status["layers"]] == ["primary"]
    schedule = client.get_schedule(second.status["pagerduty"]["id"])
    weekend = [layer for layer in schedule["schedule_layers"] if layer["name"] == "weekend"]
    assert len(weekend) == 1
    assert weekend[0]["end"] is not None


def test_team_policy_breach_shows_as_not_sustainable(client: PagerDutyClient) -> None:
    team_spec = TEAM_SPEC | {"policy": {"maxOnCallPercent": 25}}
    refs = team_refs(client, team_spec)
    outcome = create(client, refs)
    sustainable = condition(outcome, "Sustainable")
    assert (sustainable["status"], sustainable["reason"]) == ("False", "PolicyBreached")
    # Three people weekly: every one of them is on call two weeks in some 4 weeks of the next 12.
    for person in ("ana", "bo", "cy"):
        assert f"{person}@example.com is on call 50% of the 4 weeks from" in sustainable["message"]
    assert ("Warning", "PolicyBreached") in [(e.type, e.reason) for e in outcome.events]
    again = reconcile_rotation(client, META, SPEC, outcome.status, refs, NOW)
    assert "PolicyBreached" not in event_reasons(again)  # said once


def test_paused_touches_nothing(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    paused = meta("Rotation", "r", annotations={"oncall.dev/paused": "True"})
    outcome = reconcile_rotation(client, paused, SPEC, {}, References(), NOW)
    assert emulator.requests() == []
    assert reasons(outcome) == {"Ready": ("False", "Paused"), "Synced": ("False", "Paused")}


def test_invalid_spec_names_the_field(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    outcome = reconcile_rotation(client, META, with_layer(shiftLength="30m"), {}, References(), NOW)
    assert emulator.requests() == []
    ready = condition(outcome, "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.layers[0].shiftLength: shiftLength '30m' is shorter than 1h" in ready["message"]


def test_delete_and_orphan(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    refs = team_refs(client)
    first = create(client, refs)
    schedule_id = first.status["pagerduty"]["id"]
    emulator.clear_requests()
    orphaned = delete_rotation(client, META, SPEC | {"deletionPolicy": "Orphan"}, first.status)
    assert [e.reason for e in orphaned] == ["Orphaned"]
    assert emulator.requests() == []
    deleted = delete_rotation(client, META, SPEC, first.status)
    assert [e.reason for e in deleted] == ["Deleted"]
    with pytest.raises(NotFound):
        client.get_schedule(schedule_id)


def test_out_of_hours_with_no_hours_outside_business_is_an_invalid_spec(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    spec = with_layer(coverage="OutOfHours", participants={"emails": ["ana@example.com"]})
    spec.pop("teamRef")
    spec["businessHours"] = {
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "start": "00:00",
        "end": "24:00",
    }
    outcome = reconcile_rotation(client, META, spec, {}, References(), NOW)
    assert writes(emulator) == []
    ready = condition(outcome, "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.businessHours covers the whole week" in ready["message"]


def test_team_with_an_unknown_email_still_feeds_the_rotation(client: PagerDutyClient) -> None:
    team_spec = {"members": [*TEAM_SPEC["members"], {"email": "zed@example.com"}]}
    refs = team_refs(client, team_spec)
    assert not refs.teams["out-of-hours"].ready  # the team says ReferencesUnresolved
    outcome = reconcile_rotation(client, META, SPEC, {}, refs, NOW)
    assert outcome.ready
    assert outcome.status["onCall"]["now"] == "ana@example.com"
