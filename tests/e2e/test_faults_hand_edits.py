"""Part of the fault matrix (issue 12 item 4): schedules and escalation policies edited or deleted
by hand in PagerDuty (through the emulator's REST API, as a person in the UI would), on the
control plane. Each is put back within one drift sweep, with an Event on the resource saying what
changed: DriftCorrected naming what PagerDuty had and what the spec wants, or Recreating naming
the deleted id (and Created the new one, which status.pagerduty.id then holds). Teams edited by
hand are tests/e2e/test_lifecycle.py::test_drift_by_hand_is_corrected's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.e2e import examples, many_teams
from tests.e2e.conftest import DRIFT_INTERVAL_SECONDS
from tests.e2e.kube import Manifest, Namespace, is_ready, wait_for
from tests.e2e.operator_run import OperatorProcess, assert_clean_log
from tests.e2e.pagerduty_view import PagerDutyView

pytestmark = [pytest.mark.controlplane, pytest.mark.e2e]

READY_WITHIN_SECONDS = 60.0
# One drift interval until the sweep reads PagerDuty again, one until the object's drift check
# comes due, plus a reconcile and this test's poll.
PUT_BACK_WITHIN_SECONDS = 3 * DRIFT_INTERVAL_SECONDS + 10


def one_team(namespace: Namespace) -> list[Manifest]:
    """A team of the bench's shape (rotations t0-business and t0-ooh, policy t0-alerts targeting
    both and a person), and a rotation t0-spare that no policy uses (PagerDuty refuses to delete
    a schedule a policy uses, so only such a schedule can be deleted by hand)."""
    manifests = many_teams.teams(1, namespace.name)
    spare = copy.deepcopy(examples.named(manifests, "Rotation", "t0-business"))
    spare["metadata"]["name"] = "t0-spare"
    spare["spec"]["displayName"] = f"{namespace.name} t0-spare"
    return [*manifests, spare]


def pagerduty_id(namespace: Namespace, kind: str, name: str) -> str:
    return str(namespace.get(kind, name)["status"]["pagerduty"]["id"])


def rules_of(policy: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """Each rule's delay and target ids (PagerDuty gives rules new ids when a policy is put)."""
    return [
        (rule["escalation_delay_in_minutes"], [str(t["id"]) for t in rule["targets"]])
        for rule in policy["escalation_rules"]
    ]


def event_saying(namespace: Namespace, name: str, reason: str, *parts: str) -> str:
    """The message of the `reason` Event on `name` that contains every one of `parts`."""

    def found() -> str | None:
        for event in namespace.events(name):
            if event["reason"] == reason and all(p in (event["message"] or "") for p in parts):
                return str(event["message"])
        return None

    try:
        return wait_for(f"a {reason} Event on {name} saying {parts}", found, within=10)
    except AssertionError:
        seen = [(e["reason"], e["message"]) for e in namespace.events(name)]
        raise AssertionError(f"no {reason} Event on {name} saying {parts}; seen: {seen}") from None


def test_schedule_and_policy_edited_by_hand_are_set_back_and_said(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    manifests = one_team(namespace)
    namespace.create(manifests)
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    schedule_id = pagerduty_id(namespace, "Rotation", "t0-business")
    policy_id = pagerduty_id(namespace, "EscalationPolicy", "t0-alerts")
    schedule_name = pagerduty.get("Rotation", schedule_id)["name"]
    policy_before = pagerduty.get("EscalationPolicy", policy_id)
    team_members = set(pagerduty.members(pagerduty_id(namespace, "OnCallTeam", "t0")))
    escalates_to = pagerduty.email(policy_before["escalation_rules"][1]["targets"][0]["id"])
    someone_else = next(
        u["email"] for u in examples.users() if u["email"] not in team_members | {escalates_to}
    )

    # Someone in PagerDuty's UI renames the schedule, shortens the policy's first delay and
    # makes its second rule page someone else.
    schedule = pagerduty.get("Rotation", schedule_id)
    pagerduty.put("Rotation", schedule_id, {**schedule, "name": "Renamed by hand"})
    # ...and puts someone else alone on the other rotation's layer.
    ooh_id = pagerduty_id(namespace, "Rotation", "t0-ooh")
    ooh = pagerduty.get("Rotation", ooh_id)
    (layer,) = [layer for layer in ooh["schedule_layers"] if not layer.get("end")]
    ooh_users = [pagerduty.email(u["user"]["id"]) for u in layer["users"]]
    layer["users"] = [{"user": {"id": pagerduty.user_id(someone_else), "type": "user_reference"}}]
    pagerduty.put("Rotation", ooh_id, ooh)
    by_hand = copy.deepcopy(policy_before)
    by_hand["escalation_rules"][0]["escalation_delay_in_minutes"] = 5
    by_hand["escalation_rules"][1]["targets"] = [
        {"id": pagerduty.user_id(someone_else), "type": "user_reference"}
    ]
    pagerduty.put("EscalationPolicy", policy_id, by_hand)

    wait_for(
        "the schedule's name put back",
        lambda: pagerduty.get("Rotation", schedule_id)["name"] == schedule_name,
        within=PUT_BACK_WITHIN_SECONDS,
    )
    wait_for(
        "the policy's rules put back",
        lambda: rules_of(pagerduty.get("EscalationPolicy", policy_id)) == rules_of(policy_before),
        within=PUT_BACK_WITHIN_SECONDS,
    )
    event_saying(
        namespace,
        "t0-business",
        "DriftCorrected",
        f"PagerDuty schedule {schedule_id} was changed by hand in PagerDuty",
        f'name: PagerDuty has "Renamed by hand", the spec wants "{schedule_name}"',
    )
    # Who is on call by hand stays so until the layer's next handoff (the spec's NextHandoff);
    # from then on the spec's people take turns again.
    wait_for(
        "the spec's people on t0-ooh's layer from its next handoff",
        lambda: (
            [
                pagerduty.email(u["user"]["id"])
                for u in pagerduty.get("Rotation", ooh_id)["schedule_layers"][-1]["users"]
            ]
            == ooh_users
        ),
        within=PUT_BACK_WITHIN_SECONDS,
    )
    event_saying(
        namespace,
        "t0-ooh",
        "DriftCorrected",
        f"PagerDuty schedule {ooh_id} was changed by hand in PagerDuty",
        f"layer primary: users: PagerDuty has [{someone_else}], the spec wants "
        f"[{', '.join(ooh_users)}] from its next handoff",
    )
    event_saying(
        namespace,
        "t0-alerts",
        "DriftCorrected",
        f"PagerDuty escalation policy {policy_id} was changed by hand in PagerDuty",
        "rule 1: escalation delay: PagerDuty has 5 min, the spec wants 15 min",
        f"rule 2: targets: PagerDuty has [user {someone_else}], the spec wants "
        f"[user {escalates_to}]",
    )
    pagerduty.assert_one_each(namespace.name, manifests)
    assert all(is_ready(obj) for obj in namespace.all())
    assert_clean_log(operator, pagerduty_token)


def test_schedule_and_policy_deleted_by_hand_are_made_again_and_said(
    operator: OperatorProcess, namespace: Namespace, pagerduty: PagerDutyView, pagerduty_token: str
) -> None:
    manifests = one_team(namespace)
    namespace.create(manifests)
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    deleted = {
        ("Rotation", "t0-spare"): pagerduty_id(namespace, "Rotation", "t0-spare"),
        ("EscalationPolicy", "t0-alerts"): pagerduty_id(namespace, "EscalationPolicy", "t0-alerts"),
    }
    for (kind, _), old_id in deleted.items():
        pagerduty.delete(kind, old_id)

    label = {"Rotation": "schedule", "EscalationPolicy": "escalation policy"}
    for (kind, name), old_id in deleted.items():
        new_id = wait_for(
            f"{kind} {name} made again, its new id in status",
            lambda kind=kind, name=name, old_id=old_id: (
                (found := pagerduty_id(namespace, kind, name)) != old_id and found
            ),
            within=PUT_BACK_WITHIN_SECONDS,
        )
        assert pagerduty.exists(kind, new_id)
        assert not pagerduty.exists(kind, old_id)
        event_saying(
            namespace,
            name,
            "Recreating",
            f"PagerDuty {label[kind]} {old_id} (status.pagerduty.id) was deleted in PagerDuty",
        )
        event_saying(namespace, name, "Created", f"Created PagerDuty {label[kind]} {new_id}")
    namespace.wait_all_ready(READY_WITHIN_SECONDS)
    pagerduty.assert_one_each(namespace.name, manifests)
    assert_clean_log(operator, pagerduty_token)
