"""One owner per PagerDuty object: a resource that adopts or finds another resource's object is
refused with Ready=False OwnedElsewhere naming the owner, writes nothing, and its deletion never
touches the other's object."""

from __future__ import annotations

from typing import Any

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.escalation import (
    delete_escalation_policy,
    reconcile_escalation_policy,
)
from oncall_operator.reconcile.model import References
from oncall_operator.reconcile.rotation import delete_rotation, reconcile_rotation
from oncall_operator.reconcile.team import delete_team, reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NOW, condition, event_reasons, meta, writes

TEAM: dict[str, Any] = {"members": [{"email": "ana@example.com"}]}
ROTATION: dict[str, Any] = {
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            "participants": {"emails": ["ana@example.com", "bo@example.com"]},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00",
        }
    ],
}
POLICY: dict[str, Any] = {
    "rules": [{"escalateAfterMinutes": 5, "targets": [{"user": {"email": "cto@example.com"}}]}]
}


def adopting(spec: dict[str, Any], pagerduty_id: str) -> dict[str, Any]:
    return {**spec, "pagerduty": {"id": pagerduty_id}}


def assert_owned_elsewhere(status: dict[str, Any], owner: str) -> None:
    ready = condition(status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "OwnedElsewhere")
    assert owner in ready["message"], ready["message"]
    assert "pagerduty" not in status, "the other's id must not become this resource's"


def test_adopting_a_team_another_resource_manages_is_refused(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = reconcile_team(client, meta("OnCallTeam", "first"), TEAM, {}, NOW)
    team_id = first.status["pagerduty"]["id"]
    emulator.clear_requests()
    second = reconcile_team(client, meta("OnCallTeam", "second"), adopting(TEAM, team_id), {}, NOW)
    assert_owned_elsewhere(second.status, "oncall/OnCallTeam/first")
    assert writes(emulator) == []
    assert event_reasons(second) == ["Failed"]
    # Deleting the refused resource never deletes the owner's team.
    delete_team(client, meta("OnCallTeam", "second"), adopting(TEAM, team_id), second.status)
    assert client.get_team(team_id)["id"] == team_id
    assert writes(emulator) == []


def test_a_refused_resource_whose_status_held_the_id_drops_it_and_deletes_nothing(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = reconcile_rotation(client, meta("Rotation", "first"), ROTATION, {}, References(), NOW)
    schedule_id = first.status["pagerduty"]["id"]
    # A second resource that (before this guard existed) recorded the same schedule as its own.
    stale = {"pagerduty": {"id": schedule_id}}
    emulator.clear_requests()
    second = reconcile_rotation(
        client, meta("Rotation", "second"), ROTATION, stale, References(), NOW
    )
    assert_owned_elsewhere(second.status, "oncall/Rotation/first")
    assert writes(emulator) == []
    events = delete_rotation(client, meta("Rotation", "second"), ROTATION, stale)
    assert [e.reason for e in events] == ["Orphaned"]
    assert "owned by oncall/Rotation/first" in events[0].message
    assert client.get_schedule(schedule_id)["id"] == schedule_id
    assert writes(emulator) == []


def test_a_claim_in_another_resources_status_refuses_an_unmarked_object(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    """Adopted but not yet marked (say, the owner is paused): its status claim is enough."""
    user = client.find_user_by_email("cto@example.com")
    assert user is not None
    made_by_hand = client.create_escalation_policy(
        {
            "type": "escalation_policy",
            "name": "By hand",
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": 5,
                    "targets": [{"type": "user_reference", "id": user["id"]}],
                }
            ],
        }
    )
    policy_id = str(made_by_hand["id"])
    claims = {policy_id: ["other-ns/EscalationPolicy/owner", "oncall/Rotation/unrelated"]}
    emulator.clear_requests()
    outcome = reconcile_escalation_policy(
        client,
        meta("EscalationPolicy", "late"),
        adopting(POLICY, policy_id),
        {},
        References(claims=claims),
        NOW,
    )
    assert_owned_elsewhere(outcome.status, "other-ns/EscalationPolicy/owner")
    assert writes(emulator) == []


def test_own_claim_and_claims_of_other_kinds_do_not_refuse(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    made = reconcile_escalation_policy(
        client, meta("EscalationPolicy", "mine"), POLICY, {}, References(), NOW
    )
    policy_id = made.status["pagerduty"]["id"]
    claims = {policy_id: ["oncall/EscalationPolicy/mine", "oncall/Rotation/same-id-other-kind"]}
    again = reconcile_escalation_policy(
        client,
        meta("EscalationPolicy", "mine"),
        POLICY,
        made.status,
        References(claims=claims),
        NOW,
    )
    assert again.ready, again.status
    assert again.status == made.status


def test_after_the_owner_is_gone_the_adopter_takes_over(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    first = reconcile_escalation_policy(
        client,
        meta("EscalationPolicy", "first"),
        {**POLICY, "deletionPolicy": "Orphan"},
        {},
        References(),
        NOW,
    )
    policy_id = first.status["pagerduty"]["id"]
    spec = adopting(POLICY, policy_id)
    refused = reconcile_escalation_policy(
        client, meta("EscalationPolicy", "second"), spec, {}, References(), NOW
    )
    assert condition(refused.status, "Ready")["reason"] == "OwnedElsewhere"
    # The owner is deleted with deletionPolicy Orphan; whoever clears its marker hands it over.
    delete_escalation_policy(
        client, meta("EscalationPolicy", "first"), {**POLICY, "deletionPolicy": "Orphan"}, {}
    )
    handed_over = client.get_escalation_policy(policy_id)
    handed_over["description"] = "handed over"
    client.update_escalation_policy(policy_id, handed_over)
    taken = reconcile_escalation_policy(
        client, meta("EscalationPolicy", "second"), spec, refused.status, References(), NOW
    )
    assert taken.ready, taken.status
    assert taken.status["pagerduty"]["id"] == policy_id
    assert (
        "oncall/EscalationPolicy/second" in client.get_escalation_policy(policy_id)["description"]
    )
