"""The operator never fights PagerDuty's Advanced Permissions side effects: users PagerDuty adds to
a team because they are in its schedules or policies stay, and a sweep at rest writes nothing."""

from __future__ import annotations

from typing import Any

from oncall_operator.pagerduty import PagerDutyClient
from oncall_operator.reconcile.escalation import reconcile_escalation_policy
from oncall_operator.reconcile.model import References, TeamInfo
from oncall_operator.reconcile.rotation import reconcile_rotation
from oncall_operator.reconcile.team import reconcile_team
from oncall_testbed.emulator import EmulatorServer
from tests.reconcile.helpers import NOW, event_reasons, meta, writes

TEAM: dict[str, Any] = {"members": [{"email": "ana@example.com"}]}
ROTATION: dict[str, Any] = {
    "teamRef": {"name": "team"},
    "timeZone": "Europe/Dublin",
    "layers": [
        {
            "name": "primary",
            # bo is no member of the team: PagerDuty adds him when the schedule is written.
            "participants": {"emails": ["ana@example.com", "bo@example.com"]},
            "shiftLength": "1w",
            "handoff": "2026-11-30T09:00",
        }
    ],
}
POLICY: dict[str, Any] = {
    "teamRef": {"name": "team"},
    "rules": [{"escalateAfterMinutes": 5, "targets": [{"user": {"email": "cto@example.com"}}]}],
}


def emails_of_members(client: PagerDutyClient, team_id: str) -> dict[str, str]:
    return {
        str(client.get_user(str(m["user"]["id"]))["email"]): str(m["role"])
        for m in client.list_team_members(team_id)
    }


def test_members_pagerduty_adds_are_kept_and_a_sweep_at_rest_writes_nothing(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team = reconcile_team(client, meta("OnCallTeam", "team"), TEAM, {}, NOW)
    team_id = team.status["pagerduty"]["id"]
    refs = References(teams={"team": TeamInfo("team", TEAM, team_id, True)})
    rotation = reconcile_rotation(client, meta("Rotation", "weekly"), ROTATION, {}, refs, NOW)
    policy = reconcile_escalation_policy(
        client, meta("EscalationPolicy", "alerts"), POLICY, {}, refs, NOW
    )
    assert rotation.ready and policy.ready
    assert emails_of_members(client, team_id) == {
        "ana@example.com": "responder",
        "bo@example.com": "responder",  # PagerDuty's doing
        "cto@example.com": "responder",  # PagerDuty's doing
    }
    emulator.clear_requests()
    for _ in range(2):  # two sweeps of all three
        again = reconcile_team(client, meta("OnCallTeam", "team"), TEAM, team.status, NOW)
        assert again.status == team.status and event_reasons(again) == []
        reconcile_rotation(client, meta("Rotation", "weekly"), ROTATION, rotation.status, refs, NOW)
        reconcile_escalation_policy(
            client, meta("EscalationPolicy", "alerts"), POLICY, policy.status, refs, NOW
        )
    assert writes(emulator) == []
    assert set(emails_of_members(client, team_id)) == {
        "ana@example.com",
        "bo@example.com",
        "cto@example.com",
    }


def test_someone_in_no_schedule_or_policy_of_the_team_is_still_removed(
    client: PagerDutyClient, emulator: EmulatorServer
) -> None:
    team = reconcile_team(client, meta("OnCallTeam", "team"), TEAM, {}, NOW)
    team_id = team.status["pagerduty"]["id"]
    refs = References(teams={"team": TeamInfo("team", TEAM, team_id, True)})
    reconcile_rotation(client, meta("Rotation", "weekly"), ROTATION, {}, refs, NOW)
    by_hand = client.find_user_by_email("gus@example.com")
    assert by_hand is not None
    client.set_team_member(team_id, str(by_hand["id"]), "responder")
    emulator.clear_requests()
    again = reconcile_team(client, meta("OnCallTeam", "team"), TEAM, team.status, NOW)
    assert event_reasons(again) == ["MembershipChanged"]
    assert writes(emulator) == [f"DELETE /teams/{team_id}/users/{by_hand['id']}"]
    assert set(emails_of_members(client, team_id)) == {"ana@example.com", "bo@example.com"}
