"""EscalationPolicy reconcile against the emulator: waiting for references, create, drift, delete."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_operator.api import EscalationPolicyStatus
from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.pagerduty.errors import NotFound
from oncall_operator.reconcile.errors import RetryLater
from oncall_operator.reconcile.escalation import (
    delete_escalation_policy,
    reconcile_escalation_policy,
)
from oncall_operator.reconcile.model import Outcome, References, RotationInfo, TeamInfo
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

TEAM_SPEC: dict[str, Any] = {"members": [{"email": "ana@example.com"}, {"email": "bo@example.com"}]}
ROTATION_SPEC: dict[str, Any] = {
    "teamRef": {"name": "out-of-hours"},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"fromTeam": {}},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00:00",
        }
    ],
}
SPEC: dict[str, Any] = {
    "teamRef": {"name": "out-of-hours"},
    "displayName": "Product alerts",
    "rules": [
        {"escalateAfterMinutes": 15, "targets": [{"rotationRef": {"name": "weekly"}}]},
        {"escalateAfterMinutes": 30, "targets": [{"user": {"email": "CTO@example.com"}}]},
    ],
    "repeat": 2,
}
META = meta("EscalationPolicy", "product-alerts")
ROTATION_META = meta("Rotation", "weekly")


def team_only(client: PagerDutyClient) -> References:
    team = reconcile_team(client, meta("OnCallTeam", "out-of-hours"), TEAM_SPEC, {}, NOW)
    info = TeamInfo("out-of-hours", TEAM_SPEC, team.status["pagerduty"]["id"], team.ready)
    return References(teams={"out-of-hours": info})


def with_rotation(client: PagerDutyClient, refs: References) -> tuple[References, Outcome]:
    rotation = reconcile_rotation(client, ROTATION_META, ROTATION_SPEC, {}, refs, NOW)
    assert rotation.ready, rotation.status
    info = RotationInfo("weekly", rotation.status["pagerduty"]["id"], rotation.ready)
    return References(teams=refs.teams, rotations={"weekly": info}), rotation


def create(client: PagerDutyClient) -> tuple[References, Outcome]:
    refs, _ = with_rotation(client, team_only(client))
    outcome = reconcile_escalation_policy(client, META, SPEC, {}, refs, NOW)
    assert outcome.ready, outcome.status
    assert_fits_the_crd(outcome, EscalationPolicyStatus)
    return refs, outcome


def test_waits_for_its_rotation_then_becomes_ready(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    refs = team_only(client)
    emulator.clear_requests()
    waiting = reconcile_escalation_policy(client, META, SPEC, {}, refs, NOW)
    assert emulator.requests() == []
    assert reasons(waiting) == {
        "Ready": ("False", "WaitingForReferences"),
        "Synced": ("Unknown", "WaitingForReferences"),
        "ReferencesResolved": ("False", "MissingReferences"),
    }
    assert condition(waiting, "ReferencesResolved")["message"] == "Rotation weekly does not exist."

    not_created = References(
        teams=refs.teams, rotations={"weekly": RotationInfo("weekly", None, False)}
    )
    still = reconcile_escalation_policy(client, META, SPEC, waiting.status, not_created, NOW)
    assert condition(still, "ReferencesResolved")["message"] == (
        "Rotation weekly is not in PagerDuty yet."
    )

    refs, rotation = with_rotation(client, refs)
    ready = reconcile_escalation_policy(client, META, SPEC, still.status, refs, NOW)
    assert ready.ready
    assert event_reasons(ready) == ["Created"]
    policy = client.get_escalation_policy(ready.status["pagerduty"]["id"])
    assert policy["name"] == "Product alerts"
    assert policy["num_loops"] == 2
    cto = client.find_user_by_email("cto@example.com")
    assert cto is not None
    assert [
        (rule["escalation_delay_in_minutes"], [t["id"] for t in rule["targets"]])
        for rule in policy["escalation_rules"]
    ] == [(15, [rotation.status["pagerduty"]["id"]]), (30, [cto["id"]])]
    assert [t["id"] for t in policy["teams"]] == [refs.teams["out-of-hours"].pagerduty_id]
    assert reasons(ready) == {
        "Ready": ("True", "Synced"),
        "Synced": ("True", "Synced"),
        "ReferencesResolved": ("True", "Resolved"),
    }


def test_waits_for_its_team(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    outcome = reconcile_escalation_policy(client, META, SPEC, {}, References(), NOW)
    assert emulator.requests() == []
    assert condition(outcome, "ReferencesResolved")["message"] == (
        "OnCallTeam out-of-hours (spec.teamRef) does not exist. Rotation weekly does not exist."
    )


def test_second_reconcile_writes_nothing(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    refs, first = create(client)
    emulator.clear_requests()
    again = reconcile_escalation_policy(client, META, SPEC, first.status, refs, NOW)
    assert writes(emulator) == []
    assert again.status == first.status
    assert again.events == []


def test_policy_deleted_in_pagerduty_is_made_again_and_its_new_id_stored(
    client: PagerDutyClient,
) -> None:
    refs, first = create(client)
    old_id = first.status["pagerduty"]["id"]
    client.delete_escalation_policy(old_id)
    again = reconcile_escalation_policy(client, META, SPEC, first.status, refs, NOW)
    assert again.ready
    new_id = again.status["pagerduty"]["id"]
    assert new_id != old_id
    assert client.get_escalation_policy(new_id)["name"] == "Product alerts"
    assert [(e.type, e.reason, e.message) for e in again.events] == [
        (
            "Warning",
            "Recreating",
            f"PagerDuty escalation policy {old_id} (status.pagerduty.id) was deleted in "
            "PagerDuty, not through Git; making it again.",
        ),
        ("Normal", "Created", f"Created PagerDuty escalation policy {new_id} (Product alerts)."),
    ]


def test_drift_by_hand_is_corrected(client: PagerDutyClient) -> None:
    refs, first = create(client)
    policy_id = first.status["pagerduty"]["id"]
    by_hand = client.get_escalation_policy(policy_id)
    by_hand["num_loops"] = 0
    by_hand["escalation_rules"] = by_hand["escalation_rules"][:1]
    client.update_escalation_policy(policy_id, by_hand)
    second = reconcile_escalation_policy(client, META, SPEC, first.status, refs, NOW)
    assert event_reasons(second) == ["DriftCorrected"]
    assert second.events[0].message == (
        f"PagerDuty escalation policy {policy_id} was changed by hand in PagerDuty; set it back "
        "to the spec: num_loops: PagerDuty has 0, the spec wants 2; escalation rules differ: "
        "PagerDuty has 1, the spec wants 2."
    )
    policy = client.get_escalation_policy(policy_id)
    assert policy["num_loops"] == 2
    assert len(policy["escalation_rules"]) == 2
    assert second.status == first.status


def test_crash_before_status_write_adopts_instead_of_duplicating(
    client: PagerDutyClient,
) -> None:
    refs, first = create(client)
    again = reconcile_escalation_policy(client, META, SPEC, {}, refs, NOW)
    assert again.status["pagerduty"] == first.status["pagerduty"]
    assert event_reasons(again) == ["Adopted"]
    assert len(client.find_escalation_policies("Product alerts")) == 1


def test_unknown_email_writes_nothing(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    refs, _ = with_rotation(client, team_only(client))
    spec = SPEC | {
        "rules": [{"escalateAfterMinutes": 5, "targets": [{"user": {"email": "zed@example.com"}}]}]
    }
    emulator.clear_requests()
    outcome = reconcile_escalation_policy(client, META, spec, {}, refs, NOW)
    assert writes(emulator) == []
    assert reasons(outcome)["Ready"] == ("False", "WaitingForReferences")
    assert reasons(outcome)["ReferencesResolved"] == ("False", "UnknownEmails")
    assert "zed@example.com" in condition(outcome, "Ready")["message"]


def test_rotation_in_use_is_deleted_after_the_policy(client: PagerDutyClient) -> None:
    refs, policy = create(client)
    rotation_status = {"pagerduty": {"id": refs.rotations["weekly"].pagerduty_id}}
    with pytest.raises(RetryLater) as retry:
        delete_rotation(client, ROTATION_META, ROTATION_SPEC, rotation_status)
    assert retry.value.delay > 0
    assert [e.reason for e in delete_escalation_policy(client, META, SPEC, policy.status)] == [
        "Deleted"
    ]
    with pytest.raises(NotFound):
        client.get_escalation_policy(policy.status["pagerduty"]["id"])
    assert [
        e.reason for e in delete_rotation(client, ROTATION_META, ROTATION_SPEC, rotation_status)
    ] == ["Deleted"]


def test_orphan_makes_no_pagerduty_call(client: PagerDutyClient, emulator: EmulatorServer) -> None:
    _, policy = create(client)
    emulator.clear_requests()
    events = delete_escalation_policy(
        client, META, SPEC | {"deletionPolicy": "Orphan"}, policy.status
    )
    assert [e.reason for e in events] == ["Orphaned"]
    assert emulator.requests() == []
